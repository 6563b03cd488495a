/**
 * A small scripted stand-in for `new OpenAI(...)`'s Responses API, driven by a {@link ManualClock}.
 * Jobs move queued → in_progress → terminal on the virtual clock; streams emit numbered events as time
 * passes; faults (errors before a poll, dropped streams, 404 after retention, cancel races) are scripted.
 * Errors are the real `openai` SDK error classes, so the classifier sees what it sees in production.
 */
import { APIConnectionError, APIUserAbortError, BadRequestError, InternalServerError, NotFoundError, RateLimitError } from 'openai';
import assert from 'node:assert/strict';
import type { JobOutcome, Journal, ResumeReport } from '../../src/journal/index.ts';
import type { ManualClock } from '../../src/mock/index.ts';

export interface JobScript {
  /** Time in `queued`, ms. */
  queuedMs?: number;
  /** Total time until terminal, ms. */
  durationMs?: number;
  final?: 'completed' | 'failed' | 'incomplete' | 'cancelled';
  error?: { code: string; message: string } | null;
  incompleteReason?: string;
  /** Output text deltas emitted between in_progress and the end. */
  deltas?: number;
  /** Drop the stream (connection error) right after emitting these sequence numbers, once each. */
  dropAfter?: number[];
  /**
   * Azure's pair: the stream's `response.failed` carries `error: null` and the cause follows in an
   * `error` event (the stored Response keeps `error: null`).
   */
  azureCause?: { code: string; message: string };
  /** The stream answers with an `error` event ("can no longer be streamed") instead of events. */
  unstreamable?: boolean;
  /** A cancel reports `cancelled`, but the job completes anyway (the race). */
  cancelLosesRace?: boolean;
  /** Gone (404) from this many ms after terminal. */
  retentionMs?: number;
}

interface Job {
  id: string;
  createdAt: number;
  script: Required<Omit<JobScript, 'error' | 'incompleteReason' | 'retentionMs' | 'azureCause'>> & JobScript;
  body: Record<string, unknown>;
  cancelledAt?: number;
  dropped: Set<number>;
}

type CallOpts = { signal?: AbortSignal; timeout?: number; maxRetries?: number } | undefined;

export class FakeResponses {
  readonly #clock: ManualClock;
  readonly jobs = new Map<string, Job>();
  /** Errors thrown by the next polls (non-stream retrieves), in order. */
  readonly pollFaults: unknown[] = [];
  /** Default script for created jobs. */
  defaults: JobScript = {};
  readonly calls = { create: 0, retrieve: 0, stream: 0, cancel: 0 };
  /** Polls and stream opens per id. */
  readonly requestsById = new Map<string, number>();
  /** Every option bag received, for asserting maxRetries/signal/timeout. */
  readonly options: CallOpts[] = [];
  #n = 0;

  constructor(clock: ManualClock) {
    this.#clock = clock;
  }

  /** Add a job as if it had been created at `createdAt` (default: now). */
  add(script: JobScript = {}, body: Record<string, unknown> = {}, createdAt = this.#clock.now()): string {
    const id = `resp_${String(++this.#n).padStart(4, '0')}`;
    const s = { ...this.defaults, ...script };
    this.jobs.set(id, {
      id,
      createdAt,
      body,
      dropped: new Set(),
      script: {
        queuedMs: 1000,
        durationMs: 10_000,
        final: 'completed',
        deltas: 3,
        dropAfter: [],
        unstreamable: false,
        cancelLosesRace: false,
        ...s,
      },
    });
    return id;
  }

  #job(id: string): Job {
    const job = this.jobs.get(id);
    if (job === undefined) throw new NotFoundError(404, { message: `Response with id '${id}' not found.`, type: 'invalid_request_error' }, undefined, new Headers());
    const s = job.script;
    const end = this.#end(job);
    if (s.retentionMs !== undefined && this.#clock.now() >= end + s.retentionMs) {
      throw new NotFoundError(404, { message: `Response with id '${id}' not found.`, type: 'invalid_request_error' }, undefined, new Headers());
    }
    return job;
  }

  #end(job: Job): number {
    const natural = job.createdAt + job.script.durationMs;
    if (job.cancelledAt !== undefined && !job.script.cancelLosesRace) return Math.min(natural, job.cancelledAt);
    return natural;
  }

  #finalStatus(job: Job): string {
    if (job.cancelledAt !== undefined && !job.script.cancelLosesRace && job.cancelledAt < job.createdAt + job.script.durationMs) return 'cancelled';
    return job.script.final;
  }

  snapshot(id: string, at = this.#clock.now()): Record<string, unknown> {
    const job = this.jobs.get(id) as Job;
    const s = job.script;
    const base: Record<string, unknown> = {
      id,
      object: 'response',
      created_at: Math.floor(job.createdAt / 1000),
      background: true,
      metadata: (job.body['metadata'] as Record<string, string> | undefined) ?? {},
      output: [],
      error: null,
      incomplete_details: null,
    };
    if (at < job.createdAt + s.queuedMs && at < this.#end(job)) return { ...base, status: 'queued' };
    if (at < this.#end(job)) return { ...base, status: 'in_progress' };
    const status = this.#finalStatus(job);
    const out: Record<string, unknown> = { ...base, status, output: [{ type: 'message', content: [{ type: 'output_text', text: 'partial or full output' }] }] };
    if (status === 'failed') out['error'] = s.error === undefined ? { code: 'server_error', message: 'The model failed.' } : s.error;
    if (status === 'incomplete') out['incomplete_details'] = { reason: s.incompleteReason ?? 'max_output_tokens' };
    return out;
  }

  /** The events of a job with the time each is emitted. */
  events(id: string): { at: number; event: Record<string, unknown> }[] {
    const job = this.jobs.get(id) as Job;
    const s = job.script;
    const end = this.#end(job);
    const out: { at: number; event: Record<string, unknown> }[] = [];
    let seq = 0;
    out.push({ at: job.createdAt, event: { type: 'response.created', sequence_number: seq++, response: this.snapshot(id, job.createdAt) } });
    const startAt = Math.min(job.createdAt + s.queuedMs, end);
    if (startAt < end) out.push({ at: startAt, event: { type: 'response.in_progress', sequence_number: seq++, response: this.snapshot(id, startAt) } });
    for (let i = 0; i < s.deltas; i++) {
      const at = startAt + ((end - startAt) * (i + 1)) / (s.deltas + 1);
      if (at >= end) break;
      out.push({ at, event: { type: 'response.output_text.delta', sequence_number: seq++, delta: `d${i}`, item_id: 'msg_1', output_index: 0, content_index: 0 } });
    }
    const final = this.snapshot(id, end);
    if (s.azureCause !== undefined && final['status'] === 'failed') {
      out.push({ at: end, event: { type: 'response.failed', sequence_number: seq++, response: { ...final, error: null } } });
      out.push({ at: end, event: { type: 'error', sequence_number: seq++, ...s.azureCause } });
      return out;
    }
    out.push({ at: end, event: { type: `response.${String(final['status'])}`, sequence_number: seq++, response: final } });
    return out;
  }

  async *#stream(id: string, after: number | undefined, signal: AbortSignal | undefined): AsyncGenerator<Record<string, unknown>> {
    const job = this.jobs.get(id) as Job;
    if (job.script.unstreamable) {
      yield { type: 'error', code: 'stream_unavailable', message: 'This response can no longer be streamed.', sequence_number: (after ?? -1) + 1 };
      return;
    }
    for (const { at, event } of this.events(id)) {
      const seq = event['sequence_number'] as number;
      if (after !== undefined && seq <= after) continue;
      if (at > this.#clock.now()) await this.#clock.sleep(at - this.#clock.now(), signal);
      if (signal?.aborted === true) throw new APIUserAbortError();
      yield event;
      if (job.script.dropAfter.includes(seq) && !job.dropped.has(seq)) {
        job.dropped.add(seq);
        throw new APIConnectionError({ message: 'Connection error.', cause: Object.assign(new TypeError('terminated'), { cause: { code: 'UND_ERR_SOCKET' } }) });
      }
    }
  }

  readonly responses = {
    create: async (body: Record<string, unknown>, opts?: CallOpts): Promise<unknown> => {
      this.calls.create++;
      this.options.push(opts);
      const id = this.add({}, body);
      if (body['stream'] === true) return this.#stream(id, undefined, opts?.signal);
      return this.snapshot(id);
    },
    retrieve: async (id: string, query?: Record<string, unknown>, opts?: CallOpts): Promise<unknown> => {
      this.options.push(opts);
      this.requestsById.set(id, (this.requestsById.get(id) ?? 0) + 1);
      if (query?.['stream'] === true) {
        this.calls.stream++;
        this.#job(id);
        const after = query['starting_after'];
        return this.#stream(id, typeof after === 'number' ? after : undefined, opts?.signal);
      }
      this.calls.retrieve++;
      const fault = this.pollFaults.shift();
      if (fault !== undefined) throw fault;
      this.#job(id);
      return this.snapshot(id);
    },
    cancel: async (id: string, opts?: CallOpts): Promise<unknown> => {
      this.calls.cancel++;
      this.options.push(opts);
      const job = this.#job(id);
      if (this.#clock.now() >= this.#end(job)) {
        throw new BadRequestError(400, { message: 'Cannot cancel a completed response.', type: 'invalid_request_error' }, undefined, new Headers());
      }
      job.cancelledAt = this.#clock.now();
      // The cancel answer always says cancelled; with cancelLosesRace the job really completes.
      return { ...this.snapshot(id, job.createdAt + job.script.queuedMs), status: 'cancelled' };
    },
  };
}

export function rateLimited(retryAfterMs?: number): RateLimitError {
  const h = new Headers(retryAfterMs !== undefined ? { 'retry-after-ms': String(retryAfterMs) } : {});
  return new RateLimitError(429, { message: 'Rate limit reached for requests', code: 'rate_limit_exceeded', type: 'requests' }, undefined, h);
}

export function serverError(): InternalServerError {
  return new InternalServerError(500, { message: 'The server had an error', type: 'server_error' }, undefined, new Headers());
}

export function connectionReset(): APIConnectionError {
  return new APIConnectionError({ message: 'Connection error.', cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
}

/** A client over `fake` for one owner that records, in `polledBy`, which owners retrieved each id. */
export function tapRetrieves(fake: FakeResponses, polledBy: Map<string, Set<string>>, owner: string) {
  return {
    responses: {
      retrieve: (id: string, q?: Record<string, unknown>, o?: object) => {
        const s = polledBy.get(id) ?? new Set<string>();
        s.add(owner);
        polledBy.set(id, s);
        return fake.responses.retrieve(id, q, o as never);
      },
      cancel: fake.responses.cancel,
      create: fake.responses.create,
    },
  };
}

/**
 * Two journals on one store resume `count` jobs together (concurrency 3 each); asserts what both callers
 * prove: every job delivered once across the two, and each id polled by one owner only.
 */
export async function resumeSplit(
  clock: ManualClock,
  fake: FakeResponses,
  [a, b]: readonly [Journal, Journal],
  [oa, ob]: readonly [readonly JobOutcome[], readonly JobOutcome[]],
  count: number,
): Promise<[ResumeReport, ResumeReport]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = fake.add({ durationMs: 10_000 + i * 7_000 });
    ids.push(id);
    await a.store.insert({ key: `job${i}`, kind: 'response', stream: false, objectId: id }, clock.now());
  }
  const polledBy = new Map<string, Set<string>>();
  const tap = (owner: string) => tapRetrieves(fake, polledBy, owner);
  const [ra, rb] = await clock.run(Promise.all([a.resumeAll(tap('a'), { timeoutMs: 600_000, concurrency: 3 }), b.resumeAll(tap('b'), { timeoutMs: 600_000, concurrency: 3 })]));
  const keys = [...oa, ...ob].map((o) => o.key).sort();
  assert.equal(keys.length, count);
  assert.equal(new Set(keys).size, count, 'no job delivered twice');
  assert.equal(ra.delivered + rb.delivered, count);
  for (const id of ids) assert.equal(polledBy.get(id)?.size, 1, `${id} polled by one owner`);
  return [ra, rb];
}
