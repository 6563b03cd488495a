/**
 * `waitForBatch`: wait for a Batch with the same deadline, abort and backoff rules as
 * `waitForResponse`, then report every line of its output and error files with its catalog code.
 * A batch that `completed` with every line failed is reported as such, not as a success.
 */
import type { FailureCode } from '../core/catalog.ts';
import { detectFailure } from '../core/classify/index.ts';
import { assertSucceeded, toError, type FaultlineError } from '../core/errors.ts';
import type { Failure } from '../core/failure.ts';
import { pollDelay } from './poll-backoff.ts';
import type { BatchesClient, CallOptions } from './types.ts';
import { afterPollError, makeError, resolveOptions, type WaitOptions } from './wait.ts';
import { noteWait, observeWait, telemetry } from '../internal/telemetry.ts';

/** Options of {@link waitForBatch}. */
export interface BatchWaitOptions
  extends Pick<
    WaitOptions,
    'timeoutMs' | 'deadline' | 'signal' | 'onAbort' | 'maxTransientErrors' | 'requestTimeoutMs' | 'now' | 'sleep' | 'random' | 'minDelayMs' | 'maxDelayMs' | 'ageFactor' | 'jitter'
  > {
  /** Called with every batch snapshot polled. */
  onProgress?: (batch: BatchLike) => void;
  /**
   * Reject with the typed error when the batch `failed`, `expired` or was `cancelled`, or completed with
   * every line failed (the report stays on the error: {@link batchReportOf}). `false` resolves with the
   * report and its `error` instead.
   * @default true
   */
  throwOnFailure?: boolean;
  /**
   * Download and classify the output and error files.
   * @default true
   */
  readLines?: boolean;
}

/** The part of a Batch object read here. */
export interface BatchLike {
  readonly id: string;
  readonly status?: string;
  readonly created_at?: number;
  readonly output_file_id?: string | null;
  readonly error_file_id?: string | null;
  readonly request_counts?: { readonly total?: number; readonly completed?: number; readonly failed?: number } | null;
}

/** One line of the batch's output or error file. */
export interface BatchLineReport {
  readonly customId: string | undefined;
  readonly ok: boolean;
  /** The catalog code of a failed line. */
  readonly code?: FailureCode;
  readonly failure?: Failure;
  /** The line's HTTP status (`response.status_code`), when it has one. */
  readonly statusCode?: number;
  /** The line as parsed. */
  readonly line: unknown;
}

/** The result of {@link waitForBatch}. */
export interface BatchReport {
  readonly batch: BatchLike;
  readonly status: string;
  readonly lines: readonly BatchLineReport[];
  readonly counts: { readonly total: number; readonly succeeded: number; readonly failed: number; readonly byCode: Readonly<Partial<Record<FailureCode, number>>> };
  /** True when there were lines and every one failed. */
  readonly allFailed: boolean;
  /** The batch's own typed error (failed/expired/cancelled, or completed with every line failed). */
  readonly error?: FaultlineError;
}

const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);
const reports = new WeakMap<object, BatchReport>();

/** The report attached to an error thrown by {@link waitForBatch}, with the partial lines. */
export function batchReportOf(error: unknown): BatchReport | undefined {
  return typeof error === 'object' && error !== null ? reports.get(error) : undefined;
}

function assertClient(client: unknown): asserts client is BatchesClient {
  const c = client as { batches?: { retrieve?: unknown }; files?: { content?: unknown } } | null;
  if (typeof c?.batches?.retrieve !== 'function' || typeof c.files?.content !== 'function') {
    throw new TypeError('waitForBatch: `client` must be an OpenAI client (with client.batches.retrieve and client.files.content)');
  }
}

async function readFile(client: BatchesClient, fileId: string, call: CallOptions): Promise<string> {
  const content = (await client.files.content(fileId, call)) as { text?: () => Promise<string> } | string;
  if (typeof content === 'string') return content;
  if (typeof content?.text === 'function') return content.text();
  throw makeError('unknown', `files.content(${fileId}) returned neither text nor a fetch Response.`, {});
}

function lineReport(line: unknown): BatchLineReport {
  const customId = (line as { custom_id?: unknown }).custom_id;
  const statusCode = (line as { response?: { status_code?: unknown } | null }).response?.status_code;
  const failure = detectFailure(line);
  return {
    customId: typeof customId === 'string' ? customId : undefined,
    ok: failure === null,
    line,
    ...(typeof statusCode === 'number' ? { statusCode } : {}),
    ...(failure !== null ? { code: failure.code, failure } : {}),
  };
}

/**
 * Wait for a batch to reach `completed`, `failed`, `expired` or `cancelled`, then classify each line.
 * @example
 * const report = await waitForBatch(client, batch.id, { timeoutMs: 24 * 3600_000 });
 * for (const l of report.lines) if (!l.ok) console.log(l.customId, l.code);
 */
export function waitForBatch(client: BatchesClient, id: string, options: BatchWaitOptions): Promise<BatchReport> {
  return observeWait({ operation: 'waitForBatch', kind: 'batch', target: id }, () => waitForBatchNow(client, id, options));
}

async function waitForBatchNow(client: BatchesClient, id: string, options: BatchWaitOptions): Promise<BatchReport> {
  assertClient(client);
  if (typeof id !== 'string' || id === '') throw new TypeError('waitForBatch: `id` must be a non-empty batch id');
  const r = resolveOptions(options as WaitOptions, undefined, 'waitForBatch');
  const throwOnFailure = options.throwOnFailure ?? true;
  const { clock } = r;
  let seen = false;
  let transient = 0;
  let cancelled = false;
  let batch: BatchLike | undefined;
  let status = 'unknown';
  for (;;) {
    if (r.signal?.aborted === true && !cancelled) {
      if (r.onAbort === 'detach' || typeof client.batches.cancel !== 'function') {
        throw makeError('aborted', `Stopped waiting for batch ${id}: detached, it keeps running on the server.`, { cause: r.signal.reason, objectId: id });
      }
      // Cancel, then keep polling until the batch settles (a cancelling batch can still complete).
      cancelled = true;
      try {
        await client.batches.cancel(id, { maxRetries: 0, timeout: Math.max(1, Math.min(r.requestTimeoutMs, r.deadlineAt - clock.now())) });
      } catch {
        // Already terminal, or a blip: the polls below tell the truth.
      }
    }
    if (clock.now() >= r.deadlineAt) {
      throw makeError('timeout', `Gave up waiting for batch ${id} (deadline reached); it was still ${status} and keeps running on the server.`, { objectId: id });
    }
    let delay: number;
    const wake = new AbortController();
    const onAbort = (): void => wake.abort();
    if (!cancelled) r.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const got = (await client.batches.retrieve(id, { signal: wake.signal, maxRetries: 0, timeout: Math.max(1, Math.min(r.requestTimeoutMs, r.deadlineAt - clock.now())) })) as BatchLike;
      if (typeof got?.status !== 'string') throw makeError('unknown', 'A poll returned something that is not a Batch object.', { objectId: id });
      batch = got;
      if (telemetry.active) noteWait({ source: 'poll', status: got.status });
      status = got.status;
      seen = true;
      transient = 0;
      options.onProgress?.(got);
      if (TERMINAL.has(got.status)) break;
      const age = typeof got.created_at === 'number' ? clock.now() - got.created_at * 1000 : clock.now() - r.startedAt;
      delay = pollDelay(r.policy, age, r.random());
    } catch (error) {
      if (wake.signal.aborted && r.signal?.aborted === true) continue;
      delay = afterPollError(error, r, { seen, id, what: 'Batch', attempt: ++transient });
    } finally {
      r.signal?.removeEventListener('abort', onAbort);
    }
    const sleepSignal = cancelled ? undefined : r.signal;
    await clock.sleep(Math.max(0, Math.min(delay, r.deadlineAt - clock.now())), sleepSignal);
  }

  const lines: BatchLineReport[] = [];
  if (options.readLines !== false) {
    const call = { maxRetries: 0, timeout: Math.max(1, Math.min(r.requestTimeoutMs, r.deadlineAt - clock.now())) };
    for (const fileId of [batch.output_file_id, batch.error_file_id]) {
      if (typeof fileId !== 'string' || fileId === '') continue;
      let text: string;
      try {
        text = await readFile(client, fileId, call);
      } catch (error) {
        throw toError(error);
      }
      for (const raw of text.split('\n')) {
        if (raw.trim() === '') continue;
        let line: unknown;
        try {
          line = JSON.parse(raw);
        } catch {
          line = raw; // a corrupt line is still reported (classified as unknown), never dropped
        }
        lines.push(lineReport(line));
      }
    }
  }
  const byCode: Partial<Record<FailureCode, number>> = {};
  let failed = 0;
  for (const l of lines) {
    if (l.ok || l.code === undefined) continue;
    failed++;
    byCode[l.code] = (byCode[l.code] ?? 0) + 1;
  }
  const allFailed = lines.length > 0 && failed === lines.length;
  let error: FaultlineError | undefined;
  try {
    assertSucceeded(batch);
  } catch (e) {
    error = toError(e);
  }
  if (allFailed && batch.status === 'completed') {
    // The batch object alone only says "all failed"; the lines say why: use the most common code.
    const [code] = Object.entries(byCode).sort((a, b) => b[1] - a[1])[0] as [FailureCode, number];
    const example = lines.find((l) => l.code === code)?.failure?.message ?? '';
    error = makeError(code, `Batch ${id} completed, but all ${lines.length} requests failed (most often ${code}: ${example}).`, { response: batch, objectId: id });
  }
  const report: BatchReport = {
    batch,
    status: batch.status ?? 'unknown',
    lines,
    counts: { total: lines.length, succeeded: lines.length - failed, failed, byCode },
    allFailed,
    ...(error !== undefined ? { error } : {}),
  };
  if (error !== undefined && throwOnFailure) {
    reports.set(error, report);
    throw error;
  }
  return report;
}
