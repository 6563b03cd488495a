/**
 * redisBudget against real redis-server processes: the decisions (values, no sleeping), the shared
 * learning, expiry, a skewed client clock, and the policy when Redis is down or slow.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { redisBudget } from '../../src/redis/index.ts';
import type { BudgetDecision, RedisBudgetOptions, SharedBudget } from '../../src/redis/index.ts';
import { RequestTooLargeError } from '../../src/core/errors.ts';
import { systemClock, type Clock } from '../../src/internal/clock.ts';
import { anyRedis, redisSkip, startRedis, uniqueKey, type RedisProcess } from './harness.ts';

const skip = redisSkip();

function granted(d: BudgetDecision): Extract<BudgetDecision, { kind: 'grant' }> {
  assert.equal(d.kind, 'grant', `expected a grant, got ${JSON.stringify(d)}`);
  return d as Extract<BudgetDecision, { kind: 'grant' }>;
}

describe('redisBudget on a real Redis', { skip, timeout: 60_000 }, () => {
  let url = '';
  let stop: () => Promise<void> = async () => {};
  let raw: Redis;
  const open: SharedBudget[] = [];
  const make = (o: Partial<RedisBudgetOptions> & { key: string }): SharedBudget => {
    const b = redisBudget({ url, commandTimeoutMs: 2000, ...o });
    open.push(b);
    return b;
  };
  before(async () => {
    ({ url, stop } = await anyRedis());
    raw = new Redis(url);
  });
  after(async () => {
    await Promise.all(open.map((b) => b.close()));
    raw.disconnect();
    await stop();
  });

  test('requests are spaced by the shared GCRA: "send at t", not a rejection; both budgets see one state', async () => {
    const key = uniqueKey('spacing');
    const a = make({ key, rpm: 600, burstWindowMs: 0 });
    const b = make({ key, rpm: 600, burstWindowMs: 0 });
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const d = granted(await (i % 2 === 0 ? a : b).acquire('gpt-x', 0));
      waits.push(d.sendAt - Date.now());
    }
    // 600 RPM = one request per 100 ms, alternately booked by two processes' budgets.
    waits.forEach((w, i) => assert.ok(Math.abs(w - i * 100) < 40, `slot ${i}: ${w} ms, expected about ${i * 100}`));
  });

  test('requests and tokens are checked together: the binding dimension decides, in one script', async () => {
    const key = uniqueKey('both');
    const budget = make({ key, rpm: 60_000, tpm: 60_000, burstWindowMs: 0, maxReservedTokens: Infinity });
    // tokens: 1 per ms; requests: 1 per ms. A 500-token request empties the token bucket for 500 ms.
    granted(await budget.acquire('m', 500));
    const t0 = Date.now();
    const free = granted(await budget.acquire('m', 0));
    assert.ok(free.sendAt - t0 < 40, `a request costing no tokens is bound by requests only: ${free.sendAt - t0}`);
    const second = granted(await budget.acquire('m', 500));
    assert.ok(Math.abs(second.sendAt - t0 - 500) < 40, `token-bound: ${second.sendAt - t0}`);
    const state = await raw.hgetall(`faultline:budget:${key}:m`);
    assert.ok(Number(state['tt']) > Number(state['rt']), 'both buckets are charged');
  });

  test('reserve then reconcile: an overestimate is refunded, an underestimate charged; release gives back a cancelled one', async () => {
    const key = uniqueKey('reconcile');
    const budget = make({ key, tpm: 60_000, rpm: 1e9, burstWindowMs: 0, maxReservedTokens: Infinity });
    const g = granted(await budget.acquire('m', 1000)).grant;
    assert.equal(g.tokens, 1000);
    const ahead = async (): Promise<number> => {
      const d = granted(await budget.acquire('m', 1));
      return d.sendAt - Date.now();
    };
    await budget.reconcile(g, 200); // 800 tokens refunded: the bucket is 200 ms out instead of 1000
    const probe1 = granted(await budget.acquire('m', 100));
    const wait1 = probe1.sendAt - Date.now();
    assert.ok(wait1 > 120 && wait1 < 260, `after the refund: ${wait1}`);
    await budget.release(probe1.grant); // cancelled before sending: its 100 tokens come back
    await budget.reconcile(probe1.grant, 5000); // settled already: ignored
    const g2 = granted(await budget.acquire('m', 100)).grant;
    await budget.reconcile(g2, 1100); // underestimate: 1000 more tokens charged
    assert.ok((await ahead()) > 1000, 'the extra cost pushes the next request out');
  });

  test('at the largest tiers (150M TPM: 0.0004 ms per token) a refund still lands: intervals keep their precision', async () => {
    const key = uniqueKey('precision');
    const budget = make({ key, tpm: 150_000_000, rpm: 1e9, burstWindowMs: 0 });
    // Large enough that the bucket stays ahead of now after the refund (a refund never goes below "full").
    const g = granted(await budget.acquire('m', 5_000_000)).grant;
    const before = Number(await raw.hget(`faultline:budget:${key}:m`, 'tt'));
    await budget.reconcile(g, 1_000_000);
    const after = Number(await raw.hget(`faultline:budget:${key}:m`, 'tt'));
    assert.ok(Math.abs(before - after - 4_000_000 * (60_000 / 150_000_000)) < 1e-6, `refunded 4M tokens (1600 ms): ${before - after} ms`);
  });

  test('a reservation without max_tokens is capped (a tenth of TPM by default); the certain part is not', async () => {
    const key = uniqueKey('cap');
    const budget = make({ key, tpm: 100_000, rpm: 1e6 });
    assert.equal(granted(await budget.acquire('m', 50_000)).grant.tokens, 10_000);
    assert.equal(granted(await budget.acquire('m', 50_000, { minTokens: 30_000 })).grant.tokens, 30_000);
    const capped = make({ key: uniqueKey('cap2'), tpm: 100_000, rpm: 1e6, maxReservedTokens: 2000 });
    assert.equal(granted(await capped.acquire('m', 5000)).grant.tokens, 2000);
  });

  test('limits learned by one process teach every other; a request bigger than the minute fails at once as request_too_large', async () => {
    const key = uniqueKey('learn');
    const a = make({ key });
    const b = make({ key });
    // Cold start: no limit known anywhere. A goes alone (the probe); B waits for its answer.
    const probe = granted(await a.acquire('gpt-4o', 100));
    const held = await b.acquire('gpt-4o', 100);
    assert.equal(held.kind, 'wait');
    await a.observe('gpt-4o', { requests: { limit: 600, remaining: 599, resetMs: 100 }, tokens: { limit: 5000, remaining: 4900, resetMs: 1200 } }, probe.grant);
    granted(await b.acquire('gpt-4o', 100));
    const caught: unknown = await b.acquire('gpt-4o', 6000).catch((e: unknown) => e);
    assert.ok(caught instanceof RequestTooLargeError, String(caught));
    const err = caught as RequestTooLargeError;
    assert.equal(err.code, 'request_too_large');
    assert.equal(err.retryable, false);
    assert.match(err.message, /6000 tokens.*5000/);
    // Another model's state is separate.
    assert.equal((await b.acquire('other', 6000)).kind, 'grant');
  });

  test("the server's reading corrects the shared bucket against the grant's own state: once, however many answers repeat it; the burst is learned", async () => {
    const key = uniqueKey('sync');
    // 60 000 TPM: one token per ms. No explicit burst: learned from the headers.
    const budget = make({ key, tpm: 60_000, rpm: 1e6, maxReservedTokens: Infinity });
    const stateOf = async (): Promise<Record<string, string>> => raw.hgetall(`faultline:budget:${key}:m`);
    const g1 = granted(await budget.acquire('m', 100));
    const g2 = granted(await budget.acquire('m', 100));
    const before = Number((await stateOf())['tt']);
    // The server charged g1 130 tokens, not 100: its bucket is 30 ms further ahead than ours was after g1.
    // (remaining 870 → a burst of at least 870 + 130 = 1000 ms)
    const reading = { limit: 60_000, remaining: 870, resetMs: 130 };
    await budget.observe('m', { tokens: reading }, g1.grant);
    const once = await stateOf();
    assert.ok(Math.abs(Number(once['tt']) - before - 30) < 1e-6, `moved forward by the 30 ms the server is ahead: ${Number(once['tt']) - before}`);
    assert.equal(Number(once['tb']), 1000);
    // The same reading again (a retried observe), and g2's answer showing the same server state: no second move.
    await budget.observe('m', { tokens: reading }, g1.grant);
    await budget.observe('m', { tokens: { limit: 60_000, remaining: 770, resetMs: 230 } }, g2.grant);
    // (g2's reading is relative to its own send, a fraction of a ms after g1's: that much may move.)
    const twice = Number((await stateOf())['tt']) - before;
    assert.ok(twice >= 30 && twice < 35, `a correction is applied once: ${twice}`);
    // A reading showing the server behind ours (it charged less) never moves the bucket back.
    await budget.observe('m', { tokens: { limit: 60_000, remaining: 990, resetMs: 10 } }, g2.grant);
    assert.equal(Number((await stateOf())['tt']) - before, twice);
  });

  test("a 429's retry-after pauses every process; booked slots after it are still spaced", async () => {
    const key = uniqueKey('pause');
    const a = make({ key, rpm: 6000, burstWindowMs: 0 });
    const b = make({ key, rpm: 6000, burstWindowMs: 0 });
    await a.pause('m', 800);
    const t0 = Date.now();
    const w = [granted(await b.acquire('m', 0)).sendAt - t0, granted(await b.acquire('m', 0)).sendAt - t0];
    assert.ok(w[0]! > 700 && w[0]! < 840, `after the pause: ${w[0]}`);
    assert.ok(Math.abs(w[1]! - w[0]! - 10) < 15, `then 10 ms apart: ${w}`);
  });

  test('a slot further ahead than maxAheadMs reserves nothing and says when to ask again', async () => {
    const key = uniqueKey('ahead');
    const budget = make({ key, rpm: 60, burstWindowMs: 0, maxAheadMs: 1500 });
    granted(await budget.acquire('m', 0)); // now
    granted(await budget.acquire('m', 0)); // +1 s
    const before = await raw.hget(`faultline:budget:${key}:m`, 'rt');
    const d = await budget.acquire('m', 0); // +2 s > 1.5 s
    assert.equal(d.kind, 'wait');
    const retryIn = (d as { retryAt: number }).retryAt - Date.now();
    assert.ok(retryIn > 400 && retryIn < 560, `ask again in about 500 ms: ${retryIn}`);
    assert.equal(await raw.hget(`faultline:budget:${key}:m`, 'rt'), before, 'nothing charged');
  });

  test('every key expires; the state stays bounded however many models are used', async () => {
    const key = uniqueKey('ttl');
    const budget = make({ key, rpm: 600, tpm: 100_000, stateTtlMs: 5000 });
    for (let i = 0; i < 50; i++) await budget.acquire(`model-${i}`, 10);
    const keys = await raw.keys(`faultline:budget:${key}:*`);
    assert.equal(keys.length, 50);
    for (const k of keys) {
      const ttl = await raw.pttl(k);
      assert.ok(ttl > 0 && ttl <= 5000 + 200, `${k} expires (${ttl} ms)`);
    }
  });

  test('a client clock hours off changes nothing: the decisions come from the server clock', async () => {
    const key = uniqueKey('skew');
    const skewed = (offset: number): Clock => ({ now: () => Date.now() + offset, sleep: systemClock.sleep });
    const clocks = [skewed(3_600_000), skewed(-86_400_000), skewed(0)];
    const budgets = clocks.map((clock) => make({ key, rpm: 600, burstWindowMs: 0, clock }));
    for (let i = 0; i < 6; i++) {
      const c = clocks[i % 3]!;
      const d = granted(await budgets[i % 3]!.acquire('m', 0));
      const wait = d.sendAt - c.now(); // on that process's own (skewed) clock
      assert.ok(Math.abs(wait - i * 100) < 40, `slot ${i} on a clock ${c.now() - Date.now()} ms off: ${wait}`);
    }
  });

  test('misuse throws at once, naming the option; the URL (a password in it) is never shown', () => {
    const pw = ['s3cr', 'et-pw'].join('');
    assert.throws(() => redisBudget({ key: 'k' }), /redisBudget: exactly one of options\.url and options\.client/);
    assert.throws(() => redisBudget({ url, key: '' }), /redisBudget: options\.key must be a non-empty string/);
    assert.throws(() => redisBudget({ url, key: 'k', fallbackShare: 0 }), (e: unknown) => e instanceof RangeError && /options\.fallbackShare must be a number in \(0, 1\], got 0/.test(e.message));
    assert.throws(() => redisBudget({ url, key: 'k', commandTimeoutMs: -1 }), (e: unknown) => e instanceof RangeError && /options\.commandTimeoutMs/.test(e.message));
    assert.throws(() => redisBudget({ url, key: 'k', rpm: 'x' as never }), (e: unknown) => e instanceof TypeError && /options\.rpm must be a number/.test(e.message));
    assert.throws(() => redisBudget({ url, key: 'k', clock: {} as never }), /options\.clock must be a Clock/);
    assert.throws(() => redisBudget({ client: {} as never, key: 'k' }), /options\.client must be a Redis client/);
    assert.throws(
      () => redisBudget({ url: 5 as never, key: 'k' }),
      (e: unknown) => e instanceof TypeError && /options\.url must be a non-empty string, got 5/.test(e.message),
    );
    // A secret URL never appears in a misuse message.
    assert.throws(
      () => redisBudget({ url: `redis://:${pw}@127.0.0.1:1`, client: { call: async () => null }, key: 'k' }),
      (e: unknown) => e instanceof TypeError && !e.message.includes(pw),
    );
  });
});

describe('redisBudget when Redis is down or slow', { skip: redisSkip(true), timeout: 60_000 }, () => {
  let redis: RedisProcess;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });

  test('Redis killed: the fallback engages within commandTimeoutMs, warns once, paces at fallbackShare, then recovers', async () => {
    const fallbacks: unknown[] = [];
    let recovered = 0;
    const budget = redisBudget({
      url: redis.url,
      key: uniqueKey('kill'),
      rpm: 600,
      burstWindowMs: 0,
      commandTimeoutMs: 300,
      fallbackShare: 0.5,
      recoverCheckMs: 200,
      onFallback: (e) => fallbacks.push(e),
      onRecover: () => recovered++,
    });
    try {
      assert.equal(granted(await budget.acquire('m', 0)).grant.source, 'shared');
      await redis.kill();
      const sources: string[] = [];
      const waits: number[] = [];
      for (let i = 0; i < 4; i++) {
        const t0 = performance.now();
        const d = await budget.acquire('m', 0);
        waits.push(performance.now() - t0);
        if (d.kind === 'grant') sources.push(d.grant.source);
        else sources.push(`wait ${Math.round(d.retryAt - Date.now())}`);
      }
      // Real sockets on a shared 2-core VM: the bound proves no call hangs, with room for scheduler lateness.
      assert.ok(waits.every((w) => w < 900), `no call waited longer than its bound: ${waits.map(Math.round)}`);
      assert.equal(sources[0], 'local');
      // 600 RPM × 0.5 = one request per 200 ms on this process alone.
      assert.match(sources[1]!, /^wait (1\d\d|200)$/);
      assert.equal(fallbacks.length, 1, 'warned once for the outage');
      assert.equal(budget.status().mode, 'fallback');
      await redis.restart();
      let back = false;
      for (let i = 0; i < 60 && !back; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const d = await budget.acquire('m', 0);
        back = d.kind === 'grant' && d.grant.source === 'shared';
      }
      assert.ok(back, 'the shared budget decides again once Redis is back');
      assert.equal(recovered, 1);
      assert.equal(budget.status().mode, 'shared');
    } finally {
      await budget.close();
    }
  });

  test('Redis slow (DEBUG SLEEP): every call is cut at commandTimeoutMs and falls back; nothing hangs', async () => {
    const raw = new Redis(redis.url);
    const budget = redisBudget({ url: redis.url, key: uniqueKey('slow'), rpm: 6000, commandTimeoutMs: 150, recoverCheckMs: 10_000, onFallback: () => {} });
    try {
      granted(await budget.acquire('m', 0));
      const sleeping = raw.call('DEBUG', 'SLEEP', '1');
      await new Promise((r) => setTimeout(r, 50));
      const t0 = performance.now();
      const d = granted(await budget.acquire('m', 0));
      const took = performance.now() - t0;
      assert.equal(d.grant.source, 'local');
      // Cut at commandTimeoutMs, well before DEBUG SLEEP's 1 s ends (room left for a busy machine).
      assert.ok(took >= 100 && took < 900, `cut at the bound: ${took}`);
      // Between recovery checks Redis is not called at all: a slow Redis costs nothing per request.
      const t1 = performance.now();
      await budget.acquire('m', 0);
      assert.ok(performance.now() - t1 < 100);
      await sleeping;
    } finally {
      await budget.close();
      raw.disconnect();
    }
  });

  test('without onFallback: one process warning however many calls fail, and no password from the URL in it', async () => {
    const pw = ['hunter', '2-pw'].join('');
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    const budget = redisBudget({ url: `redis://:${pw}@127.0.0.1:1`, key: 'k', commandTimeoutMs: 100, recoverCheckMs: 0 });
    try {
      for (let i = 0; i < 4; i++) await budget.acquire('m', 0);
      await new Promise((r) => setImmediate(r));
      const ours = warnings.filter((w) => (w as { code?: string }).code === 'FAULTLINE_REDIS_FALLBACK');
      assert.equal(ours.length, 1);
      assert.ok(!ours[0]!.message.includes(pw), ours[0]!.message);
      assert.ok(!String((budget.status().lastError as Error)?.message).includes(pw));
    } finally {
      process.off('warning', onWarning);
      await budget.close();
    }
  });

  test('an unreachable Redis from the start: no hang, fallback with no known limit is adaptive', async () => {
    const budget = redisBudget({ url: 'redis://127.0.0.1:1', key: 'k', commandTimeoutMs: 200, onFallback: () => {} });
    try {
      const t0 = performance.now();
      const d = await budget.acquire('m', 10);
      assert.ok(performance.now() - t0 < 400);
      assert.equal(d.kind, 'grant');
      assert.equal(budget.status().mode, 'fallback');
    } finally {
      await budget.close();
    }
  });
});
