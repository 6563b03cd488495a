/**
 * Waiting for background Responses: `waitForResponse` and `createAndWait`.
 *
 * Streams when it can, polls when it must. A Response created with `stream: true` is followed event by
 * event and resumed from the last `sequence_number` after a cut; on a stream error, "can no longer be
 * streamed", or too many reconnects, the waiter falls back to polling, paced by `poll-backoff.ts`.
 * Everything is bounded by one overall deadline, cancellable by an `AbortSignal`, and driven by an
 * injectable clock.
 */
import { classify, detectFailure } from '../core/classify/index.ts';
import { entryOf, isRetryableFailure, type FailureCode } from '../core/catalog.ts';
import { assertSucceeded, ERROR_CLASSES, toError, type FaultlineError } from '../core/errors.ts';
import type { Failure } from '../core/failure.ts';
import { resolveClock, type Clock } from './clock.ts';
import type { ResultHub } from './hub.ts';
import { errorDelay, pollDelay, resolvePollPolicy, type PollPolicy, type PollPolicyOptions } from './poll-backoff.ts';
import { followStream, openStream, type StreamAnswer, type StreamAttempt, type StreamCursor } from './stream-follow.ts';
import { isWaitToken, serializeToken, type WaitToken } from './token.ts';
import {
  isResponseLike,
  isTerminal,
  withOutputText,
  type BackgroundResponse,
  type CallOptions,
  type JournalLink,
  type ProgressSource,
  type ResponsesClient,
  type WaitJournal,
} from './types.ts';
import { noteWait, observeWait, telemetry } from '../internal/telemetry.ts';

/** One piece of progress, from a poll snapshot, a stream event, or a webhook. */
export interface WaitProgress {
  /** The Response id. */
  readonly id: string;
  /** The Response status as last seen (`queued`, `in_progress`, or a terminal status). */
  readonly status: string | undefined;
  readonly source: ProgressSource;
  /** The Response snapshot, when this progress carried one (polls, and stream events that embed it). */
  readonly response?: BackgroundResponse;
  /** The stream event, for stream progress. Each event is reported once, in `sequence_number` order. */
  readonly event?: Readonly<Record<string, unknown>>;
  /** The text of a `response.output_text.delta` event. */
  readonly delta?: string;
  /** Polls spent so far. */
  readonly polls: number;
  /** Stream reconnects so far. */
  readonly reconnects: number;
  /** The resume token as plain data. */
  readonly token: WaitToken;
  /** The resume token as a string another process can pass to {@link waitForResponse}. */
  serialize(): string;
}

/** Options of {@link waitForResponse} and {@link createAndWait}. */
export interface WaitOptions extends PollPolicyOptions {
  /**
   * The longest the whole wait may take, in milliseconds. One of `timeoutMs` and `deadline` is
   * required: a background job can run for hours, and a wait without a bound is a leak. When it passes,
   * the wait rejects with a `TimeoutError` and the job keeps running on the server.
   */
  timeoutMs?: number;
  /**
   * The moment the wait must end, as epoch milliseconds or a `Date` (on the injected clock). Overrides a
   * deadline carried by a resume token. See `timeoutMs`.
   */
  deadline?: number | Date;
  /** Stops the wait. What happens to the job is set by `onAbort`. */
  signal?: AbortSignal;
  /**
   * What an abort does to the job on the server. `'detach'`: nothing; the job keeps running (resume it
   * later with the token or the journal) and the wait rejects with `UserAbortError`. `'cancel'`: cancel it
   * remotely, then settle with whatever the server says the final state is; a job that completed before
   * the cancel took effect resolves with the completed Response, a cancelled one rejects with
   * `CancelledError`.
   * @default 'detach'
   */
  onAbort?: 'detach' | 'cancel';
  /**
   * Whether to follow the Response's event stream. `'auto'`: stream when the Response is known to have
   * been created with `stream: true` (by {@link createAndWait}, or a resume token), otherwise poll.
   * `true`: try to stream, falling back to polling if the server refuses. `false`: only poll.
   * For {@link createAndWait}, `'auto'` and `true` create the Response with `stream: true`.
   * @default 'auto'
   */
  stream?: boolean | 'auto';
  /**
   * How many times a dropped stream is resumed (from the last `sequence_number`) before falling back to
   * polling.
   * @default 5
   */
  maxReconnects?: number;
  /**
   * How long a stream may go without an event, in milliseconds, before it is dropped and resumed from
   * the last `sequence_number` (counted as a reconnect, so after `maxReconnects` the wait polls). Keep-alive
   * comments (`: ping`) are not events: a stream that sends nothing else is cut after this long. The
   * deadline bounds every stream as well.
   * @default 120000
   */
  streamIdleTimeoutMs?: number;
  /**
   * How many transient errors in a row (429, 5xx, timeouts, resets) polling tolerates before the wait
   * rejects with the last one's typed error. Counted apart from the job's own outcome: a terminal
   * `failed` Response is never polled again.
   * @default 8
   */
  maxTransientErrors?: number;
  /**
   * The longest one HTTP request (a poll, a cancel) may take, in milliseconds, further capped by the
   * time left before the deadline. Streams are bounded by the deadline only.
   * @default 60000
   */
  requestTimeoutMs?: number;
  /**
   * What an `incomplete` Response does: `'throw'` its typed error (`MaxOutputTokensError`,
   * `ContentFilteredError`, `IncompleteResponseError`), or `'return'` it after `onIncomplete`.
   * @default 'throw'
   */
  incomplete?: 'throw' | 'return';
  /**
   * Called with the typed error when `incomplete: 'return'` returns an incomplete Response.
   * @default a process warning with code `FAULTLINE_INCOMPLETE`
   */
  onIncomplete?: (error: FaultlineError) => void;
  /** Called for every poll snapshot, stream event and webhook notification, in order. */
  onProgress?: (progress: WaitProgress) => void;
  /**
   * The durable journal (`faultline/journal`): the id is written before anything else, the terminal
   * Response as soon as it is seen, and a lease keeps other processes from polling the same id.
   */
  journal?: WaitJournal;
  /**
   * The job key in the journal (also sent as `metadata.faultline_job` by {@link createAndWait}, so an
   * orphaned create can be matched by its webhook).
   * @default a random UUID for createAndWait; the Response id for waitForResponse
   */
  jobKey?: string;
  /** A hub shared with the webhook handler, so a webhook wakes this waiter at once. */
  hub?: ResultHub;
  /**
   * The clock: milliseconds since the epoch (or any fixed origin shared with `sleep`).
   * @default Date.now
   */
  now?: () => number;
  /**
   * How to wait `ms` milliseconds; must resolve early when `signal` aborts.
   * @default setTimeout (cleared when the wait ends)
   */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * The random source for jitter, returning a number in `[0, 1)`.
   * @default Math.random
   */
  random?: () => number;
}

/** Create params for {@link createAndWait}: anything `client.responses.create` accepts. */
export type CreateParams = Record<string, unknown> & { readonly metadata?: Readonly<Record<string, string>> | null };

/** The metadata key faultline adds so an orphaned create can be matched to its journal row. */
export const JOB_METADATA_KEY = 'faultline_job';

/** @internal The longest wait between healthy polls of a job with a completion window (hours long): 5 minutes. */
export const WINDOW_MAX_DELAY_MS = 300_000;
/** The longest completion window known ('8h'): assumed for 'soonest' and for any value not of the form `<n>h`. */
const LONGEST_WINDOW_MS = 8 * 3_600_000;

/**
 * @internal How long a job created with `background_options.completion_window` (openai-node 7.58: `'soonest'`,
 * `'2h'`, `'8h'`; background only, never streamed) may run, in milliseconds; `undefined` without one.
 */
export function completionWindowMs(params: Readonly<Record<string, unknown>>): number | undefined {
  const options = params['background_options'];
  const window = typeof options === 'object' && options !== null ? (options as Record<string, unknown>)['completion_window'] : undefined;
  if (window === undefined || window === null) return undefined;
  const hours = typeof window === 'string' ? /^(\d{1,3})h$/.exec(window) : null;
  return hours !== null ? Number(hours[1]) * 3_600_000 : LONGEST_WINDOW_MS;
}

/** @internal Options for a job with a completion window: healthy polls up to {@link WINDOW_MAX_DELAY_MS} apart, unless `maxDelayMs` is set. */
export function windowedPace<T extends PollPolicyOptions>(options: T): T {
  if (options.maxDelayMs !== undefined) return options;
  return { ...options, maxDelayMs: Math.max(WINDOW_MAX_DELAY_MS, typeof options.minDelayMs === 'number' ? options.minDelayMs : 0) };
}

const DEFAULT_MAX_RECONNECTS = 5;
const DEFAULT_MAX_TRANSIENT = 8;
const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 120_000;

/** @internal Validated wait options. */
export interface Resolved {
  readonly clock: Clock;
  readonly random: () => number;
  readonly policy: PollPolicy;
  readonly deadlineAt: number;
  readonly startedAt: number;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: 'detach' | 'cancel';
  readonly stream: boolean | 'auto';
  readonly maxReconnects: number;
  readonly maxTransient: number;
  readonly requestTimeoutMs: number;
  readonly streamIdleTimeoutMs: number;
  readonly options: WaitOptions;
}

function nonNegativeInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`\`${name}\` must be an integer >= 0, got ${String(value)}`);
  return value;
}

/** @internal */
export function resolveOptions(options: WaitOptions | undefined, tokenDeadline: number | undefined, fn: string): Resolved {
  if (options === undefined || typeof options !== 'object') {
    throw new TypeError(`${fn}: options are required (at least \`timeoutMs\` or \`deadline\`)`);
  }
  const clock = resolveClock(options);
  const startedAt = clock.now();
  let deadlineAt: number;
  if (options.deadline !== undefined) {
    deadlineAt = options.deadline instanceof Date ? options.deadline.getTime() : options.deadline;
    if (typeof deadlineAt !== 'number' || !Number.isFinite(deadlineAt)) throw new RangeError(`${fn}: \`deadline\` must be a finite epoch-ms number or a valid Date`);
  } else if (options.timeoutMs !== undefined) {
    if (typeof options.timeoutMs !== 'number' || !Number.isFinite(options.timeoutMs) || options.timeoutMs < 0) {
      throw new RangeError(`${fn}: \`timeoutMs\` must be a finite number of milliseconds >= 0, got ${String(options.timeoutMs)}`);
    }
    deadlineAt = startedAt + options.timeoutMs;
  } else if (tokenDeadline !== undefined) {
    deadlineAt = tokenDeadline;
  } else {
    throw new TypeError(`${fn}: \`timeoutMs\` or \`deadline\` is required: an unbounded wait on a background job is a leak`);
  }
  const onAbort = options.onAbort ?? 'detach';
  if (onAbort !== 'detach' && onAbort !== 'cancel') throw new TypeError(`${fn}: \`onAbort\` must be 'detach' or 'cancel'`);
  const stream = options.stream ?? 'auto';
  if (stream !== true && stream !== false && stream !== 'auto') throw new TypeError(`${fn}: \`stream\` must be true, false or 'auto'`);
  if (options.incomplete !== undefined && options.incomplete !== 'throw' && options.incomplete !== 'return') {
    throw new TypeError(`${fn}: \`incomplete\` must be 'throw' or 'return'`);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new TypeError(`${fn}: \`signal\` must be an AbortSignal`);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new TypeError(`${fn}: \`onProgress\` must be a function`);
  if (options.random !== undefined && typeof options.random !== 'function') throw new TypeError(`${fn}: \`random\` must be a function`);
  if (options.jobKey !== undefined && (typeof options.jobKey !== 'string' || options.jobKey === '')) throw new TypeError(`${fn}: \`jobKey\` must be a non-empty string`);
  const idle = options.streamIdleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS;
  if (typeof idle !== 'number' || !Number.isFinite(idle) || idle <= 0) throw new RangeError(`${fn}: options.streamIdleTimeoutMs must be a positive number of milliseconds, got ${String(idle)}`);
  return {
    clock,
    random: options.random ?? Math.random,
    policy: resolvePollPolicy(options),
    deadlineAt,
    startedAt,
    signal: options.signal,
    onAbort,
    stream,
    maxReconnects: nonNegativeInt('maxReconnects', options.maxReconnects, DEFAULT_MAX_RECONNECTS),
    maxTransient: nonNegativeInt('maxTransientErrors', options.maxTransientErrors, DEFAULT_MAX_TRANSIENT),
    requestTimeoutMs: nonNegativeInt('requestTimeoutMs', options.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS),
    streamIdleTimeoutMs: idle,
    options,
  };
}

/** @internal A typed error made here (deadline, detach, expiry), with the object id on its failure. */
export function makeError(code: FailureCode, message: string, extra: { cause?: unknown; response?: unknown; objectId?: string | undefined }): FaultlineError {
  const e = entryOf(code);
  const failure: Failure = {
    code,
    name: e.name,
    category: e.category,
    retryable: e.retryable,
    message,
    source: 'unknown',
    ...(extra.objectId !== undefined ? { objectId: extra.objectId } : {}),
  };
  return new ERROR_CLASSES[code](failure as never, { cause: extra.cause, response: extra.response });
}

function assertClient(client: unknown, fn: string): asserts client is ResponsesClient {
  const r = typeof client === 'object' && client !== null ? (client as { responses?: unknown }).responses : undefined;
  if (typeof r !== 'object' || r === null || typeof (r as { retrieve?: unknown }).retrieve !== 'function') {
    throw new TypeError(`${fn}: \`client\` must be an OpenAI client (with client.responses.retrieve)`);
  }
}

/** Read `openai-poll-after-ms`, the hint OpenAI's own pollers honour, from an SDK `withResponse()`. */
function pollAfterHint(headers: unknown): number | undefined {
  const get = typeof headers === 'object' && headers !== null ? (headers as { get?: unknown }).get : undefined;
  if (typeof get !== 'function') return undefined;
  const raw: unknown = get.call(headers, 'openai-poll-after-ms');
  const n = typeof raw === 'string' ? Number(raw) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * @internal The delay before retrying a failed poll, or throws the typed error that ends the wait.
 * A 404 on an id that was seen is `expired` (retention or deletion); a transient error (429, 5xx,
 * timeout, reset) is retried while `attempt` (consecutive) stays within the budget.
 */
export function afterPollError(error: unknown, r: Resolved, s: { seen: boolean; id: string | undefined; what: string; attempt: number }): number {
  const failure = classify(error, { now: r.clock.now() });
  if (failure.status === 404 || failure.code === 'not_found') {
    if (s.seen) {
      throw makeError('expired', `${s.what} ${s.id ?? ''} is gone (404): it outlived its retention or was deleted before its result was read.`, { cause: error, objectId: s.id });
    }
    // OpenAI sends its 404 with `type: invalid_request_error`; on a retrieve by id it means "no such id".
    if (failure.code !== 'not_found') throw makeError('not_found', failure.message, { cause: error, objectId: s.id });
    throw toError(error);
  }
  const transient = isRetryableFailure(failure);
  if (!transient || s.attempt > r.maxTransient) throw toError(error);
  const delayMs = errorDelay(r.policy, s.attempt, r.random(), failure.retryAfterMs);
  if (telemetry.active) noteWait({ source: 'poll', failure, delayMs });
  return delayMs;
}

/** Where a wait starts from. */
interface Start {
  id: string | undefined;
  snapshot?: BackgroundResponse;
  streamCapable: boolean;
  cursor?: number;
  createdAtMs?: number;
  /** A stream already open (the create call's own stream), with the controller that aborts it. */
  initial?: { events: AsyncIterable<unknown>; controller: AbortController };
  /** The server answered `stream: true` with a plain body: it does not stream, so poll whatever `stream` says. */
  pollOnly?: boolean;
}

/** Thrown inside the loop to leave it with a settled outcome. */
class Settle {
  readonly value: BackgroundResponse;
  constructor(value: BackgroundResponse) {
    this.value = value;
  }
}

class Waiter {
  readonly #client: ResponsesClient;
  readonly #r: Resolved;
  readonly #link: JournalLink | null;
  #id: string | undefined;
  readonly #streamCapable: boolean;
  readonly #cursor: StreamCursor;
  #createdAtMs: number | undefined;
  #status: string | undefined;
  #polls = 0;
  #reconnects = 0;
  #transient = 0;
  #seenOnServer = false;
  #news: { object: unknown } | undefined;
  #wake: AbortController | undefined;
  #unsubscribe: (() => void) | undefined;
  readonly #onUserAbort = (): void => this.#wake?.abort();
  readonly #onLeaseLost = (): void => this.#wake?.abort();

  constructor(client: ResponsesClient, r: Resolved, start: Start, link: JournalLink | null) {
    this.#client = client;
    this.#r = r;
    this.#link = link;
    this.#id = start.id;
    this.#streamCapable = start.streamCapable;
    this.#cursor = { cursor: start.cursor ?? link?.cursor };
    this.#createdAtMs = start.createdAtMs;
    this.#status = start.snapshot?.status ?? undefined;
  }

  get id(): string | undefined {
    return this.#id;
  }

  get token(): WaitToken {
    return {
      v: 1,
      id: this.#id ?? '',
      stream: this.#streamCapable,
      deadlineAt: this.#r.deadlineAt,
      ...(this.#cursor.cursor !== undefined ? { cursor: this.#cursor.cursor } : {}),
      ...(this.#createdAtMs !== undefined ? { createdAtMs: this.#createdAtMs } : {}),
    };
  }

  /** A fresh wake-up signal, already aborted if there is a reason to wake now. */
  #newWake(): AbortController {
    const c = new AbortController();
    this.#wake = c;
    if (this.#r.signal?.aborted === true || this.#news !== undefined || this.#link?.leaseLost.aborted === true) c.abort();
    return c;
  }

  #subscribe(): void {
    if (this.#id === undefined || this.#unsubscribe !== undefined || this.#r.options.hub === undefined) return;
    this.#unsubscribe = this.#r.options.hub.subscribe(this.#id, (object) => {
      this.#news = { object };
      this.#wake?.abort();
    });
  }

  #callOptions(signal: AbortSignal, bounded: boolean): CallOptions {
    const left = Math.max(1, this.#r.deadlineAt - this.#r.clock.now());
    return bounded ? { signal, maxRetries: 0, timeout: Math.min(this.#r.requestTimeoutMs, left) } : { signal, maxRetries: 0 };
  }

  #progress(source: ProgressSource, extra: { response?: BackgroundResponse; event?: Record<string, unknown> }): void {
    const cb = this.#r.options.onProgress;
    if (cb === undefined || this.#id === undefined) return;
    const token = this.token;
    const delta = extra.event?.['type'] === 'response.output_text.delta' && typeof extra.event['delta'] === 'string' ? extra.event['delta'] : undefined;
    cb({
      id: this.#id,
      status: this.#status,
      source,
      polls: this.#polls,
      reconnects: this.#reconnects,
      token,
      serialize: () => serializeToken(token),
      ...(extra.response !== undefined ? { response: extra.response } : {}),
      ...(extra.event !== undefined ? { event: extra.event } : {}),
      ...(delta !== undefined ? { delta } : {}),
    });
  }

  /** Take in a Response snapshot (from a poll, a stream event that embeds one, a webhook or create). */
  async #see(response: BackgroundResponse, source: ProgressSource, event?: Record<string, unknown>): Promise<void> {
    if (this.#id === undefined) {
      this.#id = response.id;
      // Before anything else: the id goes to the journal.
      await this.#link?.attachId(response.id);
      this.#subscribe();
    }
    this.#seenOnServer = true;
    if (typeof response.status === 'string') this.#status = response.status;
    if (telemetry.active) noteWait({ source, status: this.#status });
    if (this.#createdAtMs === undefined && typeof response.created_at === 'number') this.#createdAtMs = response.created_at * 1000;
    if (event !== undefined && this.#cursor.cursor !== undefined) await this.#link?.setCursor(this.#cursor.cursor);
    if (isTerminal(response)) await this.#link?.recordTerminal(withOutputText(response), detectFailure(response)?.code);
    this.#progress(source, event !== undefined ? { response, event } : { response });
  }

  /** Run until the Response is terminal; returns it (not yet asserted). */
  async run(start: Start): Promise<BackgroundResponse> {
    this.#r.signal?.addEventListener('abort', this.#onUserAbort);
    this.#link?.leaseLost.addEventListener('abort', this.#onLeaseLost);
    this.#subscribe();
    try {
      if (start.snapshot !== undefined) {
        await this.#see(start.snapshot, 'create');
        if (isTerminal(start.snapshot)) return start.snapshot;
      }
      return await this.#loop(start);
    } catch (e) {
      if (e instanceof Settle) return e.value;
      throw e;
    } finally {
      this.#r.signal?.removeEventListener('abort', this.#onUserAbort);
      this.#link?.leaseLost.removeEventListener('abort', this.#onLeaseLost);
      this.#unsubscribe?.();
    }
  }

  /** Check the reasons to stop or short-cut, in order. Throws a typed error or a {@link Settle}. */
  async #interrupts(): Promise<void> {
    if (this.#r.signal?.aborted === true) throw new Settle(await this.#aborted());
    if (this.#news !== undefined) {
      const { object } = this.#news;
      this.#news = undefined;
      if (isTerminal(object) && object.id === this.#id) {
        await this.#see(object, 'webhook');
        throw new Settle(object);
      }
    }
    if (this.#link?.leaseLost.aborted === true) await this.#followJournal(this.#link);
    if (this.#r.clock.now() >= this.#r.deadlineAt) throw this.#deadlineError();
  }

  /** Another process holds the job now: it polls, we read what it records (no network). */
  async #followJournal(link: JournalLink): Promise<never> {
    for (;;) {
      const wake = new AbortController();
      this.#wake = wake;
      if (this.#r.signal?.aborted === true) throw new Settle(await this.#aborted());
      if (this.#news !== undefined) {
        const { object } = this.#news;
        this.#news = undefined;
        if (isTerminal(object) && object.id === this.#id) throw new Settle(object);
      }
      if (this.#r.clock.now() >= this.#r.deadlineAt) throw this.#deadlineError();
      const timer = this.#r.clock.sleep(Math.max(0, this.#r.deadlineAt - this.#r.clock.now()), wake.signal).then(() => wake.abort());
      const recorded = await link.awaitRecorded(wake.signal);
      wake.abort();
      await timer;
      if (recorded !== undefined && 'result' in recorded && isTerminal(recorded.result)) throw new Settle(recorded.result);
      if (recorded !== undefined && 'lost' in recorded) {
        throw makeError('expired', `Background response ${this.#id ?? ''} was marked lost in the journal by the wait that follows it (${recorded.lost}).`, { objectId: this.#id });
      }
    }
  }

  #deadlineError(): FaultlineError {
    const waited = this.#r.clock.now() - this.#r.startedAt;
    return makeError('timeout', `Gave up waiting for background response ${this.#id ?? '(id not yet known)'} after ${waited} ms (deadline reached); it was still ${this.#status ?? 'unknown'} and keeps running on the server.`, { objectId: this.#id });
  }

  async #loop(start: Start): Promise<BackgroundResponse> {
    let streamMode = start.pollOnly !== true && (start.initial !== undefined || this.#r.stream === true || (this.#r.stream === 'auto' && this.#streamCapable));
    let initial = start.initial;
    for (;;) {
      await this.#interrupts();
      if (streamMode && (this.#id !== undefined || initial !== undefined)) {
        const attempt = await this.#streamAttempt(initial);
        initial = undefined;
        if (attempt.kind === 'terminal') return attempt.response;
        if (attempt.kind === 'stopped') continue; // #interrupts decides why
        if (this.#id === undefined) {
          // The create stream broke before it named the id: nothing to resume or poll.
          throw makeError('connection_error', 'The create stream ended before the response id was seen; the job may be running (an orphan: the journal recovers it by webhook or marks it lost).', {
            cause: attempt.error,
          });
        }
        if (attempt.kind === 'unstreamable') {
          streamMode = false;
          continue;
        }
        this.#reconnects++;
        if (this.#reconnects > this.#r.maxReconnects) {
          streamMode = false;
          continue;
        }
        // The first reconnect is immediate; a stream that keeps dropping backs off.
        if (this.#reconnects > 1) await this.#sleep(errorDelay(this.#r.policy, this.#reconnects - 1, this.#r.random()));
        continue;
      }
      const delay = await this.#poll();
      if (delay === undefined) continue; // interrupted mid-request
      await this.#sleep(delay);
    }
  }

  /** Sleep `ms` (capped at the deadline), waking early for abort, webhook news or a lost lease. */
  async #sleep(ms: number): Promise<void> {
    const wake = this.#newWake();
    if (wake.signal.aborted) return;
    const left = this.#r.deadlineAt - this.#r.clock.now();
    await this.#r.clock.sleep(Math.max(0, Math.min(ms, left)), wake.signal);
  }

  /** One poll. Returns the delay before the next one, or `undefined` to re-check interrupts at once. */
  async #poll(): Promise<number | undefined> {
    const id = this.#id as string;
    const wake = this.#newWake();
    if (wake.signal.aborted) return undefined;
    this.#polls++;
    let result: unknown;
    let hint: number | undefined;
    try {
      const promise = this.#client.responses.retrieve(id, undefined, this.#callOptions(wake.signal, true)) as PromiseLike<unknown> & { withResponse?: () => Promise<{ data: unknown; response: { headers?: unknown } }> };
      if (typeof promise.withResponse === 'function') {
        const { data, response } = await promise.withResponse();
        result = data;
        hint = pollAfterHint(response.headers);
      } else {
        result = await promise;
      }
    } catch (error) {
      if (wake.signal.aborted) return undefined;
      return this.#pollError(error);
    }
    if (!isResponseLike(result) || typeof result.status !== 'string') {
      // Bad data from the wire is a transient failure, never a crash.
      return this.#pollError(makeError('unknown', 'A poll returned something that is not a Response object.', { objectId: id }));
    }
    this.#transient = 0;
    await this.#see(result, 'poll');
    if (isTerminal(result)) throw new Settle(result);
    const age = this.#createdAtMs !== undefined ? this.#r.clock.now() - this.#createdAtMs : this.#r.clock.now() - this.#r.startedAt;
    return pollDelay(this.#r.policy, age, this.#r.random(), hint);
  }

  #pollError(error: unknown): number {
    return afterPollError(error, this.#r, { seen: this.#seenOnServer, id: this.#id, what: 'Background response', attempt: ++this.#transient });
  }

  /** One stream attempt: the create's own stream, or a resume with `starting_after`. */
  async #streamAttempt(initial: Start['initial']): Promise<StreamAttempt> {
    const controller = initial?.controller ?? this.#newWake();
    if (initial !== undefined) this.#wake = controller;
    if (controller.signal.aborted) return { kind: 'stopped' };
    // The deadline bounds the whole stream; the idle timeout, each silence in it (keep-alives are no events).
    const deadlineTimer = this.#r.clock.sleep(Math.max(0, this.#r.deadlineAt - this.#r.clock.now()), controller.signal).then(() => controller.abort());
    const idle = this.#watchIdle(controller);
    // Stopped by the idle timeout: a dropped stream (resumed, and counted as a reconnect).
    const stopped = (): StreamAttempt =>
      idle.fired ? { kind: 'dropped', error: makeError('timeout', `No stream event for ${this.#r.streamIdleTimeoutMs} ms (streamIdleTimeoutMs).`, { objectId: this.#id }) } : { kind: 'stopped' };
    try {
      let events: AsyncIterable<unknown>;
      if (initial !== undefined) {
        events = initial.events;
      } else {
        const query: Record<string, unknown> = { stream: true };
        if (this.#cursor.cursor !== undefined) query['starting_after'] = this.#cursor.cursor;
        let answer: StreamAnswer;
        try {
          answer = await openStream(this.#client.responses.retrieve(this.#id as string, query, this.#callOptions(controller.signal, false)));
        } catch (error) {
          if (controller.signal.aborted) return stopped();
          const f = classify(error);
          if (isRetryableFailure(f)) return { kind: 'dropped', error };
          return { kind: 'unstreamable', error };
        }
        if (answer.kind === 'body') {
          // The server ignored stream=true and sent the Response itself: a snapshot; poll from here on.
          if (isResponseLike(answer.body) && typeof answer.body.status === 'string') {
            await this.#see(answer.body, 'poll');
            if (isTerminal(answer.body)) return { kind: 'terminal', response: answer.body };
          }
          return { kind: 'unstreamable', error: makeError('unknown', 'A stream request did not return a stream.', { objectId: this.#id, response: answer.body }) };
        }
        events = answer.events;
      }
      const attempt = await followStream(events, this.#cursor, controller.signal, async (event) => {
        idle.seen();
        const response = event['response'];
        if (isResponseLike(response)) {
          await this.#see(response, 'stream', event);
        } else {
          if (this.#cursor.cursor !== undefined) await this.#link?.setCursor(this.#cursor.cursor);
          this.#progress('stream', { event });
        }
      });
      return attempt.kind === 'stopped' ? stopped() : attempt;
    } finally {
      controller.abort();
      await Promise.all([deadlineTimer, idle.done]);
    }
  }

  /** Abort `controller` once no event came for `streamIdleTimeoutMs`; `seen()` marks an event. */
  #watchIdle(controller: AbortController): { fired: boolean; seen: () => void; done: Promise<void> } {
    const clock = this.#r.clock;
    const state = { fired: false, seen: () => void (last = clock.now()), done: Promise.resolve() };
    let last = clock.now();
    state.done = (async () => {
      while (!controller.signal.aborted) {
        const left = last + this.#r.streamIdleTimeoutMs - clock.now();
        if (left <= 0) {
          state.fired = true;
          controller.abort();
          return;
        }
        await clock.sleep(left, controller.signal);
      }
    })();
    return state;
  }

  /** The caller aborted. Detach (default) or cancel remotely and settle with the server's final state. */
  async #aborted(): Promise<BackgroundResponse> {
    const reason: unknown = this.#r.signal?.reason;
    if (this.#r.onAbort === 'detach' || this.#id === undefined) {
      throw makeError('aborted', `Stopped waiting for background response ${this.#id ?? '(id not yet known)'}: the job was detached and keeps running on the server.`, { cause: reason, objectId: this.#id });
    }
    const id = this.#id;
    // The cancel and the confirming reads must outlive the caller's (already aborted) signal, so they run
    // on their own controller, bounded by the deadline.
    const own = new AbortController();
    const timer = this.#r.clock.sleep(Math.max(0, this.#r.deadlineAt - this.#r.clock.now()), own.signal).then(() => own.abort());
    try {
      let final: unknown;
      try {
        final = await this.#client.responses.cancel(id, this.#callOptions(own.signal, true));
      } catch (error) {
        // 400 "cannot cancel a completed response", 404, a reset: the read below tells the truth.
        final = undefined;
        if (own.signal.aborted) throw makeError('aborted', `Cancelling ${id} did not finish before the deadline.`, { cause: error, objectId: id });
      }
      // A cancel can lose the race with completion: the server may answer `cancelled` and later read
      // `completed`. Read back until the state is terminal, briefly, and believe the read.
      for (let attempt = 1; !own.signal.aborted; attempt++) {
        let read: unknown;
        try {
          read = await this.#client.responses.retrieve(id, undefined, this.#callOptions(own.signal, true));
          this.#polls++;
        } catch (error) {
          const f = classify(error);
          if (!isRetryableFailure(f) || attempt > this.#r.maxTransient) break;
          await this.#r.clock.sleep(Math.min(errorDelay(this.#r.policy, attempt, this.#r.random(), f.retryAfterMs), Math.max(0, this.#r.deadlineAt - this.#r.clock.now())), own.signal);
          continue;
        }
        if (isTerminal(read)) {
          final = read;
          break;
        }
        await this.#r.clock.sleep(Math.min(this.#r.policy.minDelayMs, Math.max(0, this.#r.deadlineAt - this.#r.clock.now())), own.signal);
      }
      if (isTerminal(final)) {
        await this.#see(final, 'poll');
        return final;
      }
      throw makeError('aborted', `Asked to cancel background response ${id}, but its final state could not be read before the deadline.`, { cause: reason, objectId: id });
    } finally {
      own.abort();
      await timer;
    }
  }
}

function startFrom(idOrResponse: unknown, fn: string): Start {
  if (typeof idOrResponse === 'string') {
    if (idOrResponse === '') throw new TypeError(`${fn}: the response id must be a non-empty string`);
    return { id: idOrResponse, streamCapable: false };
  }
  if (isWaitToken(idOrResponse)) {
    return {
      id: idOrResponse.id,
      streamCapable: idOrResponse.stream,
      ...(idOrResponse.cursor !== undefined ? { cursor: idOrResponse.cursor } : {}),
      ...(idOrResponse.createdAtMs !== undefined ? { createdAtMs: idOrResponse.createdAtMs } : {}),
    };
  }
  if (isResponseLike(idOrResponse)) {
    const created = idOrResponse.created_at;
    return {
      id: idOrResponse.id,
      snapshot: idOrResponse,
      streamCapable: false,
      ...(typeof created === 'number' ? { createdAtMs: created * 1000 } : {}),
    };
  }
  throw new TypeError(`${fn}: expected a response id, a Response object, or a resume token (parseToken(text))`);
}

async function settle(waiter: Waiter, start: Start, r: Resolved, link: JournalLink | null): Promise<BackgroundResponse> {
  let final: BackgroundResponse;
  try {
    final = await waiter.run(start);
  } catch (error) {
    if (link !== null) {
      const code = (error as { code?: unknown }).code;
      if (code === 'expired' || code === 'not_found') await link.finish({ kind: 'lost', reason: String(code) });
      else await link.finish({ kind: 'detached' });
    }
    throw error;
  }
  await link?.finish({ kind: 'result' });
  const opts = r.options;
  return assertSucceeded(withOutputText(final), {
    now: r.clock.now(),
    ...(opts.incomplete !== undefined ? { incomplete: opts.incomplete } : {}),
    ...(opts.onIncomplete !== undefined ? { onIncomplete: opts.onIncomplete } : {}),
  });
}

/**
 * Wait for a background Response to finish.
 *
 * Resolves with the completed Response. A `failed`, `cancelled` or `incomplete` Response rejects with
 * the catalog's typed error (`RateLimitError`, `CancelledError`, `MaxOutputTokensError`, ...), the
 * Response with its partial output on `error.response`. A deadline rejects with `TimeoutError`, an abort
 * with `UserAbortError` (the job keeps running unless `onAbort: 'cancel'`), a Response gone after its
 * retention with `ExpiredError`.
 *
 * @param idOrResponse a `resp_…` id, the Response returned by `create`, or a resume token from
 *   `parseToken(progress.serialize())`.
 * @example
 * const response = await waitForResponse(client, created, { timeoutMs: 10 * 60_000 });
 */
export function waitForResponse<R extends BackgroundResponse = BackgroundResponse>(
  client: ResponsesClient,
  idOrResponse: string | BackgroundResponse | WaitToken,
  options: WaitOptions,
): Promise<R> {
  return observeWait({ operation: 'waitForResponse', kind: 'response', target: idOrResponse }, () => waitForResponseNow<R>(client, idOrResponse, options));
}

async function waitForResponseNow<R extends BackgroundResponse>(client: ResponsesClient, idOrResponse: string | BackgroundResponse | WaitToken, options: WaitOptions): Promise<R> {
  const fn = 'waitForResponse';
  assertClient(client, fn);
  const start = startFrom(idOrResponse, fn);
  const r = resolveOptions(options, isWaitToken(idOrResponse) ? idOrResponse.deadlineAt : undefined, fn);
  let link: JournalLink | null = null;
  if (r.options.journal !== undefined) {
    link = await r.options.journal.track({
      key: r.options.jobKey ?? (start.id as string),
      kind: 'response',
      objectId: start.id as string,
      stream: start.streamCapable,
      deadlineAt: r.deadlineAt,
      ...(r.signal !== undefined ? { signal: r.signal } : {}),
    });
    if (link === null) throw new TypeError(`${fn}: the journal lease for ${start.id as string} is held by another live process; use journal.resumeAll() to share the work`);
  }
  const waiter = new Waiter(client, r, start, link);
  return (await settle(waiter, start, r, link)) as R;
}

/**
 * @internal For the journal's `resumeAll`, which has already taken the lease: wait on `link`.
 */
export async function waitLinked(client: ResponsesClient, token: WaitToken, options: WaitOptions, link: JournalLink): Promise<BackgroundResponse> {
  const fn = 'resumeAll';
  assertClient(client, fn);
  const start = startFrom(token, fn);
  const r = resolveOptions(options, token.deadlineAt, fn);
  return observeWait({ operation: fn, kind: 'response', target: token }, () => settle(new Waiter(client, r, start, link), start, r, link));
}

/**
 * A job key the journal already knows names that job: wait for it (or read its recorded outcome), never
 * create it again. An orphan (its create was sent, its id never seen) cannot be waited for by id: refused.
 */
async function adopt(client: ResponsesClient, r: Resolved, link: JournalLink, fn: string): Promise<BackgroundResponse> {
  const lease = (link.mode ?? 'lease') === 'lease';
  if (lease && (link.state === 'terminal' || link.state === 'delivering' || link.state === 'lost')) {
    // The outcome is in the journal already (a process died before delivering it): deliver it from there,
    // no request (the server may no longer hold it).
    const bound = new AbortController();
    const timer = r.clock.sleep(Math.max(0, r.deadlineAt - r.clock.now()), bound.signal).then(() => bound.abort());
    const recorded = await link.awaitRecorded(bound.signal);
    bound.abort();
    await timer;
    if (recorded !== undefined && 'result' in recorded && isResponseLike(recorded.result)) {
      const start: Start = { id: recorded.result.id, snapshot: recorded.result, streamCapable: false };
      return settle(new Waiter(client, r, start, link), start, r, link);
    }
    const reason = recorded !== undefined && 'lost' in recorded ? recorded.lost : 'no result was recorded';
    await link.finish({ kind: 'lost', reason });
    throw makeError('expired', `${fn}: job key ${link.key} names a job that was lost (${reason}); it is not created again.`, { objectId: link.objectId });
  }
  if (link.objectId === undefined && lease) {
    await link.finish({ kind: 'detached' });
    throw makeError(
      'conflict',
      `${fn}: job key ${link.key} names a job whose create was sent but whose id was never seen (an orphan, left by a process that stopped). It is not created again: its webhook (metadata.${JOB_METADATA_KEY}) recovers it, or journal.resumeAll() delivers it as lost after orphanAfterMs. Pass a new jobKey to create a new job.`,
      {},
    );
  }
  const start: Start = { id: link.objectId, streamCapable: link.stream ?? false, ...(link.cursor !== undefined ? { cursor: link.cursor } : {}) };
  return settle(new Waiter(client, r, start, link), start, r, link);
}

/**
 * Create a Response with `background: true` (and `store: true` unless `params.store` says otherwise),
 * journal its id before anything else, and wait for it like {@link waitForResponse}.
 *
 * With `stream` `'auto'` (the default) or `true` the Response is created with `stream: true` and followed
 * on that stream, resumed from the last `sequence_number` if it drops.
 *
 * With a `journal`, a `jobKey` names one job, and a job is paid for once: when the key is already in the
 * journal, no create is sent. A job with a known id (say, left `pending` by a process that died) is
 * adopted: this call waits for that id and resolves with its result (or, when the outcome is journaled
 * but was never delivered, delivers it and settles with it, without a request). A job already delivered settles with
 * its recorded outcome, without a request (a lost one rejects with `ExpiredError`). A job another wait of
 * this process follows is joined: this call settles with the outcome that one records, or takes the job
 * over if that one ends without it (aborted, or its deadline passed). A job whose create was sent
 * but whose id was never seen (an orphan) rejects with a `ConflictError` (code `conflict`): its webhook or
 * the journal's orphan rule settles it; pass a new `jobKey` for a new job. A key leased by another live
 * process also rejects with `ConflictError`. The `params` of such a call are not compared with the
 * original's: the key decides.
 *
 * A create with `background_options.completion_window` (flex and hours-long windows: `'soonest'`, `'2h'`,
 * `'8h'`) is never streamed, since the API streams none of those (`stream: true` is refused with a
 * `TypeError` before anything is sent): it is created with `stream: false` and polled, healthy polls up to
 * 5 minutes apart unless `maxDelayMs` is given. The journal keeps its row for the whole window: an orphan
 * of it (create sent, id never seen) is declared lost only `orphanAfterMs` after the window ends
 * (`'soonest'` and values not of the form `<n>h` count as 8 hours), so its webhook can still recover it.
 *
 * The key goes to the journal (state `creating`) and into `metadata.faultline_job` before the create is
 * sent, and the id is journaled from the first thing the server answers (the first stream event, or the
 * JSON body); no earlier byte carries it. A process killed between those two points leaves an orphan
 * that only its webhook can name.
 */
export function createAndWait<R extends BackgroundResponse = BackgroundResponse>(
  client: ResponsesClient,
  params: CreateParams,
  options: WaitOptions,
): Promise<R> {
  return observeWait({ operation: 'createAndWait', kind: 'response', target: params }, () => createAndWaitNow<R>(client, params, options));
}

async function createAndWaitNow<R extends BackgroundResponse>(client: ResponsesClient, params: CreateParams, options: WaitOptions): Promise<R> {
  const fn = 'createAndWait';
  assertClient(client, fn);
  if (typeof params !== 'object' || params === null) throw new TypeError(`${fn}: \`params\` must be the create request body`);
  if (params['background'] === false) throw new TypeError(`${fn}: \`params.background\` must not be false: createAndWait creates background responses`);
  // A flex / long-window job is background only and cannot be streamed: poll it at a pace that fits hours.
  const windowMs = completionWindowMs(params);
  if (windowMs !== undefined && (params['stream'] === true || (options as WaitOptions | undefined)?.stream === true)) {
    throw new TypeError(`${fn}: a job with background_options.completion_window cannot be streamed: leave \`stream\` unset or false`);
  }
  const r = resolveOptions(windowMs !== undefined && typeof options === 'object' && options !== null ? windowedPace(options) : options, undefined, fn);
  const stream = windowMs === undefined && params['stream'] !== false && r.stream !== false;
  const journal = r.options.journal;
  const key = r.options.jobKey ?? (journal !== undefined ? crypto.randomUUID() : undefined);
  const body: Record<string, unknown> = { ...params, background: true, store: params['store'] ?? true, stream };
  if (key !== undefined) body['metadata'] = { ...(params.metadata ?? {}), [JOB_METADATA_KEY]: key };

  let link: JournalLink | null = null;
  if (journal !== undefined) {
    link = await journal.track({
      key: key as string,
      kind: 'response',
      stream,
      deadlineAt: r.deadlineAt,
      ...(windowMs !== undefined ? { windowMs } : {}),
      ...(r.signal !== undefined ? { signal: r.signal } : {}),
    });
    if (link === null) {
      throw makeError('conflict', `${fn}: job key ${key as string} is followed by another live process (it holds the journal lease); no second create was sent. Its outcome reaches the journal's handler; retry after its lease lapses to adopt it.`, {});
    }
    if (link.isNew === false) return (await adopt(client, r, link, fn)) as R;
  }
  const controller = new AbortController();
  const onAbort = (): void => controller.abort();
  r.signal?.addEventListener('abort', onAbort);
  let answer: StreamAnswer;
  try {
    const call = client.responses.create(body, { signal: controller.signal, maxRetries: 0, timeout: Math.max(1, Math.min(r.requestTimeoutMs, r.deadlineAt - r.clock.now())) });
    answer = stream ? await openStream(call) : { kind: 'body', body: await call };
  } catch (error) {
    r.signal?.removeEventListener('abort', onAbort);
    const failure = classify(error, { now: r.clock.now() });
    // A definite rejection (an HTTP status below 500) created nothing. A timeout, reset or 5xx may have
    // created the job: the row stays `creating` so a webhook can recover it (or resumeAll marks it lost).
    if (link !== null) {
      if (failure.status !== undefined && failure.status < 500) await link.finish({ kind: 'lost', reason: `create_rejected:${failure.code}` });
      else await link.finish({ kind: 'detached' });
    }
    throw r.signal?.aborted === true ? makeError('aborted', 'Aborted while creating the background response; it may have been created (the journal keeps it as an orphan).', { cause: error }) : toError(error);
  }
  r.signal?.removeEventListener('abort', onAbort);
  let start: Start;
  if (answer.kind === 'body' && isResponseLike(answer.body)) {
    await link?.attachId(answer.body.id);
    // Asked to stream, answered with the Response as plain JSON: a server that does not stream. Poll.
    start = { ...startFrom(answer.body, fn), streamCapable: false, ...(stream ? { pollOnly: true } : {}) };
  } else if (answer.kind === 'stream') {
    start = { id: undefined, streamCapable: true, initial: { events: answer.events, controller } };
  } else {
    // No id to follow: the row stays `creating` (an orphan a webhook can still recover).
    if (link !== null) await link.finish({ kind: 'detached' });
    if (typeof answer.body === 'object' && answer.body !== null && detectFailure(answer.body) !== null) throw toError(answer.body, { response: answer.body });
    throw makeError('unknown', 'responses.create answered neither a Response nor a stream.', { response: answer.body });
  }
  const waiter = new Waiter(client, r, start, link);
  return (await settle(waiter, start, r, link)) as R;
}
