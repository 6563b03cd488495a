/**
 * The wait options of every background wait (`waitForResponse`, `createAndWait`, `waitForBatch`,
 * `resumeAll`), and the one place they are validated and their deadline is decided.
 */
import type { FailureCode } from '../core/catalog.ts';
import { ERROR_CLASSES, type FaultlineError } from '../core/errors.ts';
import { failureOf } from '../core/failure.ts';
import type { Clock } from '../internal/clock.ts';
import { journalPort, type JournalPort, type WaitJournal } from '../internal/journal-port.ts';
import { clock as clockOption, count, durationMs, fn, misuse, moment, nonEmptyString, oneOf, rejectRenamed, rejectUnknown, signal as signalOption } from '../internal/options.ts';
import type { ResultHub } from './hub.ts';
import { pollPolicyOf, type PollOptions, type PollPolicy } from './poll-backoff.ts';
import type { WaitToken } from './token.ts';
import type { BackgroundResponse, ProgressSource } from './types.ts';

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
export interface WaitOptions extends PollOptions {
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
  /** Stops the wait. What happens to the job is set by `abort`. */
  signal?: AbortSignal;
  /**
   * What an abort does to the job on the server. `'detach'`: nothing; the job keeps running (resume it
   * later with the token or the journal) and the wait rejects with `UserAbortError`. `'cancel'`: cancel it
   * remotely, then settle with whatever the server says the final state is; a job that completed before
   * the cancel took effect resolves with the completed Response, a cancelled one rejects with
   * `CancelledError`.
   * @default 'detach'
   */
  abort?: 'detach' | 'cancel';
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
   * The clock every wait reads and sleeps on (deadline, poll delays, stream idle timeout). Pass the same
   * fake clock (`createManualClock()` from `faultline/mock`) to the mock, the journal and the wait to
   * drive them together in a test.
   * @default the system clock (`Date.now` and timers cleared when the wait ends)
   */
  clock?: Clock;
  /**
   * The random source for jitter, returning a number in `[0, 1)`.
   * @default Math.random
   */
  random?: () => number;
}

/** The longest wait between healthy polls of a job with a completion window (hours long): 5 minutes. */
export const WINDOW_MAX_DELAY_MS = 300_000;
/** The longest completion window known ('8h'): assumed for 'soonest' and for any value not of the form `<n>h`. */
const LONGEST_WINDOW_MS = 8 * 3_600_000;

/**
 * How long a job created with `background_options.completion_window` (openai-node 7.58: `'soonest'`,
 * `'2h'`, `'8h'`; background only, never streamed) may run, in milliseconds; `undefined` without one.
 */
export function completionWindowMs(params: Readonly<Record<string, unknown>>): number | undefined {
  const options = params['background_options'];
  const window = typeof options === 'object' && options !== null ? (options as Record<string, unknown>)['completion_window'] : undefined;
  if (window === undefined || window === null) return undefined;
  const hours = typeof window === 'string' ? /^(\d{1,3})h$/.exec(window) : null;
  return hours !== null ? Number(hours[1]) * 3_600_000 : LONGEST_WINDOW_MS;
}

/** Options for a job with a completion window: healthy polls up to {@link WINDOW_MAX_DELAY_MS} apart, unless `maxDelayMs` is set. */
export function windowedPace<T extends PollOptions>(options: T): T {
  if (options.maxDelayMs !== undefined) return options;
  return { ...options, maxDelayMs: Math.max(WINDOW_MAX_DELAY_MS, typeof options.minDelayMs === 'number' ? options.minDelayMs : 0) };
}

const DEFAULT_MAX_RECONNECTS = 5;
const DEFAULT_MAX_TRANSIENT = 8;
const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 120_000;

/** Keys of the wait options renamed before 1.0 (CHANGELOG, **breaking**); a call that passes one fails at once. */
export const WAIT_RENAMED: Readonly<Record<string, string>> = Object.freeze({ onAbort: 'abort (0.2.0)', now: 'clock (0.2.0)', sleep: 'clock (0.2.0)' });

/** Every key of {@link WaitOptions} (a `Record` over `keyof`, so the compiler keeps the list complete). */
export const WAIT_OPTION_KEYS: Readonly<Record<keyof WaitOptions, true>> = {
  timeoutMs: true,
  deadline: true,
  signal: true,
  abort: true,
  stream: true,
  maxReconnects: true,
  streamIdleTimeoutMs: true,
  maxTransientErrors: true,
  requestTimeoutMs: true,
  incomplete: true,
  onIncomplete: true,
  onProgress: true,
  journal: true,
  jobKey: true,
  hub: true,
  clock: true,
  random: true,
  minDelayMs: true,
  maxDelayMs: true,
  ageFactor: true,
  jitter: true,
};
const WAIT_KEYS: ReadonlySet<string> = new Set(Object.keys(WAIT_OPTION_KEYS));

/** Validated wait options. */
export interface Resolved {
  readonly clock: Clock;
  readonly random: () => number;
  readonly policy: PollPolicy;
  readonly deadlineAt: number;
  readonly startedAt: number;
  readonly signal: AbortSignal | undefined;
  readonly abort: 'detach' | 'cancel';
  readonly stream: boolean | 'auto';
  readonly maxReconnects: number;
  readonly maxTransient: number;
  readonly requestTimeoutMs: number;
  readonly streamIdleTimeoutMs: number;
  /** The journal's port, when `options.journal` is given. */
  readonly journal: JournalPort | undefined;
  readonly options: WaitOptions;
}

/**
 * Validate the wait options of `owner` (every check through `internal/options.ts`) and decide
 * the deadline: `deadline`, else `timeoutMs` from now, else the resume token's; one is required.
 */
export function resolveOptions(
  options: WaitOptions | undefined,
  tokenDeadline: number | undefined,
  owner: string,
  renamed: Readonly<Record<string, string>> = WAIT_RENAMED,
  known: ReadonlySet<string> = WAIT_KEYS,
): Resolved {
  if (typeof options !== 'object' || options === null) {
    throw misuse('type', owner, 'timeoutMs', 'a number of milliseconds, or options.deadline a moment (an unbounded wait on a background job is a leak)', options);
  }
  rejectRenamed(owner, options, renamed);
  rejectUnknown(owner, options, known);
  const o = options as Record<string, unknown>;
  const clock = clockOption(owner, o['clock']);
  const startedAt = clock.now();
  const deadline = moment(owner, 'deadline', o['deadline']);
  const timeoutMs = durationMs(owner, 'timeoutMs', o['timeoutMs']);
  const deadlineAt = deadline ?? (timeoutMs !== undefined ? startedAt + timeoutMs : tokenDeadline);
  if (deadlineAt === undefined) {
    throw misuse('type', owner, 'timeoutMs', 'a number of milliseconds, or options.deadline a moment (an unbounded wait on a background job is a leak)', undefined);
  }
  oneOf(owner, 'incomplete', o['incomplete'], ['throw', 'return'] as const, 'throw');
  fn(owner, 'onIncomplete', o['onIncomplete']);
  fn(owner, 'onProgress', o['onProgress']);
  nonEmptyString(owner, 'jobKey', o['jobKey']);
  const hub = o['hub'] as { subscribe?: unknown } | undefined;
  if (hub !== undefined && (typeof hub !== 'object' || hub === null || typeof hub.subscribe !== 'function')) throw misuse('type', owner, 'hub', 'a ResultHub (createResultHub())', hub);
  const journal = o['journal'] === undefined ? undefined : journalPort(o['journal']);
  if (o['journal'] !== undefined && journal === undefined) throw misuse('type', owner, 'journal', 'a Journal from faultline/journal (openJournal(path))', o['journal']);
  return {
    clock,
    random: fn<() => number>(owner, 'random', o['random']) ?? Math.random,
    policy: pollPolicyOf(owner, options),
    deadlineAt,
    startedAt,
    signal: signalOption(owner, 'signal', o['signal']),
    abort: oneOf(owner, 'abort', o['abort'], ['detach', 'cancel'] as const, 'detach'),
    stream: oneOf<boolean | 'auto'>(owner, 'stream', o['stream'], ['auto', true, false], 'auto'),
    maxReconnects: count(owner, 'maxReconnects', o['maxReconnects'], { default: DEFAULT_MAX_RECONNECTS }),
    maxTransient: count(owner, 'maxTransientErrors', o['maxTransientErrors'], { default: DEFAULT_MAX_TRANSIENT }),
    requestTimeoutMs: durationMs(owner, 'requestTimeoutMs', o['requestTimeoutMs'], { default: DEFAULT_REQUEST_TIMEOUT_MS }),
    streamIdleTimeoutMs: durationMs(owner, 'streamIdleTimeoutMs', o['streamIdleTimeoutMs'], { default: DEFAULT_STREAM_IDLE_TIMEOUT_MS, exclusiveMin: true }),
    journal,
    options,
  };
}

/** A typed error made here (deadline, detach, expiry), with the object id on its failure. */
export function makeError(code: FailureCode, message: string, extra: { cause?: unknown; response?: unknown; objectId?: string | undefined }): FaultlineError {
  const failure = failureOf(code, { message, ...(extra.objectId !== undefined ? { objectId: extra.objectId } : {}) });
  return new ERROR_CLASSES[code](failure as never, { cause: extra.cause, response: extra.response });
}

