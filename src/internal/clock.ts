/**
 * The one clock contract of the library: retry, pacing, background waits, the journal and the mock all
 * read time and wait through a {@link Clock}, so a test drives every one of them the same way.
 */
import { throwIfAborted } from './abort.ts';
import { sleep, type TimerApi } from './timers.ts';

/**
 * The time source of every wait. Injected so tests and benchmarks drive time (a fake clock, node:test
 * `mock.timers`, or the mock server's `createManualClock()`) and no test ever sleeps on the wall clock.
 */
export interface Clock {
  /** Milliseconds since the epoch (or since any fixed origin, as long as it is the same for every call). */
  now(): number;
  /**
   * Resolves after `ms` milliseconds of this clock's time, or as soon as `signal` aborts.
   *
   * **An abort resolves; it never rejects.** The caller checks why it woke up (`signal.aborted`), or
   * uses {@link sleepFor}, which rejects with the signal's reason. One rule for every clock, because
   * most waits are "sleep until something happens" (a webhook, a pacing change, a deadline), where a
   * wake-up is not a failure, and because a fire-and-forget `clock.sleep(d, s).then(…)` must never
   * become an unhandled rejection. A clock passed to {@link resolveClock} is held to this rule even if
   * its `sleep` rejects on abort or ignores the signal.
   *
   * A real clock waits in re-armed steps (see `timers.ts`): a delay above 2³¹−1 ms is never cut short.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Options of {@link timerClock}. */
export interface TimerClockOptions {
  /** Whether timers must not keep the process alive. @default false */
  readonly unref?: boolean;
  /** The timer functions. @default the global `setTimeout`/`clearTimeout` */
  readonly timers?: TimerApi;
  /** The time source, in epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/** A {@link Clock} on real timers (or injected ones), through the library's one sleep. */
export function timerClock(options: TimerClockOptions = {}): Clock {
  const { unref = false, timers, now = () => Date.now() } = options;
  return Object.freeze({ now, sleep: (ms: number, signal?: AbortSignal) => sleep(ms, { signal, unref, timers }) });
}

/**
 * The real clock: `Date.now()` and the library's sleep. The timer is *not* unref'd: a script that
 * awaits a wait must not exit between two polls. Every sleep the library starts is aborted (and its
 * timer cleared) when its wait ends, so nothing outlives the wait.
 */
export const systemClock: Clock = timerClock();

/** The real clock with unref'd timers, for servers and helpers that must never hold a process open. */
export const unrefClock: Clock = timerClock({ unref: true });

/** Holds a caller's `sleep` to the {@link Clock} contract: resolves on abort, whatever it does itself. */
function contractSleep(own: (ms: number, signal?: AbortSignal) => Promise<void>): Clock['sleep'] {
  return (ms, signal) => {
    if (signal === undefined) return own(ms);
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => resolve();
      signal.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => signal.removeEventListener('abort', onAbort);
      own(ms, signal).then(
        () => {
          settle();
          resolve();
        },
        (e: unknown) => {
          settle();
          if (signal.aborted) resolve();
          else reject(e);
        },
      );
    });
  };
}

/**
 * Builds a clock from optional `now`/`sleep` overrides, filling the rest from {@link systemClock}. A
 * given `sleep` is held to the contract (an abort resolves). With `owner`, a bad option throws
 * `owner: options.now must be …`.
 */
export function resolveClock(
  options: { now?: (() => number) | undefined; sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined },
  owner?: string,
): Clock {
  const name = (option: string): string => (owner === undefined ? `\`${option}\`` : `${owner}: options.${option}`);
  if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError(`${name('now')} must be a function returning milliseconds`);
  if (options.sleep !== undefined && typeof options.sleep !== 'function') throw new TypeError(`${name('sleep')} must be a function (ms, signal) => Promise<void>`);
  return { now: options.now ?? systemClock.now, sleep: options.sleep === undefined ? systemClock.sleep : contractSleep(options.sleep) };
}

/**
 * Waits `ms` milliseconds of `clock` time. Resolves early (without throwing) when `wake` aborts, and
 * rejects with the reason as soon as `signal` aborts, even if the clock's `sleep` ignores signals.
 */
export async function sleepFor(clock: Clock, ms: number, signal?: AbortSignal, wake?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  if (wake?.aborted === true) return;
  if (!(ms > 0)) return;
  const stop = new AbortController();
  const cut = (): void => stop.abort();
  signal?.addEventListener('abort', cut, { once: true });
  wake?.addEventListener('abort', cut, { once: true });
  try {
    await Promise.race([
      clock.sleep(ms, stop.signal).catch(() => undefined),
      new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true })),
    ]);
  } finally {
    signal?.removeEventListener('abort', cut);
    wake?.removeEventListener('abort', cut);
    stop.abort(); // ends the clock's sleep (and clears its timer) if it is still pending
  }
  throwIfAborted(signal);
}
