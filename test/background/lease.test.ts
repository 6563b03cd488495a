/**
 * journal/lease.ts keepLease(): the one renewal loop, on a virtual clock with a scripted store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keepLease } from '../../src/journal/lease.ts';
import { createManualClock, type ManualClock } from '../../src/mock/index.ts';

/** A store whose renewLease answers from `answers` (true, false, or a throw), recording each call. */
function store(clock: ManualClock, answers: (boolean | 'throw')[]) {
  const calls: { at: number; until: number; key: string; owner: string }[] = [];
  return {
    calls,
    renewLease: async (key: string, owner: string, until: number): Promise<boolean> => {
      calls.push({ at: clock.now(), until, key, owner });
      const answer = answers[Math.min(calls.length - 1, answers.length - 1)];
      if (answer === 'throw') throw new Error('store unreachable');
      return answer as boolean;
    },
  };
}

test('renews every leaseMs / 3 until the 2nd renewal fails: lost aborts at 2·leaseMs/3, exactly once', async () => {
  const clock = createManualClock(1_700_000_000_000);
  const t0 = clock.now();
  const s = store(clock, [true, false]);
  const lease = keepLease(s, 'job-a', 'host:1:x', 30_000, clock);
  let aborts = 0;
  lease.lost.addEventListener('abort', () => aborts++);
  await clock.advance(9_999);
  assert.equal(s.calls.length, 0, 'nothing before a third of the lease');
  await clock.advance(1);
  assert.deepEqual(s.calls[0], { at: t0 + 10_000, until: t0 + 40_000, key: 'job-a', owner: 'host:1:x' });
  assert.equal(lease.lost.aborted, false);
  await clock.advance(10_000);
  assert.equal(s.calls.length, 2);
  assert.equal(s.calls[1]?.at, t0 + 20_000);
  assert.equal(lease.lost.aborted, true);
  await clock.advance(60_000);
  assert.equal(s.calls.length, 2, 'no renewal after the failed one');
  assert.equal(aborts, 1);
  await lease.stop();
  assert.equal(clock.pending, 0, 'no timer left behind');
});

test('a store that throws counts as a failed renewal', async () => {
  const clock = createManualClock(1_700_000_000_000);
  const s = store(clock, ['throw']);
  const lease = keepLease(s, 'k', 'o', 3_000, clock);
  await clock.advance(1_000);
  assert.equal(lease.lost.aborted, true);
});

test('stop() ends the renewals at once and leaves nothing behind; lost never aborts', async () => {
  const clock = createManualClock(1_700_000_000_000);
  const s = store(clock, [true]);
  const lease = keepLease(s, 'k', 'o', 3_000, clock);
  await clock.advance(2_500);
  assert.equal(s.calls.length, 2);
  await lease.stop();
  assert.equal(clock.pending, 0);
  await clock.advance(10_000);
  assert.equal(s.calls.length, 2);
  assert.equal(lease.lost.aborted, false);
});
