/**
 * The mock's clock. Everything time-dependent in the mock (rate-limit windows, background runs, stream
 * pacing, retention, webhook retries, injected delays) reads `now()` and waits with `sleep()`, so a test
 * can drive it with a {@link ManualClock} and never wait for real time.
 *
 * The manual clock is also the one fake clock of faultline's own tests: the retry, background and journal
 * tests drive time with it (`advance`, `wakeNext`, `run`, or `autoAdvance`), so every fake clock keeps the
 * {@link Clock} contract (a sleep resolves on abort, never rejects) by construction.
 */
import { unrefClock, type Clock } from '../internal/clock.ts';
import { durationMs, finite, fn, oneOf, optionsObject, count, rejectUnknown } from '../internal/options.ts';

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
  /**
   * Moves time to the earliest sleeper (never backwards) and wakes that one sleeper, synchronously.
   * Returns `false`, and leaves time where it is, when nobody sleeps. For a test that runs its own loop
   * (for example, one that waits for loopback I/O before letting time move).
   */
  wakeNext(): boolean;
  /**
   * Drives time until `promise` settles, and returns (or throws) what it settles with: lets pending work
   * run ({@link ManualClockOptions.settle}), then wakes the earliest sleeper ({@link wakeNext}), again
   * and again. Rejects with an `Error` when nobody sleeps and the promise is still pending (a deadlock),
   * or after `maxSteps` wake-ups (a wait that never ends).
   *
   * @param maxSteps The most sleepers to wake. @default 100000
   */
  run<T>(promise: Promise<T>, maxSteps?: number): Promise<T>;
  /** Lets pending work run without moving time ({@link ManualClockOptions.settle}). */
  settle(): Promise<void>;
  /** How many sleepers are waiting (useful to assert that nothing is left pending). */
  readonly pending: number;
  /** When each waiting sleeper falls due, in epoch milliseconds of this clock, earliest first. */
  readonly dueTimes: readonly number[];
  /**
   * Every duration asked of `sleep()` so far, in milliseconds, in call order (including sleeps of 0 ms
   * and sleeps that were aborted), for assertions on pacing.
   */
  readonly sleeps: readonly number[];
}

/** Options of {@link createManualClock}. */
export interface ManualClockOptions {
  /** The initial time in epoch milliseconds. @default 1767225600000 (2026-01-01T00:00:00Z) */
  readonly start?: number;
  /**
   * Moves time by itself: whenever pending work has settled and someone sleeps, time jumps to the
   * earliest sleeper and wakes it, so code under test runs as if time were real but instantly, with no
   * driver. Sleeping is the only way time moves; nothing keeps the process alive.
   * @default false
   */
  readonly autoAdvance?: boolean;
  /**
   * How the clock lets pending work run before it moves time (in `advance`, `run`, `settle` and
   * `autoAdvance`). Replace it when the code under test waits on something the event loop cannot see,
   * for example a request on the wire: resolve once it has answered.
   * @default 20 turns of the event loop (`setImmediate`)
   */
  readonly settle?: () => Promise<void>;
}

/** The real clock: `Date.now()` and the library's sleep on unref'd timers (re-armed past 2³¹−1 ms). */
export const realClock: Clock = unrefClock;

interface Sleeper {
  readonly due: number;
  readonly order: number;
  readonly resolve: () => void;
}

const SETTLE_TURNS = 20;

/** Lets pending promise chains (and the I/O callbacks they scheduled) run: a few event-loop turns. */
async function turns(): Promise<void> {
  for (let i = 0; i < SETTLE_TURNS; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

const OWNER = 'createManualClock';

const CLOCK_KEYS: ReadonlySet<string> = new Set(['start', 'autoAdvance', 'settle'] satisfies (keyof ManualClockOptions)[]);

/**
 * Creates a {@link ManualClock}.
 *
 * @param options The options, or only the initial time in epoch milliseconds (`createManualClock(t)` is
 *   `createManualClock({ start: t })`).
 */
export function createManualClock(options?: number | ManualClockOptions): ManualClock {
  const positional = typeof options === 'number';
  const raw: Record<string, unknown> = positional ? { start: options } : optionsObject(OWNER, options);
  if (!positional) rejectUnknown(OWNER, raw, CLOCK_KEYS);
  const start = finite(OWNER, positional ? '#start' : 'start', raw.start, { default: 1_767_225_600_000 });
  const autoAdvance = oneOf(OWNER, 'autoAdvance', raw.autoAdvance, [true, false], false);
  const settle = fn<() => Promise<void>>(OWNER, 'settle', raw.settle) ?? turns;
  let now = start;
  let order = 0;
  let sleepers: Sleeper[] = [];
  const sleeps: number[] = [];
  let scheduled = false;
  const remove = (s: Sleeper): void => {
    sleepers = sleepers.filter((x) => x !== s);
  };
  const earliest = (): Sleeper | undefined => {
    let next: Sleeper | undefined;
    for (const s of sleepers) if (!next || s.due < next.due || (s.due === next.due && s.order < next.order)) next = s;
    return next;
  };
  const wake = (s: Sleeper): void => {
    now = Math.max(now, s.due);
    remove(s);
    s.resolve();
  };
  const wakeNext = (): boolean => {
    const next = earliest();
    if (next === undefined) return false;
    wake(next);
    return true;
  };
  // autoAdvance: one pending "settle, then wake the earliest" at a time, re-armed while anyone sleeps.
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    void settle().then(() => {
      scheduled = false;
      if (wakeNext()) schedule();
    });
  };
  return {
    now: () => now,
    get pending() {
      return sleepers.length;
    },
    get dueTimes() {
      return sleepers.map((s) => s.due).sort((a, b) => a - b);
    },
    sleeps,
    sleep(ms, signal) {
      sleeps.push(ms);
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
        if (autoAdvance) schedule();
      });
    },
    wakeNext,
    settle,
    async advance(ms) {
      durationMs('advance', '#ms', ms);
      const target = now + ms;
      await settle();
      for (;;) {
        const next = earliest();
        if (!next || next.due > target) break;
        wake(next);
        await settle();
      }
      now = Math.max(now, target);
      await settle();
    },
    async run<T>(promise: Promise<T>, maxSteps = 100_000): Promise<T> {
      count('run', '#maxSteps', maxSteps, { min: 1 });
      let settled = false;
      const watched = promise.finally(() => {
        settled = true;
      });
      watched.catch(() => {});
      for (let steps = 0; ; steps++) {
        await settle();
        if (settled) return watched;
        if (steps >= maxSteps) throw new Error(`ManualClock.run: the promise is still pending after ${maxSteps} wake-ups`);
        if (!wakeNext()) {
          await settle();
          if (settled) return watched;
          throw new Error('ManualClock.run: deadlock (nobody sleeps and the promise is still pending)');
        }
      }
    },
  };
}
