/**
 * Retrying by catalog code. The policy ({@link isRetryableFailure}) is a pure function of a
 * {@link Failure}; the executor ({@link retry}) sleeps between attempts, on an injectable clock, and
 * stops at once when its `AbortSignal` aborts.
 *
 * Retried: the codes whose catalog row is `retryable` (rate limit, overloaded, server error, timeout,
 * connection error, conflict); never retried, whatever a header says: every other code but `unknown`.
 * `x-should-retry: false` stops any retry; `x-should-retry: true` allows one for `unknown`.
 */
import { abortReason, raceAbort, throwIfAborted } from '../internal/abort.ts';
import { sleepFor, type Clock } from '../internal/clock.ts';
import { attemptDeadline } from '../internal/deadline.ts';
import { clock, count, durationMs, fn, misuse, optionsObject, rejectRenamed, rejectUnknown, signal } from '../internal/options.ts';
import { isRetryableFailure } from '../core/catalog.ts';
import { classify } from '../core/classify/index.ts';
import { errorFor } from '../core/errors.ts';
import type { Failure } from '../core/failure.ts';
import { exponentialBackoff, type Backoff } from './backoff.ts';
import { RetryError, RetryTimeSpent } from '../core/retry-error.ts';

// The one retry rule lives with the catalog rows it reads (src/core/catalog.ts).
export { isRetryableFailure, NEVER_RETRIED_CODES, RETRYABLE_CODES } from '../core/catalog.ts';

/** What an attempt can see. */
export interface AttemptContext {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Aborts when the caller's signal aborts or this attempt's `attemptTimeoutMs` passes. Pass it to the I/O. */
  readonly signal: AbortSignal;
  /**
   * Call once output has reached the caller (the first byte of a stream): a failure after that is
   * thrown, never retried, because sending again would repeat what the caller already has.
   */
  markDelivered(): void;
}

/** Passed to `onRetry` before each wait. */
export interface RetryInfo {
  /** The attempt that failed (1-based). */
  readonly attempt: number;
  readonly failure: Failure;
  /** The original error of that attempt. */
  readonly error: unknown;
  /** How long faultline will wait before the next attempt, in milliseconds. */
  readonly delayMs: number;
}

/** Options of {@link retry}. */
export interface RetryOptions {
  /**
   * How many times to retry after the first attempt (so at most `retries + 1` attempts, whatever the
   * failure and whichever layer waited before the next one: a 429 spends a retry too).
   * @default 8
   */
  readonly retries?: number;
  /**
   * The total time budget for retrying, in milliseconds from the first attempt: no wait is started that
   * would end after it (the attempt in progress is not cut; use `attemptTimeoutMs` for that). In
   * `createFetch` it counts from the call and covers the wait for a pacing turn too: a request whose turn
   * would come after its budget gives up at once with a `RetryError` (`retry_time_exhausted`).
   * @default 600000 (10 minutes)
   */
  readonly maxRetryTimeMs?: number;
  /**
   * The bound on each attempt, in milliseconds; an attempt that takes longer is aborted and counts as a
   * `timeout` failure (retried).
   * @default none
   */
  readonly attemptTimeoutMs?: number;
  /**
   * The delays between attempts when the server gave no `retry-after`.
   * @default exponentialBackoff(): 500 ms doubling up to 30 s, full jitter
   */
  readonly backoff?: Backoff;
  /**
   * The longest server-requested wait (`retry-after-ms`/`retry-after`) honoured, in milliseconds; a
   * longer request ends retrying at once with a {@link RetryError} (`retry_time_exhausted`). In
   * `createFetch` the pause a 429 imposes on every request of the model is capped at this too.
   * @default 60000
   */
  readonly maxRetryAfterMs?: number;
  /** Stops retrying at once: a pending wait ends and the signal's reason is thrown. @default none */
  readonly signal?: AbortSignal;
  /**
   * Called for a failure the policy would retry; return `false` to stop (the typed error is thrown).
   * It cannot make a never-retried code retryable.
   * @default always true
   */
  readonly shouldRetry?: (failure: Failure, attempt: number) => boolean;
  /** Called before each wait. Exceptions it throws propagate (and end retrying). @default none */
  readonly onRetry?: (info: RetryInfo) => void;
  /**
   * The clock the waits and the attempt bound run on (`createManualClock()` from `faultline/mock` in
   * tests). Its `sleep` resolves when its signal aborts; one that rejects is held to that rule.
   * @default the system clock: `Date.now` and faultline's sleep on `setTimeout`, re-armed past 2³¹−1 ms
   */
  readonly clock?: Clock;
  /**
   * The source of randomness for jitter, in `[0, 1)`; used by the default backoff and by the spread
   * added to server-requested waits.
   * @default Math.random
   */
  readonly random?: () => number;
}

/** @internal Resolved options plus the hooks `createFetch` plugs in. */
export interface RetryPlan {
  readonly retries: number;
  readonly maxRetryTimeMs: number;
  readonly attemptTimeoutMs: number | undefined;
  readonly backoff: Backoff;
  readonly maxRetryAfterMs: number;
  readonly signal: AbortSignal | undefined;
  readonly shouldRetry: ((failure: Failure, attempt: number) => boolean) | undefined;
  readonly onRetry: ((info: RetryInfo) => void) | undefined;
  readonly clock: Clock;
  readonly random: () => number;
  /** Reads the failure of a thrown error (default: `classify`). */
  readonly failureOf?: (error: unknown) => Failure;
  /** The wait before the next attempt, given the backoff's proposal. */
  readonly delayFor?: (failure: Failure, backoffMs: number) => number;
}

/** However failures are counted, no request makes more attempts than this. */
const MAX_ATTEMPTS = 100;

/** @internal Keys of {@link RetryOptions} renamed before 1.0 (CONTRIBUTING.md, rule 9); deleted at 1.0. */
export const RETRY_RENAMED: Readonly<Record<string, string>> = {
  timeout: 'attemptTimeoutMs (0.2.0)',
  maxRetryTime: 'maxRetryTimeMs (0.2.0)',
  maxRetryAfter: 'maxRetryAfterMs (0.2.0)',
  now: 'clock (0.2.0)',
  sleep: 'clock (0.2.0)',
};

/** @internal Every key of {@link RetryOptions} (a `Record` over `keyof`, so the compiler keeps the list complete). */
export const RETRY_OPTION_KEYS: Readonly<Record<keyof RetryOptions, true>> = {
  retries: true,
  maxRetryTimeMs: true,
  attemptTimeoutMs: true,
  backoff: true,
  maxRetryAfterMs: true,
  signal: true,
  shouldRetry: true,
  onRetry: true,
  clock: true,
  random: true,
};
const RETRY_KEYS: ReadonlySet<string> = new Set(Object.keys(RETRY_OPTION_KEYS));

function backoffOf(owner: string, value: unknown, random: () => number): Backoff {
  if (value === undefined) return exponentialBackoff({ random });
  if (typeof value !== 'object' || value === null || typeof (value as Partial<Backoff>).next !== 'function') {
    throw misuse('type', owner, 'backoff', 'a Backoff (for example exponentialBackoff({ initialDelayMs: 200 }))', value);
  }
  return value as Backoff;
}

/** @internal Validates {@link RetryOptions} (misuse throws a TypeError/RangeError naming the option). */
export function resolveRetryPlan(owner: string, options: RetryOptions): RetryPlan {
  const o = optionsObject(owner, options);
  rejectRenamed(owner, o, RETRY_RENAMED);
  rejectUnknown(owner, o, RETRY_KEYS);
  const random = fn<() => number>(owner, 'random', o['random']) ?? Math.random;
  const attemptTimeoutMs = durationMs(owner, 'attemptTimeoutMs', o['attemptTimeoutMs'], { exclusiveMin: true, infinity: true });
  return {
    retries: count(owner, 'retries', o['retries'], { default: 8 }),
    maxRetryTimeMs: durationMs(owner, 'maxRetryTimeMs', o['maxRetryTimeMs'], { default: 600_000, infinity: true }),
    attemptTimeoutMs: attemptTimeoutMs === Infinity ? undefined : attemptTimeoutMs,
    backoff: backoffOf(owner, o['backoff'], random),
    maxRetryAfterMs: durationMs(owner, 'maxRetryAfterMs', o['maxRetryAfterMs'], { default: 60_000, infinity: true }),
    signal: signal(owner, 'signal', o['signal']),
    shouldRetry: fn(owner, 'shouldRetry', o['shouldRetry']),
    onRetry: fn(owner, 'onRetry', o['onRetry']),
    clock: clock(owner, o['clock']),
    random,
  };
}

/** A server-requested wait gets a little random spread above it, never below. */
function withSpread(ms: number, random: () => number): number {
  const r = random();
  return ms + Math.floor(Math.min(ms * 0.1, 1000) * (Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0));
}

/** @internal The loop behind {@link retry} and `createFetch`. */
export async function runWithRetry<T>(fn: (ctx: AttemptContext) => Promise<T>, plan: RetryPlan): Promise<T> {
  const { clock, signal } = plan;
  const started = clock.now();
  const failures: Failure[] = [];
  let backoff = plan.backoff;
  let lastError: unknown;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    const deadline = attemptDeadline(clock, signal, plan.attemptTimeoutMs);
    let delivered = false;
    try {
      // Raced against the caller's signal: an attempt that ignores its signal must not hold the caller.
      // `signal` is a getter: an attempt that never reads it (createFetch with nothing that can abort) makes none.
      const ctx: AttemptContext = {
        attempt,
        get signal() {
          return deadline.signal;
        },
        markDelivered: () => void (delivered = true),
      };
      return await raceAbort(fn(ctx), signal);
    } catch (error) {
      if (signal?.aborted === true) throw abortReason(signal);
      // A wait inside the attempt (the pacer) could not end within the budget: nothing more was sent.
      if (error instanceof RetryTimeSpent) throw new RetryError('retry_time_exhausted', failures, lastError ?? error, error.waitingFor);
      lastError = error;
      // Timed out: the attempt may have thrown anything on its abort; the failure is the timeout.
      const failure = deadline.timedOut() ? classify(deadline.signal.reason) : (plan.failureOf ?? classify)(error);
      failures.push(failure);
      const retryable = !delivered && isRetryableFailure(failure) && (plan.shouldRetry?.(failure, attempt) ?? true);
      if (!retryable) throw errorFor(failure, { cause: error });
      // Every attempt counts, whichever layer waited before it: at most `retries + 1` are sent.
      if (attempt > plan.retries || attempt >= MAX_ATTEMPTS) throw new RetryError('retries_exhausted', failures, error);
      const step = backoff.next();
      backoff = step.backoff;
      const hint = failure.retryAfterMs;
      if (hint !== undefined && hint > plan.maxRetryAfterMs) throw new RetryError('retry_time_exhausted', failures, error);
      const proposed = hint !== undefined ? Math.max(withSpread(hint, plan.random), 0) : step.delayMs;
      const delayMs = plan.delayFor ? plan.delayFor(failure, proposed) : proposed;
      if (clock.now() + delayMs - started > plan.maxRetryTimeMs) throw new RetryError('retry_time_exhausted', failures, error);
      plan.onRetry?.({ attempt, failure, error, delayMs });
      await sleepFor(clock, delayMs, signal);
    } finally {
      deadline.end();
    }
  }
}

/**
 * Runs `fn` until it succeeds, retrying failures by catalog code with full-jitter backoff (or the
 * server's `retry-after`), within `retries` and `maxRetryTimeMs`.
 *
 * - A non-retryable failure throws its typed error at once (`QuotaExceededError`, ...), the original on
 *   `cause`.
 * - Giving up throws a {@link RetryError} with every attempt's failure.
 * - An abort throws the signal's reason at once, during an attempt or a wait.
 *
 * @example
 * const answer = await retry(({ signal }) => client.responses.create({ model, input }, { signal }), { retries: 5 });
 */
export function retry<T>(fn: (ctx: AttemptContext) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  if (typeof fn !== 'function') throw misuse('type', 'retry', '#fn', 'a function', fn);
  return runWithRetry(fn, resolveRetryPlan('retry', options));
}
