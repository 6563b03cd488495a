/**
 * Cancelling: an abort while the acquire is on the wire, or while acquireTurn sleeps until its slot,
 * gives the reservation back. The waits are on an injected clock (no wall-clock sleep); Redis is real.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { acquireTurn, redisBudget, type RedisClientLike } from '../../src/redis/index.ts';
import type { Clock } from '../../src/internal/clock.ts';
import { anyRedis, redisSkip, uniqueKey } from './harness.ts';

/** A clock whose time moves only when something sleeps on it; each sleep is recorded. */
function steppingClock(): Clock & { sleeps: number[] } {
  let now = 1_700_000_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

describe('cancelling a reservation', { skip: redisSkip(), timeout: 30_000 }, () => {
  let url = '';
  let stop: () => Promise<void> = async () => {};
  let raw: Redis;
  before(async () => {
    ({ url, stop } = await anyRedis());
    raw = new Redis(url);
  });
  after(async () => {
    raw.disconnect();
    await stop();
  });
  const client = (): RedisClientLike => ({ call: (c, ...a) => raw.call(c, ...a) });
  const rt = async (key: string): Promise<number> => Number(await raw.hget(`faultline:budget:${key}:m`, 'rt'));

  test('acquireTurn sleeps on the given clock until the slot, then returns the grant', async () => {
    const key = uniqueKey('turn');
    const clock = steppingClock();
    const budget = redisBudget({ client: client(), key, rpm: 60, burstWindowMs: 0, clock });
    await acquireTurn(budget, 'm', 0, { clock });
    const g = await acquireTurn(budget, 'm', 0, { clock });
    assert.equal(g.source, 'shared');
    assert.equal(clock.sleeps.length, 1);
    assert.ok(Math.abs(clock.sleeps[0]! - 1000) < 40, `slept until the next slot: ${clock.sleeps[0]}`);
  });

  test('an abort while sleeping until the slot releases the reservation', async () => {
    const key = uniqueKey('turn-abort');
    const ac = new AbortController();
    const clock: Clock = {
      now: () => Date.now(),
      sleep: (_ms, signal) => new Promise<void>((r) => signal?.addEventListener('abort', () => r(), { once: true })),
    };
    const budget = redisBudget({ client: client(), key, rpm: 60, burstWindowMs: 0, clock });
    await budget.acquire('m', 0);
    const booked = await rt(key);
    const p = acquireTurn(budget, 'm', 0, { clock, signal: ac.signal });
    await new Promise((r) => setTimeout(r, 50));
    assert.ok((await rt(key)) > booked + 900, 'the second slot is booked');
    ac.abort();
    await assert.rejects(p, { name: 'AbortError' });
    assert.ok(Math.abs((await rt(key)) - booked) < 1, 'and given back');
  });

  test('an abort while the acquire is on the wire rejects at once; the late grant is given back', async () => {
    const key = uniqueKey('wire-abort');
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const slow: RedisClientLike = {
      call: async (c, ...a) => {
        const reply = await raw.call(c, ...a);
        await gate;
        return reply;
      },
    };
    const budget = redisBudget({ client: slow, key, rpm: 60, burstWindowMs: 0, commandTimeoutMs: 5000 });
    const ac = new AbortController();
    const p = budget.acquire('m', 0, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 30));
    assert.ok((await rt(key)) > 0, 'Redis has booked it');
    ac.abort();
    await assert.rejects(p, { name: 'AbortError' });
    open();
    for (let i = 0; i < 50 && (await rt(key)) > Date.now() + 500; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok((await rt(key)) <= Date.now() + 50, 'the reservation came back');
  });
});
