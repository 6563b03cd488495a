/**
 * Virtual time for the pacing benchmark: a discrete-event simulation of the process's clock.
 *
 * The peers keep their own timers (the `openai` SDK's retry sleeps, p-retry, cockatiel, bottleneck),
 * none of which take an injected clock, so for the length of a run this module swaps the globals they
 * read (`setTimeout`/`clearTimeout`/`setInterval`/`clearInterval`, `Date.now` and `performance.now`)
 * for a timer queue on a virtual clock. Whenever the process has nothing left to do but wait (a few
 * event-loop turns pass: `setImmediate` stays real), time jumps to the earliest timer. A minute of
 * traffic then takes well under a second, every peer sees the same time as the mock server, and a run
 * is deterministic given its seed.
 *
 * Benchmark-only: nothing in src/ patches globals.
 *
 * Why this is not `createManualClock()` (issue 11 §4.3): the peers read the global timers and
 * `Date.now`, not an injected clock, so the bench must replace the globals; a manual clock cannot move
 * their time. It keeps the one clock contract anyway: the clock it hands to `main` (and so to the mock
 * and to faultline) is the library's own real clock, `systemClock`, which reads the global timers and
 * `Date.now` at each call and so runs on this virtual time, with its sleep that resolves on abort.
 * `test/clock-contract.test.ts` checks it with the other clocks.
 */
import { systemClock, type Clock } from '../../src/internal/clock.ts';

interface Timer {
  readonly id: number;
  due: number;
  readonly order: number;
  readonly fn: () => void;
  readonly interval: number | undefined;
}

/** A fake timer handle with the `ref`/`unref`/`hasRef` methods Node's callers use. */
class Handle {
  readonly id: number;
  constructor(id: number) {
    this.id = id;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  refresh(): this {
    return this;
  }
  [Symbol.toPrimitive](): number {
    return this.id;
  }
}

const real = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setInterval: globalThis.setInterval,
  clearInterval: globalThis.clearInterval,
  dateNow: Date.now,
  perfNow: performance.now.bind(performance),
};

/**
 * Runs `main` in virtual time starting at `start` (epoch ms) and restores the real globals afterwards.
 * Throws if `maxVirtualMs` of virtual time pass (a run that never ends) .
 */
export async function runVirtual<T>(start: number, maxVirtualMs: number, main: (clock: Clock) => Promise<T>): Promise<T> {
  let now = start;
  let seq = 0;
  const timers = new Map<number, Timer>();
  const add = (fn: () => void, ms: number | undefined, interval: number | undefined): Handle => {
    const id = ++seq;
    const delay = Math.max(0, Number(ms) || 0);
    timers.set(id, { id, due: now + delay, order: id, fn, interval });
    return new Handle(id);
  };
  const clear = (h: unknown): void => {
    if (h === undefined || h === null) return;
    timers.delete(typeof h === 'number' ? h : Number(h as Handle));
  };
  const g = globalThis as unknown as Record<string, unknown>;
  g.setTimeout = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => add(() => fn(...args), ms, undefined);
  g.clearTimeout = clear;
  g.setInterval = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => add(() => fn(...args), ms, Math.max(1, Number(ms) || 1));
  g.clearInterval = clear;
  Date.now = () => now;
  Object.defineProperty(performance, 'now', { value: () => now - start, configurable: true, writable: true });

  const clock = systemClock;

  const turn = () => new Promise<void>((r) => setImmediate(r));
  let done = false;
  let result: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  main(clock).then(
    (value) => ((result = { ok: true, value }), (done = true)),
    (error: unknown) => ((result = { ok: false, error }), (done = true)),
  );
  try {
    while (!done) {
      for (let i = 0; i < 4 && !done; i++) await turn();
      if (done) break;
      let next: Timer | undefined;
      for (const t of timers.values()) if (!next || t.due < next.due || (t.due === next.due && t.order < next.order)) next = t;
      if (next === undefined) {
        // Nothing scheduled: give pending work a few more turns before calling it stuck.
        for (let i = 0; i < 50 && !done && timers.size === 0; i++) await turn();
        if (!done && timers.size === 0) throw new Error('virtual time: the run is waiting on nothing (deadlock)');
        continue;
      }
      if (next.due - start > maxVirtualMs) throw new Error(`virtual time: the run passed ${maxVirtualMs} ms of virtual time`);
      now = Math.max(now, next.due);
      // Fire everything due now, in order.
      const due = [...timers.values()].filter((t) => t.due <= now).sort((a, b) => a.due - b.due || a.order - b.order);
      for (const t of due) {
        if (!timers.has(t.id)) continue;
        if (t.interval !== undefined) t.due = now + t.interval;
        else timers.delete(t.id);
        try {
          t.fn();
        } catch (e) {
          queueMicrotask(() => {
            throw e;
          });
        }
      }
    }
  } finally {
    g.setTimeout = real.setTimeout;
    g.clearTimeout = real.clearTimeout;
    g.setInterval = real.setInterval;
    g.clearInterval = real.clearInterval;
    Date.now = real.dateNow;
    Object.defineProperty(performance, 'now', { value: real.perfNow, configurable: true, writable: true });
  }
  const r = result!;
  if (r.ok) return r.value;
  throw r.error;
}
