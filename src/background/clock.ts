/**
 * The time source of every wait. Injected so tests and benchmarks drive time (a fake clock, node:test
 * `mock.timers`, or the mock server's simulated clock) and no test ever sleeps on the wall clock.
 */
export interface Clock {
  /** Milliseconds since the epoch (or since any fixed origin, as long as it is the same for every call). */
  now(): number;
  /**
   * Resolve after `ms` milliseconds, or as soon as `signal` aborts (resolving, not rejecting: the caller
   * checks why it woke up). A clock whose sleep rejects on abort (such as the mock's) is wrapped with
   * `.catch(() => {})`.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The real clock: `Date.now()` and a `setTimeout` that an abort cuts short. The timer is *not* unref'd:
 * a script that awaits a wait must not exit between two polls. Every sleep the background layer starts
 * is aborted (and its timer cleared) when its wait ends, so nothing outlives the wait.
 */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  sleep: (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted === true || ms <= 0) {
        resolve();
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    }),
});

/** Build a clock from optional `now`/`sleep` overrides, filling the rest from {@link systemClock}. */
export function resolveClock(options: { now?: () => number; sleep?: (ms: number, signal?: AbortSignal) => Promise<void> }): Clock {
  if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('`now` must be a function returning milliseconds');
  if (options.sleep !== undefined && typeof options.sleep !== 'function') throw new TypeError('`sleep` must be a function (ms, signal) => Promise<void>');
  return { now: options.now ?? systemClock.now, sleep: options.sleep ?? systemClock.sleep };
}
