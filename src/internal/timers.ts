/**
 * The one sleep of the library. Every real wait in faultline (retry delays, pacing, polling, deadlines,
 * the mock's injected delays) ends up here, so the rules below hold everywhere:
 *
 * - **Clamped and re-armed.** Node (like browsers) stores a timer's delay in a signed 32-bit integer: a
 *   delay above 2³¹−1 ms (about 24.8 days) is replaced by 1 ms, with only a `TimeoutOverflowWarning`.
 *   A server hint of `retry-after-ms: 1e12` or a 25-day deadline would then fire at once, again and
 *   again: a busy loop. So a long sleep is armed in steps of at most {@link MAX_TIMER_MS} and re-armed
 *   until the whole delay has passed.
 * - **Cancellable.** An `AbortSignal` ends the sleep at once: the promise *resolves* (the caller checks
 *   why it woke up) and the timer and the listener are removed.
 * - **Nothing left behind.** When the sleep ends, however it ends, no timer and no listener remain.
 * - **Unref on request.** Servers and background helpers that must not keep a process alive pass
 *   `unref: true`; waits a caller awaits (a script waiting for a job) stay ref'd.
 *
 * The timer functions are injectable, so the re-arming is tested with a fake `setTimeout` and never on
 * the wall clock.
 * @see https://nodejs.org/api/timers.html#settimeoutcallback-delay-args (delay outside 1 … 2147483647)
 */

/** The longest delay one `setTimeout` can hold: 2³¹−1 ms (24 days, 20 hours, 31 minutes, 23.647 s). */
export const MAX_TIMER_MS = 2_147_483_647;

/** The two timer functions the sleep uses (the global ones unless a test injects others). */
export interface TimerApi {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The global timers, read at each call (so `node:test` `mock.timers` and similar fakes apply). */
const globalTimers: TimerApi = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};

/** Options of {@link sleep}. */
export interface SleepOptions {
  /** Ends the sleep early (it resolves). */
  readonly signal?: AbortSignal | undefined;
  /** Whether the timer must not keep the process alive. @default false */
  readonly unref?: boolean | undefined;
  /** The timer functions. @default the global `setTimeout`/`clearTimeout` */
  readonly timers?: TimerApi | undefined;
}

/**
 * One armed step of a sleep of `ms` milliseconds: never more than {@link MAX_TIMER_MS}, and never less
 * than 0. A delay that is not a number above 0 (NaN, negative) is 0.
 */
export function timerStep(ms: number): number {
  return ms > 0 ? Math.min(ms, MAX_TIMER_MS) : 0;
}

/**
 * Resolves after `ms` milliseconds, or as soon as `options.signal` aborts. Never rejects. A delay of 0
 * or less (or NaN) resolves at once; `Infinity` sleeps until the signal aborts. A delay above
 * {@link MAX_TIMER_MS} is waited in re-armed steps, never shortened.
 */
export function sleep(ms: number, options: SleepOptions = {}): Promise<void> {
  const { signal, unref = false } = options;
  const timers = options.timers ?? globalTimers;
  return new Promise<void>((resolve) => {
    if (signal?.aborted === true || !(ms > 0)) {
      resolve();
      return;
    }
    let left = ms;
    let handle: unknown;
    const done = (): void => {
      timers.clearTimeout(handle);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const arm = (): void => {
      const step = timerStep(left);
      handle = timers.setTimeout(() => {
        left -= step;
        if (left > 0) arm();
        else done();
      }, step);
      if (unref) (handle as { unref?: () => void } | null)?.unref?.();
    };
    signal?.addEventListener('abort', done, { once: true });
    arm();
  });
}
