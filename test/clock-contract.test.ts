/**
 * The one clock contract (src/internal/clock.ts), run against every clock the library, its tests and its
 * benches use: the real clock on injected timers, `resolveClock` around a sleep that rejects on abort,
 * the public `createManualClock()` (driven, and with `autoAdvance`), and the pacing bench's virtual time.
 * `sleep(ms)` resolves once `ms` of the clock's time passed and not before; an abort resolves it at once
 * (never rejects) without moving time; an already-aborted signal resolves it at once.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveClock, timerClock, type Clock } from '../src/internal/clock.ts';
import type { TimerApi } from '../src/internal/timers.ts';
import { createManualClock } from '../src/mock/index.ts';
import { runVirtual } from '../bench/pacing/virtual-time.ts';

/** Runs `body` with a clock and a `drive(p)` that lets that clock's time move until `p` settles. */
type Subject = (body: (clock: Clock, drive: <T>(p: Promise<T>) => Promise<T>) => Promise<void>) => Promise<void>;

/** Fake timers for `timerClock`: time moves to the earliest timer whenever the test drives. */
function onFakeTimers(wrap: (clock: Clock) => Clock): Subject {
  return async (body) => {
    let now = 1_000;
    let seq = 0;
    const live = new Map<number, { at: number; cb: () => void }>();
    const timers: TimerApi = {
      setTimeout(cb, ms) {
        live.set(++seq, { at: now + ms, cb });
        return seq;
      },
      clearTimeout: (h) => void live.delete(h as number),
    };
    const clock = wrap(timerClock({ timers, now: () => now }));
    const drive = async <T,>(p: Promise<T>): Promise<T> => {
      let done = false;
      const watched = p.finally(() => (done = true));
      for (let i = 0; i < 1000 && !done; i++) {
        await new Promise<void>((r) => setImmediate(r));
        if (done) break;
        const next = [...live.entries()].sort((a, b) => a[1].at - b[1].at)[0];
        if (next === undefined) continue;
        live.delete(next[0]);
        now = Math.max(now, next[1].at);
        next[1].cb();
      }
      return watched;
    };
    await body(clock, drive);
  };
}

const subjects: Record<string, Subject> = {
  'timerClock (the real clock on injected timers)': onFakeTimers((c) => c),
  'resolveClock around a sleep that rejects on abort': onFakeTimers((c) =>
    resolveClock({
      now: c.now,
      sleep: (ms, signal) =>
        new Promise<void>((resolve, reject) => {
          c.sleep(ms, signal).then(() => (signal?.aborted ? reject(new Error('aborted')) : resolve()), reject);
        }),
    }),
  ),
  'createManualClock() driven by run()': async (body) => {
    const clock = createManualClock();
    await body(clock, (p) => clock.run(p));
  },
  'createManualClock() driven by advance()': async (body) => {
    const clock = createManualClock();
    await body(clock, async (p) => {
      let done = false;
      const watched = p.finally(() => (done = true));
      for (let i = 0; i < 100 && !done; i++) await clock.advance(50);
      return watched;
    });
  },
  'createManualClock({ autoAdvance: true })': async (body) => {
    const clock = createManualClock({ start: 0, autoAdvance: true });
    await body(clock, (p) => p);
  },
  "the pacing bench's virtual time": (body) => runVirtual(1_767_225_600_000, 60_000, (clock) => body(clock, (p) => p)),
};

for (const [name, withClock] of Object.entries(subjects)) {
  describe(`the clock contract: ${name}`, () => {
    test('sleep(ms) resolves once ms of its time passed, not before', () =>
      withClock(async (clock, drive) => {
        const t0 = clock.now();
        let longDone = false;
        const long = clock.sleep(300).then(() => (longDone = true));
        await drive(clock.sleep(100));
        assert.ok(clock.now() - t0 >= 100, `woke at +${clock.now() - t0} ms`);
        assert.equal(longDone, false, 'the 300 ms sleep is still pending at +100 ms');
        await drive(long);
        assert.ok(clock.now() - t0 >= 300, `woke at +${clock.now() - t0} ms`);
      }));

    test('an abort resolves the sleep at once (never rejects) and does not move time', () =>
      withClock(async (clock) => {
        const t0 = clock.now();
        const ac = new AbortController();
        const p = clock.sleep(60_000, ac.signal);
        ac.abort(new Error('stop'));
        assert.equal(await p, undefined);
        assert.ok(clock.now() - t0 < 60_000, 'time did not run to the end of the sleep');
      }));

    test('an already-aborted signal resolves at once', () =>
      withClock(async (clock) => {
        const t0 = clock.now();
        assert.equal(await clock.sleep(60_000, AbortSignal.abort(new Error('before'))), undefined);
        assert.ok(clock.now() - t0 < 60_000);
      }));
  });
}
