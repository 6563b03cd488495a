import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveClock, sleepFor, systemClock, timerClock } from '../../src/internal/clock.ts';
import { MAX_TIMER_MS, sleep, type TimerApi } from '../../src/internal/timers.ts';
import { createManualClock, realClock } from '../../src/mock/index.ts';

/**
 * A fake timer API that behaves like Node's: a delay above 2³¹−1 ms (or below 1) becomes 1 ms. It
 * records every arm and clear, so a test sees exactly what the sleep asked of the timers.
 */
function fakeTimers() {
  let now = 0;
  let seq = 0;
  const live = new Map<number, { at: number; cb: () => void; unrefd: boolean }>();
  const armed: number[] = [];
  const cleared: number[] = [];
  const api: TimerApi = {
    setTimeout(cb, ms) {
      armed.push(ms);
      const delay = ms >= 1 && ms <= MAX_TIMER_MS ? ms : 1; // Node's TimeoutOverflowWarning rule
      const id = ++seq;
      const t = { at: now + delay, cb, unrefd: false };
      live.set(id, t);
      return { id, unref: () => void (t.unrefd = true) };
    },
    clearTimeout(handle) {
      const id = (handle as { id: number } | undefined)?.id;
      if (id !== undefined && live.delete(id)) cleared.push(id);
    },
  };
  /** Fires the earliest timer, moving time to it. False when none is left. */
  const fireNext = (): boolean => {
    const next = [...live.entries()].sort((a, b) => a[1].at - b[1].at)[0];
    if (next === undefined) return false;
    live.delete(next[0]);
    now = Math.max(now, next[1].at);
    next[1].cb();
    return true;
  };
  return { api, armed, cleared, live, fireNext, now: () => now };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('sleep(): one primitive, clamped and re-armed', () => {
  test('a delay above 2³¹−1 ms is armed in steps and resolves only when all of it has passed', async () => {
    const t = fakeTimers();
    let done = false;
    const p = sleep(1e12, { timers: t.api }).then(() => void (done = true));
    let fired = 0;
    while (!done && t.fireNext()) {
      fired++;
      await flush();
      if (!done) assert.ok(t.now() < 1e12, `still sleeping at ${t.now()} ms`);
    }
    await p;
    assert.equal(t.now(), 1e12, 'woke exactly when the whole delay had passed, not after 1 ms');
    assert.equal(fired, Math.ceil(1e12 / MAX_TIMER_MS));
    assert.ok(t.armed.every((ms) => ms >= 1 && ms <= MAX_TIMER_MS), 'no arm outside the timer range');
    assert.equal(t.armed.reduce((a, b) => a + b, 0), 1e12);
    assert.equal(t.live.size, 0);
  });

  test('an abort mid-sleep resolves at once and clears the armed timer and the listener', async () => {
    const t = fakeTimers();
    const ctl = new AbortController();
    let done = false;
    const p = sleep(3 * MAX_TIMER_MS, { timers: t.api, signal: ctl.signal }).then(() => void (done = true));
    t.fireNext(); // one step passed, the second is armed
    await flush();
    assert.equal(done, false);
    assert.equal(t.live.size, 1);
    ctl.abort();
    await p;
    assert.equal(t.live.size, 0, 'no timer left');
    assert.equal(t.cleared.length, 1);
  });

  test('unref only when asked; nothing armed for 0, negative or NaN; Infinity sleeps until aborted', async () => {
    const t = fakeTimers();
    void sleep(5, { timers: t.api });
    void sleep(5, { timers: t.api, unref: true });
    assert.deepEqual([...t.live.values()].map((x) => x.unrefd), [false, true]);
    while (t.fireNext());
    for (const ms of [0, -1, Number.NaN]) await sleep(ms, { timers: t.api });
    assert.deepEqual(t.armed, [5, 5]);
    const ctl = new AbortController();
    let done = false;
    const p = sleep(Infinity, { timers: t.api, signal: ctl.signal }).then(() => void (done = true));
    for (let i = 0; i < 5; i++) {
      assert.ok(t.fireNext());
      await flush();
    }
    assert.equal(done, false, 'still asleep after 5 × 2³¹−1 ms');
    ctl.abort();
    await p;
    assert.equal(t.live.size, 0);
  });
});

describe('the real clocks go through it (node:test mock.timers keeps Node\'s overflow rule)', () => {
  for (const [name, clock] of [
    ['systemClock (background, journal, retry)', systemClock],
    ["realClock (the mock's delays)", realClock],
  ] as const) {
    test(`${name}: a sleep of 2³¹ ms does not fire after 1 ms`, async (t) => {
      t.mock.timers.enable({ apis: ['setTimeout'] });
      let done = false;
      const p = clock.sleep(2 ** 31, undefined).then(() => void (done = true));
      t.mock.timers.tick(10);
      await flush();
      assert.equal(done, false, 'fired after 10 ms: the delay overflowed');
      t.mock.timers.tick(MAX_TIMER_MS - 10); // the first step ends and the last 1 ms is armed
      await flush();
      assert.equal(done, false);
      t.mock.timers.tick(1);
      await p;
    });
  }
});

describe('one clock contract: an abort resolves the sleep', () => {
  test('systemClock, realClock and the manual clock resolve (not reject) on abort, leaving no sleeper', async () => {
    const manual = createManualClock();
    for (const clock of [systemClock, realClock, manual, timerClock({ unref: true })]) {
      const ctl = new AbortController();
      const p = clock.sleep(60_000, ctl.signal);
      ctl.abort(new Error('stop'));
      await p;
    }
    assert.equal(manual.pending, 0);
  });

  test('resolveClock holds an injected sleep to it: rejecting or deaf on abort still resolves; other errors propagate', async () => {
    const rejecting = resolveClock({ sleep: (_ms, s) => new Promise((_r, reject) => s?.addEventListener('abort', () => reject(s.reason))) });
    const deaf = resolveClock({ sleep: () => new Promise<void>(() => {}) });
    for (const clock of [rejecting, deaf]) {
      const ctl = new AbortController();
      const p = clock.sleep(1000, ctl.signal);
      ctl.abort(new Error('stop'));
      await p;
    }
    const broken = resolveClock({ sleep: () => Promise.reject(new Error('broken clock')) });
    await assert.rejects(broken.sleep(1, new AbortController().signal), /broken clock/);
    assert.throws(() => resolveClock({ now: 5 as never }, 'createFetch'), { name: 'TypeError', message: /^createFetch: options\.now must be a function/ });
  });

  test('sleepFor() is the rejecting form: it throws the signal reason', async () => {
    const ctl = new AbortController();
    const p = sleepFor(createManualClock(), 1000, ctl.signal);
    ctl.abort(new Error('stop'));
    await assert.rejects(p, /stop/);
  });
});
