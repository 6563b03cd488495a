/**
 * The wait options of every background wait (`waitForResponse`, `createAndWait`, `waitForBatch`,
 * `resumeAll`), and the one place they are validated and their deadline is decided.
 */
import { entryOf, type FailureCode } from '../core/catalog.ts';
import { ERROR_CLASSES, type FaultlineError } from '../core/errors.ts';
import type { Failure } from '../core/failure.ts';
import { resolveClock, type Clock } from './clock.ts';
import type { ResultHub } from './hub.ts';
import { resolvePollPolicy, type PollPolicy, type PollPolicyOptions } from './poll-backoff.ts';
import type { WaitToken } from './token.ts';
import type { BackgroundResponse, ProgressSource, WaitJournal } from './types.ts';

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

