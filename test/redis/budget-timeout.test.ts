/**
 * An acquire cut at `commandTimeoutMs` that Redis still runs afterwards: the slot it books must go back
 * to the budget, or a slow moment in Redis leaks reservations. Against a private redis-server (the test
 * pauses it with CLIENT PAUSE, which must not stall other files sharing FAULTLINE_REDIS_URL).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { redisBudget } from '../../src/redis/index.ts';
import type { SharedBudget } from '../../src/redis/index.ts';
import { redisSkip, startRedis, uniqueKey, type RedisProcess } from './harness.ts';

describe('redisBudget: an acquire cut at commandTimeoutMs', { skip: redisSkip(true), timeout: 30_000 }, () => {
  let redis: RedisProcess;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });

  /** A budget whose first call Redis answered in time (a loaded machine may miss the first connect). */
  async function sharedBudget(build: () => SharedBudget): Promise<SharedBudget> {
    for (let i = 0; i < 5; i++) {
      const budget = build();
      const d = await budget.acquire('warm', 0);
      if (d.kind === 'grant' && d.grant.source === 'shared') return budget;
      await budget.close();
    }
    assert.fail('Redis answered none of 5 first calls in time');
  }

  /** Reads `field` of `key` until `ok` holds, at most `ms` of real time (Redis answers on its own schedule). */
  async function poll(raw: Redis, key: string, field: string, ok: (v: string | null) => boolean, ms: number): Promise<string | null> {
    const end = Date.now() + ms;
    let v = await raw.hget(key, field);
    while (!ok(v) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 10));
      v = await raw.hget(key, field);
    }
    return v;
  }

  test('the script runs after the cut and books a slot; its late answer gives the tokens and the request back', async () => {
    const raw = new Redis(redis.url);
    const key = uniqueKey('cut');
    const stateKey = `faultline:budget:${key}:m`;
    // 60k TPM: 1 ms per token, 6000 RPM: 10 ms per request; no burst, so a booking moves the buckets.
    const budget = await sharedBudget(() => redisBudget({ url: redis.url, key, rpm: 6000, tpm: 60_000, burstWindowMs: 0, commandTimeoutMs: 150, recoverCheckMs: 60_000, onFallback: () => {} }));
    try {
      await raw.call('CLIENT', 'PAUSE', '1000', 'ALL');
      const ended = raw.call('PING');
      const d = await budget.acquire('m', 2000);
      assert.equal(d.kind, 'grant');
      assert.equal(d.kind === 'grant' ? d.grant.source : '', 'local', 'cut at the bound: the fallback decided');
      assert.equal(budget.status().mode, 'fallback');
      await ended; // the pause is over: Redis now runs the queued acquire
      // The booking of 2000 tokens (2000 ms of the tokens bucket) and one request (10 ms) is refunded: the
      // correction sums record the refund (a booking alone leaves them unset), less only the time that
      // passed between the booking and the refund (a bucket is never moved back past "now"), and the
      // bucket is full again (booked and kept, it would stay ~2000 ms ahead: see the control below).
      const ts = await poll(raw, stateKey, 'ts', (v) => v !== null, 3000);
      assert.ok(Number(ts) < 0 && Number(ts) >= -2000, `tokens given back (ts=${ts})`);
      const rs = Number(await raw.hget(stateKey, 'rs'));
      assert.ok(rs < 0 && rs >= -10, `the request given back (rs=${rs})`);
      const [sec, micro] = (await raw.call('TIME')) as [string, string];
      const serverNow = Number(sec) * 1000 + Number(micro) / 1000;
      assert.ok(Number(await raw.hget(stateKey, 'tt')) <= serverNow, 'the tokens bucket is full again');
    } finally {
      await budget.close();
      raw.disconnect();
    }
  });

  test('an acquire Redis answers in time keeps its reservation (the control)', async () => {
    const raw = new Redis(redis.url);
    const key = uniqueKey('kept');
    const stateKey = `faultline:budget:${key}:m`;
    const budget = await sharedBudget(() => redisBudget({ url: redis.url, key, rpm: 6000, tpm: 60_000, burstWindowMs: 0, commandTimeoutMs: 2000, onFallback: () => {} }));
    try {
      const d = await budget.acquire('m', 2000);
      assert.equal(d.kind === 'grant' ? d.grant.source : '', 'shared');
      const [sec, micro] = (await raw.call('TIME')) as [string, string];
      const serverNow = Number(sec) * 1000 + Number(micro) / 1000;
      assert.ok(Number(await raw.hget(stateKey, 'tt')) > serverNow + 1500, 'the 2000 tokens are still booked');
      assert.equal(await raw.hget(stateKey, 'ts'), null);
    } finally {
      await budget.close();
      raw.disconnect();
    }
  });
});
