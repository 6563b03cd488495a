/** The manual clock's driving members (the contract itself is in test/clock-contract.test.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createManualClock } from '../../src/mock/index.ts';

describe('createManualClock()', () => {
  test('wakeNext() wakes only the earliest sleeper and moves time to it; false when nobody sleeps', async () => {
    const clock = createManualClock(1000);
    const woke: string[] = [];
    void clock.sleep(300).then(() => woke.push('b'));
    void clock.sleep(100).then(() => woke.push('a'));
    assert.deepEqual(clock.dueTimes, [1100, 1300]);
    assert.equal(clock.wakeNext(), true);
    await clock.settle();
    assert.deepEqual(woke, ['a']);
    assert.equal(clock.now(), 1100);
    assert.equal(clock.pending, 1);
    assert.equal(clock.wakeNext(), true);
    await clock.settle();
    assert.deepEqual(woke, ['a', 'b']);
    assert.equal(clock.wakeNext(), false);
    assert.equal(clock.now(), 1300, 'no sleeper: time stays');
  });

  test('sleeps lists every duration asked, aborted and 0 ms ones included', async () => {
    const clock = createManualClock();
    void clock.sleep(250);
    void clock.sleep(0);
    void clock.sleep(90, AbortSignal.abort());
    assert.deepEqual(clock.sleeps, [250, 0, 90]);
    assert.equal(clock.pending, 2, 'the aborted one never waited');
  });

  test('run() drives time until the promise settles and returns its value', async () => {
    const clock = createManualClock(0);
    const work = async (): Promise<number> => {
      await clock.sleep(1000);
      await clock.sleep(500);
      return clock.now();
    };
    assert.equal(await clock.run(work()), 1500);
  });

  test('run() passes on a rejection, and rejects on a deadlock or after maxSteps', async () => {
    const clock = createManualClock(0);
    await assert.rejects(
      clock.run(clock.sleep(10).then(() => Promise.reject(new Error('boom')))),
      /^Error: boom$/,
    );
    await assert.rejects(clock.run(new Promise(() => {})), /ManualClock\.run: deadlock/);
    const forever = async (): Promise<void> => {
      for (;;) await clock.sleep(1);
    };
    await assert.rejects(clock.run(forever(), 5), /still pending after 5 wake-ups/);
    assert.equal(clock.now(), 15, 'one 10 ms sleep, then five 1 ms ones');
  });

  test('autoAdvance moves time by itself, in due order', async () => {
    const clock = createManualClock({ start: 0, autoAdvance: true });
    const order: number[] = [];
    await Promise.all([clock.sleep(300).then(() => order.push(clock.now())), clock.sleep(100).then(() => order.push(clock.now()))]);
    assert.deepEqual(order, [100, 300]);
    assert.equal(clock.pending, 0);
  });

  test('without autoAdvance time never moves by itself', async () => {
    const clock = createManualClock(0);
    let woke = false;
    void clock.sleep(1).then(() => (woke = true));
    await clock.settle();
    await clock.settle();
    assert.equal(woke, false);
    assert.equal(clock.now(), 0);
  });

  test('settle replaces how the clock lets work run before time moves', async () => {
    let settles = 0;
    const clock = createManualClock({ start: 0, settle: async () => void settles++ });
    await clock.run(clock.sleep(5));
    assert.ok(settles >= 2, `settled ${settles} times`);
  });

  test('bad options throw at once, naming createManualClock', () => {
    assert.throws(() => createManualClock(Number.NaN), /^TypeError: createManualClock: start must be a finite number, got NaN$/);
    assert.throws(() => createManualClock({ start: Infinity }), /^RangeError: createManualClock: options\.start must be a finite number, got Infinity$/);
    assert.throws(() => createManualClock({ start: 0, autoAdvance: 'yes' as never }), /^TypeError: createManualClock: options\.autoAdvance must be one of true, false, got "yes"$/);
    assert.throws(() => createManualClock({ start: 0, settle: 5 as never }), /^TypeError: createManualClock: options\.settle must be a function, got 5$/);
    assert.throws(() => createManualClock('x' as never), /^TypeError: createManualClock: options must be an object/);
  });
});
