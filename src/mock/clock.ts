/**
 * The mock's clock. Everything time-dependent in the mock (rate-limit windows, background runs, stream
 * pacing, retention, webhook retries, injected delays) reads `now()` and waits with `sleep()`, so a test
 * can drive it with a {@link ManualClock} and never wait for real time.
 */
import { unrefClock, type Clock } from '../internal/clock.ts';
import { durationMs, finite } from '../internal/options.ts';

/**
 * A {@link Clock} (the library's one clock contract: `sleep()` resolves after `ms` milliseconds of this
 * clock's time, or as soon as its signal aborts, never rejecting) that moves only when told to. Pass
 * the same one as `clock` to the mock, retries, waits and the journal to drive them all together.
 */
export interface ManualClock extends Clock {
  /**
   * Moves time forward by `ms` milliseconds, waking every sleeper that falls due on the way, in due
   * order, and letting the work each one starts run before moving on. Resolves once all of it settled.
   */
  advance(ms: number): Promise<void>;
  /** How many sleepers are waiting (useful to assert that nothing is left pending). */
  readonly pending: number;
}

/** The real clock: `Date.now()` and the library's sleep on unref'd timers (re-armed past 2³¹−1 ms). */
export const realClock: Clock = unrefClock;

interface Sleeper {
  readonly due: number;
  readonly order: number;
  readonly resolve: () => void;
}

/** Lets pending promise chains (and I/O callbacks they scheduled) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Creates a {@link ManualClock}.
 *
 * @param start The initial time in epoch milliseconds. @default 1767225600000 (2026-01-01T00:00:00Z)
 */
export function createManualClock(start = 1_767_225_600_000): ManualClock {
  finite('createManualClock', '#start', start);
  let now = start;
  let order = 0;
  let sleepers: Sleeper[] = [];
  const remove = (s: Sleeper): void => {
    sleepers = sleepers.filter((x) => x !== s);
  };
  return {
    now: () => now,
    get pending() {
      return sleepers.length;
    },
    sleep(ms, signal) {
      return new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const onAbort = (): void => {
          remove(sleeper);
          resolve();
        };
        const sleeper: Sleeper = {
          due: now + Math.max(0, ms),
          order: order++,
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        sleepers.push(sleeper);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    async advance(ms) {
      durationMs('advance', '#ms', ms);
      const target = now + ms;
      await settle();
      for (;;) {
        let next: Sleeper | undefined;
        for (const s of sleepers) {
          if (s.due <= target && (!next || s.due < next.due || (s.due === next.due && s.order < next.order))) next = s;
        }
        if (!next) break;
        now = Math.max(now, next.due);
        remove(next);
        next.resolve();
        await settle();
      }
      now = target;
      await settle();
    },
  };
}
