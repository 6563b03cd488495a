/**
 * `waitForBatch`: wait for a Batch with the same deadline, abort and backoff rules as
 * `waitForResponse`, then report every line of its output and error files with its catalog code.
 * A batch that `completed` with every line failed is reported as such, not as a success.
 */
import type { FailureCode } from '../core/catalog.ts';
import { detectFailure } from '../core/classify/index.ts';
import { assertSucceeded, toError, type FaultlineError } from '../core/errors.ts';
import type { Failure } from '../core/failure.ts';
import { cancelOnAbort, type CancellableSource } from './cancel.ts';
import { NOW, runLoop, Wakeup, type Step, type WaitOutcome } from './loop.ts';
import { fn, misuse, oneOf } from '../internal/options.ts';
import { makeError, resolveOptions, WAIT_RENAMED, type Resolved, type WaitOptions } from './options.ts';
import { pollDelay } from './poll-backoff.ts';
import { noteWait, observeWait, telemetry } from '../internal/telemetry.ts';
import type { BatchesClient, CallOptions } from './types.ts';

/** Options of {@link waitForBatch}. */
export interface BatchWaitOptions
  extends Pick<
    WaitOptions,
    'timeoutMs' | 'deadline' | 'signal' | 'abort' | 'maxTransientErrors' | 'requestTimeoutMs' | 'clock' | 'random' | 'minDelayMs' | 'maxDelayMs' | 'ageFactor' | 'jitter'
  > {
  /** Called with every batch snapshot polled. */
  onProgress?: (batch: BatchLike) => void;
  /**
   * What a batch that `failed`, `expired` or was `cancelled`, or completed with every line failed, does:
   * `'throw'` its typed error (the report stays on the error: {@link batchReportOf}), or `'return'` the
   * report with its `error`.
   * @default 'throw'
   */
  failure?: 'throw' | 'return';
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
    throw misuse('type', OWNER, '#client', 'an OpenAI client (with client.batches.retrieve and client.files.content)', client);
  }
}

const OWNER = 'waitForBatch';
/** The wait options' renamed keys, and this one's own. */
const BATCH_RENAMED: Readonly<Record<string, string>> = Object.freeze({ ...WAIT_RENAMED, throwOnFailure: 'failure (0.2.0)' });

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

/** The batch {@link JobSource}: polls `batches.retrieve`; after a cancel, keeps polling at the same pace. */
class BatchSource implements CancellableSource<BatchLike> {
  readonly what = 'Batch';
  readonly wakeup: Wakeup;
  readonly id: string;
  seen = false;
  last: BatchLike | undefined;
  status = 'unknown';
  readonly #client: BatchesClient;
  readonly #r: Resolved;
  readonly #onProgress: ((batch: BatchLike) => void) | undefined;
  #cancelling = false;

  constructor(client: BatchesClient, id: string, r: Resolved, onProgress: ((batch: BatchLike) => void) | undefined) {
    this.#client = client;
    this.id = id;
    this.#r = r;
    this.#onProgress = onProgress;
    this.wakeup = new Wakeup(() => !this.#cancelling && r.signal?.aborted === true);
  }

  #call(signal?: AbortSignal): CallOptions {
    const timeout = Math.max(1, Math.min(this.#r.requestTimeoutMs, this.#r.deadlineAt - this.#r.clock.now()));
    return signal === undefined ? { maxRetries: 0, timeout } : { signal, maxRetries: 0, timeout };
  }

  startCancel(): Wakeup {
    this.#cancelling = true;
    return this.wakeup;
  }

  cancel(): PromiseLike<unknown> {
    return (this.#client.batches.cancel as NonNullable<BatchesClient['batches']['cancel']>)(this.id, this.#call());
  }

  async step(wakeup: Wakeup): Promise<Step<BatchLike>> {
    const wake = wakeup.next();
    const { clock } = this.#r;
    let got: BatchLike;
    try {
      got = (await this.#client.batches.retrieve(this.id, this.#call(wake))) as BatchLike;
      if (typeof got?.status !== 'string') throw makeError('unknown', 'A poll returned something that is not a Batch object.', { objectId: this.id });
    } catch (error) {
      if (wake.aborted && this.#r.signal?.aborted === true) return NOW;
      return { kind: 'error', error };
    }
    this.last = got;
    this.status = got.status as string;
    if (telemetry.active) noteWait({ source: 'poll', status: this.status });
    this.seen = true;
    this.#onProgress?.(got);
    if (TERMINAL.has(this.status)) return { kind: 'terminal', value: got };
    const age = typeof got.created_at === 'number' ? clock.now() - got.created_at * 1000 : clock.now() - this.#r.startedAt;
    return { kind: 'again', delayMs: pollDelay(this.#r.policy, age, this.#r.random()), healthy: true };
  }
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

/** Every key of {@link BatchWaitOptions}: the wait options it picks, and its own. */
const BATCH_KEYS: ReadonlySet<string> = new Set(
  Object.keys({
    timeoutMs: true, deadline: true, signal: true, abort: true, maxTransientErrors: true, requestTimeoutMs: true, clock: true, random: true,
    minDelayMs: true, maxDelayMs: true, ageFactor: true, jitter: true, onProgress: true, failure: true, readLines: true,
  } satisfies Record<keyof BatchWaitOptions, true>),
);

async function waitForBatchNow(client: BatchesClient, id: string, options: BatchWaitOptions): Promise<BatchReport> {
  assertClient(client);
  if (typeof id !== 'string' || id === '') throw misuse('type', OWNER, '#id', 'a non-empty batch id', id);
  const r = resolveOptions(options as WaitOptions, undefined, OWNER, BATCH_RENAMED, BATCH_KEYS);
  const throwOnFailure = oneOf(OWNER, 'failure', options.failure, ['throw', 'return'] as const, 'throw') === 'throw';
  const readLines = oneOf(OWNER, 'readLines', options.readLines, [true, false], true);
  fn(OWNER, 'onProgress', options.onProgress);
  const { clock } = r;
  const source = new BatchSource(client, id, r, options.onProgress);
  const ring = (): void => source.wakeup.ring();
  r.signal?.addEventListener('abort', ring);
  let outcome: WaitOutcome<BatchLike>;
  try {
    outcome = await runLoop(source, r, source.wakeup);
    // Cancel, then keep polling until the batch settles (a cancelling batch can still complete).
    if (outcome.kind === 'aborted' && r.abort === 'cancel' && typeof client.batches.cancel === 'function') outcome = await cancelOnAbort(source, r);
  } finally {
    r.signal?.removeEventListener('abort', ring);
  }
  if (outcome.kind === 'aborted') throw makeError('aborted', `Stopped waiting for batch ${id}: detached, it keeps running on the server.`, { cause: outcome.reason, objectId: id });
  if (outcome.kind === 'deadline') throw makeError('timeout', `Gave up waiting for batch ${id} (deadline reached); it was still ${source.status} and keeps running on the server.`, { objectId: id });
  if (outcome.kind === 'failed' || outcome.kind === 'transient') throw outcome.error;
  if (outcome.kind !== 'result' && outcome.kind !== 'followed') throw makeError('unknown', `Waiting for batch ${id} ended without its result.`, { objectId: id });
  const batch = outcome.value;

  const lines: BatchLineReport[] = [];
  if (readLines) {
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
