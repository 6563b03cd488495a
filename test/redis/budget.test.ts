/**
 * redisBudget against real redis-server processes: the decisions (values, no sleeping), the shared
 * learning, expiry, a skewed client clock, and the policy when Redis is down or slow.
 *
 * Timing is judged on the server's clock, not on how fast this machine runs: Redis decides on its own
 * TIME, which on this host is the clock Date.now() reads, so each decision is placed by reading the
 * clock just before and just after the call (see {@link timed}) and asserted within that interval,
 * never within a fixed number of milliseconds of "now". Where the budget's own clock is read (its
 * fallback pacing), the clock is injected.
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

/**
 * Runs `call` between two readings of the real clock. Whatever Redis decided during the call, it did so
 * at a server time in [before, after] (give or take the sub-millisecond part Date.now() drops), and an
 * answer relative to "now" (a wait) came back at most `after - before` ms late.
 */
async function timed<T>(call: () => Promise<T>): Promise<{ value: T; before: number; after: number }> {
  const before = Date.now();
  const value = await call();
  return { value, before, after: Date.now() };
}

/** `lo <= x <= hi`, widened by 2 ms: Date.now() rounds off the server's sub-millisecond TIME, at either end. */
function between(x: number, lo: number, hi: number, what: string): void {
  assert.ok(x >= lo - 2 && x <= hi + 2, `${what}: ${x} not in [${lo}, ${hi}]`);
}

/**
 * Books `n` slots for `model` with no burst, alternately through `budgets` (each on a clock `offset` ms
 * from the real one), and checks each against the state in Redis: GCRA without a burst books a slot at
 * the later of the bucket's theoretical arrival time (whoever booked it) and now; the client's `sendAt`,
 * read back on its own clock, is that slot. Returns how many slots lay ahead of the call's end (booked
 * for later: "send at t", not a rejection).
 */
async function bookSlots(raw: Redis, stateKey: string, budgets: readonly { budget: SharedBudget; offset: number }[], model: string, n: number, intervalMs: number): Promise<number> {
  let tat = 0;
  let ahead = 0;
  for (let i = 0; i < n; i++) {
    const { budget, offset } = budgets[i % budgets.length]!;
    const { value, before, after } = await timed(() => budget.acquire(model, 0));
    const d = granted(value);
    const slot = Number(await raw.hget(stateKey, 'rt')) - intervalMs;
    if (i > 0) between(slot, Math.max(tat, before), Math.max(tat, after), `slot ${i} (bucket at ${tat})`);
    between(d.sendAt - offset, slot, slot + (after - before), `slot ${i}: sendAt on a clock ${offset} ms off`);
    if (slot > after) ahead++;
    tat = slot + intervalMs;
  }
  return ahead;
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
    // 60 RPM = one request per second, alternately booked by two processes' budgets: a slot lies ahead
    // of now unless its call took longer than the second the bucket is ahead by.
    const a = make({ key, rpm: 60, burstWindowMs: 0 });
    const b = make({ key, rpm: 60, burstWindowMs: 0 });
    const ahead = await bookSlots(raw, `faultline:budget:${key}:gpt-x`, [{ budget: a, offset: 0 }, { budget: b, offset: 0 }], 'gpt-x', 6, 1000);
    assert.ok(ahead >= 1, `some slot was booked ahead of now (spaced, not rejected): ${ahead}`);
  });

  test('requests and tokens are checked together: the binding dimension decides, in one script', async () => {
    const key = uniqueKey('both');
    const budget = make({ key, rpm: 60_000, tpm: 60_000, burstWindowMs: 0, maxReservedTokens: Infinity });
    // tokens: 1 per ms; requests: 1 per ms. A 500-token request empties the token bucket for 500 ms.
    const first = await timed(() => budget.acquire('m', 500));
    granted(first.value);
    const free = await timed(() => budget.acquire('m', 0));
    // Requests are 1 ms apart: the free one goes (about) now, within the ms the first one took.
    between(granted(free.value).sendAt, free.before, free.after + 1, 'a request costing no tokens is bound by requests only');
    const second = await timed(() => budget.acquire('m', 500));
    // The token bucket frees 500 ms after the first request's server time.
    between(granted(second.value).sendAt, first.before + 500, Math.max(first.after + 500, second.after) + (second.after - second.before), 'token-bound');
    const state = await raw.hgetall(`faultline:budget:${key}:m`);
    assert.ok(Number(state['tt']) > Number(state['rt']), 'both buckets are charged');
  });

  test('reserve then reconcile: an overestimate is refunded, an underestimate charged; release gives back a cancelled one', async () => {
    const key = uniqueKey('reconcile');
    const budget = make({ key, tpm: 60_000, rpm: 1e9, burstWindowMs: 0, maxReservedTokens: Infinity });
    // Server times are placed by timed(): the first grant's (s0) in [first.before, first.after].
    const first = await timed(() => budget.acquire('m', 1000));
    const g = granted(first.value).grant;
    assert.equal(g.tokens, 1000);
    await budget.reconcile(g, 200); // 800 tokens refunded: the bucket is 200 ms out instead of 1000
    const p1 = await timed(() => budget.acquire('m', 100));
    const probe1 = granted(p1.value);
    // (Or now, if the machine took longer than those 200 ms to get here.)
    between(probe1.sendAt, first.before + 200, Math.max(first.after + 200, p1.after) + (p1.after - p1.before), 'after the refund');
    await budget.release(probe1.grant); // cancelled before sending: its 100 tokens come back
    await budget.reconcile(probe1.grant, 5000); // settled already: ignored
    const g2 = granted(await budget.acquire('m', 100)).grant;
    await budget.reconcile(g2, 1100); // underestimate: 1000 more tokens charged
    // s0 + 200 (after the refund) + 100 (g2) + 1000 (its extra) at least; without the charge, s0 + 300.
    const next = granted(await budget.acquire('m', 1));
    assert.ok(next.sendAt >= first.before + 1300 - 1, `the extra cost pushes the next request out: ${next.sendAt - first.before} ms after the first`);
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
    const t1 = Date.now();
    const g1 = granted(await budget.acquire('m', 100));
    const a2 = await timed(() => budget.acquire('m', 100));
    const g2 = granted(a2.value);
    // g2 was sent (on the server's clock) at most this long after g1.
    const gap = Date.now() - t1 + 1;
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
    // (g2's reading is relative to its own send, `gap` ms at most after g1's: that much may move.)
    const twice = Number((await stateOf())['tt']) - before;
    assert.ok(twice >= 30 && twice <= 30 + gap, `a correction is applied once: ${twice} (g2 at most ${gap} ms after g1)`);
    // A reading showing the server behind ours (it charged less) moves the bucket back, to 5 % of the
    // window (50 ms) ahead of the server's read at the answer (the latest the request may have arrived,
    // here the observe call): g2's server time (in [a2.before, a2.after]) + 10 + 50 + that delay, or
    // "full" (now) if this machine was slower than that.
    const back = { limit: 60_000, remaining: 990, resetMs: 10 };
    const ob = await timed(() => budget.observe('m', { tokens: back }, g2.grant));
    const moved = Number((await stateOf())['tt']);
    assert.ok(moved < before + twice - 1 || ob.after >= before + twice - 2, `moved back: ${moved - before - twice}`);
    between(moved, Math.max(a2.before + 60, ob.before), Math.max(a2.after + 60 + (ob.after - a2.before), ob.after), 'back to the lead ahead of the server');
    // The same reading again: the bucket is within the lead already, nothing moves.
    await budget.observe('m', { tokens: back }, g2.grant);
    assert.ok(Math.abs(Number((await stateOf())['tt']) - moved) < 1e-6, 'no second move');
  });

  test("a 429's retry-after pauses every process; booked slots after it are still spaced", async () => {
    const key = uniqueKey('pause');
    const a = make({ key, rpm: 6000, burstWindowMs: 0 });
    const b = make({ key, rpm: 6000, burstWindowMs: 0 });
    const paused = await timed(() => a.pause('m', 800));
    const b0 = await timed(() => b.acquire('m', 0));
    const b1 = await timed(() => b.acquire('m', 0));
    const [w0, w1] = [granted(b0.value).sendAt, granted(b1.value).sendAt];
    between(w0, paused.before + 800, Math.max(paused.after + 800, b0.after) + (b0.after - b0.before), 'after the pause');
    // The next slot is 10 ms after that one on the server; each sendAt is late by at most its call.
    between(w1 - w0, 10 - (b0.after - b0.before), 10 + (b1.after - b1.before), 'then 10 ms apart');
  });

  test('a slot further ahead than maxAheadMs reserves nothing and says when to ask again', async () => {
    const key = uniqueKey('ahead');
    // 6 RPM: slots 10 s apart, so the third lies 5 s beyond maxAheadMs however slow this machine is.
    const budget = make({ key, rpm: 6, burstWindowMs: 0, maxAheadMs: 15_000 });
    const first = await timed(() => budget.acquire('m', 0)); // s0
    granted(first.value);
    granted(await budget.acquire('m', 0)); // s0 + 10 s
    const before = await raw.hget(`faultline:budget:${key}:m`, 'rt');
    const third = await timed(() => budget.acquire('m', 0)); // s0 + 20 s > now + 15 s
    const d = third.value;
    assert.equal(d.kind, 'wait');
    // Ask again when s0 + 20 s is maxAheadMs away: at s0 + 5 s.
    between((d as { retryAt: number }).retryAt, first.before + 5000, first.after + 5000 + (third.after - third.before), 'ask again at s0 + 5 s');
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
    const offsets = [3_600_000, -86_400_000, 0];
    const budgets = offsets.map((offset) => ({ budget: make({ key, rpm: 60, burstWindowMs: 0, clock: skewed(offset) }), offset }));
    // Each sendAt is on its process's own (skewed) clock; the slots chain on the server's.
    const ahead = await bookSlots(raw, `faultline:budget:${key}:m`, budgets, 'm', 6, 1000);
    assert.ok(ahead >= 1, `some slot was booked ahead of now: ${ahead}`);
  });

  test('misuse throws at once, naming the option; the URL (a password in it) is never shown', () => {
    const pw = ['s3cr', 'et-pw'].join('');
    assert.throws(() => redisBudget({ key: 'k' }), /redisBudget: exactly one of options\.url and options\.client/);
    assert.throws(() => redisBudget({ url, key: '' }), /redisBudget: options\.key must be a non-empty string/);
    assert.throws(() => redisBudget({ url, key: 'k', fallbackShare: 0 }), (e: unknown) => e instanceof RangeError && /options\.fallbackShare must be a number in \(0, 1\], got 0/.test(e.message));
    assert.throws(() => redisBudget({ url, key: 'k', commandTimeoutMs: -1 }), (e: unknown) => e instanceof RangeError && /options\.commandTimeoutMs/.test(e.message));
    assert.throws(() => redisBudget({ url, key: 'k', rpm: 'x' as never }), (e: unknown) => e instanceof TypeError && /options\.rpm must be a finite number > 0, got "x"/.test(e.message));
    assert.throws(() => redisBudget({ url, key: 'k', clock: {} as never }), /options\.clock\.now must be a function/);
    assert.throws(() => redisBudget({ url, key: 'k', clock: 5 as never }), /options\.clock must be a Clock/);
    assert.throws(() => redisBudget({ client: {} as never, key: 'k' }), /options\.client must be a Redis client/);
    assert.throws(
      () => redisBudget({ url: 5 as never, key: 'k' }),
      (e: unknown) => e instanceof TypeError && /options\.url must be a non-empty string, got a number \(not shown\)/.test(e.message),
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

  /**
   * A budget whose first call Redis answered. On a loaded machine the very first call (connecting, then
   * loading the script) can outlast a short commandTimeoutMs and fall back, which is the policy working,
   * not what these tests are about: such a budget is closed and another built, a bounded number of times.
   */
  async function sharedBudget(build: () => SharedBudget, tries = 5): Promise<SharedBudget> {
    for (let i = 0; i < tries; i++) {
      const budget = build();
      const d = await budget.acquire('m', 0);
      if (d.kind === 'grant' && d.grant.source === 'shared') return budget;
      await budget.close();
    }
    assert.fail(`Redis answered none of ${tries} first calls in time`);
  }

  test('Redis killed: the fallback engages within commandTimeoutMs, warns once, paces at fallbackShare, then recovers', async () => {
    let fallbacks: unknown[] = [];
    let recovered = 0;
    // The budget's clock is injected (its fallback pacing and recovery checks read it); Redis and the
    // timeouts run on real time.
    let now = Date.now();
    const clock: Clock = { now: () => now, sleep: systemClock.sleep };
    const budget = await sharedBudget(() => {
      fallbacks = [];
      return redisBudget({
        url: redis.url,
        key: uniqueKey('kill'),
        rpm: 600,
        burstWindowMs: 0,
        commandTimeoutMs: 300,
        fallbackShare: 0.5,
        recoverCheckMs: 200,
        clock,
        onFallback: (e) => fallbacks.push(e),
        onRecover: () => recovered++,
      });
    });
    try {
      await redis.kill();
      const sources: string[] = [];
      const waits: number[] = [];
      for (let i = 0; i < 4; i++) {
        const t0 = performance.now();
        const d = await budget.acquire('m', 0);
        waits.push(performance.now() - t0);
        if (d.kind === 'grant') sources.push(d.grant.source);
        else sources.push(`wait ${d.retryAt - clock.now()}`);
      }
      // Nothing answers a killed Redis, so a call that waited for it would never return: returning at all
      // proves the cut. The limit is the test's, far above commandTimeoutMs for a busy machine's timer
      // lateness (that the cut is at commandTimeoutMs is shown by ordering in the DEBUG SLEEP test).
      assert.ok(waits.every((w) => w < 5000), `no call waited for the dead Redis: ${waits.map(Math.round)}`);
      // 600 RPM × 0.5 = one request per 200 ms on this process alone (its clock has not moved).
      assert.deepEqual(sources, ['local', 'wait 200', 'wait 200', 'wait 200']);
      assert.equal(fallbacks.length, 1, 'warned once for the outage');
      assert.equal(budget.status().mode, 'fallback');
      await redis.restart();
      let back = false;
      // ioredis reconnects on its own schedule (at most 2 s apart): counted tries, each 100 ms of both clocks.
      for (let i = 0; i < 200 && !back; i++) {
        await new Promise((r) => setTimeout(r, 100));
        now += 100;
        const d = await budget.acquire('m', 0);
        back = d.kind === 'grant' && d.grant.source === 'shared';
      }
      assert.ok(back, 'the shared budget decides again once Redis is back');
      assert.equal(recovered, 1);
      assert.equal(fallbacks.length, 1, 'no second warning while it was coming back');
      assert.equal(budget.status().mode, 'shared');
    } finally {
      await budget.close();
    }
  });

  test('a free local limiter grants, even when the clock ticks between two readings (a busy machine)', async () => {
    // Every reading of this clock is 1 ms later than the one before.
    let t = Date.now();
    const clock: Clock = { now: () => ++t, sleep: systemClock.sleep };
    const budget = redisBudget({ url: 'redis://127.0.0.1:1', key: 'k', rpm: 600, burstWindowMs: 0, commandTimeoutMs: 100, clock, onFallback: () => {} });
    try {
      const d = await budget.acquire('m', 0);
      assert.equal(budget.status().mode, 'fallback');
      assert.equal(d.kind, 'grant', `the first local decision: ${JSON.stringify(d)}`);
    } finally {
      await budget.close();
    }
  });

  test('Redis slow (paused): every call is cut at commandTimeoutMs and falls back; nothing hangs', async () => {
    const raw = new Redis(redis.url);
    const commandTimeoutMs = 150;
    // A key per try: a budget that sharedBudget() closed after a slow first call may still give its slot
    // back late, and that is not this budget's traffic.
    let key = '';
    const budget = await sharedBudget(() => redisBudget({ url: redis.url, key: (key = uniqueKey('slow')), rpm: 6000, commandTimeoutMs, recoverCheckMs: 10_000, onFallback: () => {} }));
    // Redis's own counters (INFO commandstats) count every client's scripts, late give-backs of budgets
    // closed earlier among them. MONITOR shows each command as Redis runs it: the scripts that name this
    // budget's key are this budget's, and nobody else's.
    const watcher = new Redis(redis.url);
    const monitor = await watcher.monitor();
    // One logical script call is EVALSHA, or EVALSHA answered NOSCRIPT and then EVAL with the same keys and
    // arguments (runScript() loads a script the first time it is run on a server): counted once.
    const ours: string[] = [];
    const marker = `${key}:marker`;
    let markerSeen: () => void = () => {};
    const markerArrived = new Promise<void>((r) => (markerSeen = r));
    monitor.on('monitor', (_time: string, args: string[]) => {
      const name = String(args[0]).toLowerCase();
      if (name === 'echo' && args[1] === marker) markerSeen();
      if ((name !== 'eval' && name !== 'evalsha') || !args.some((a) => a.includes(key))) return;
      const call = JSON.stringify(args.slice(2));
      if (name === 'eval' && ours.at(-1) === call) return;
      ours.push(call);
    });
    try {
      // CLIENT PAUSE answers once the pause is in force: from then on Redis runs no command for 2 s (its
      // own, queued PING answers when the pause ends). Ordering, not a sleep, says Redis is now slow.
      await raw.call('CLIENT', 'PAUSE', '2000', 'ALL');
      let slowEnded = false;
      const slow = raw.call('PING').then(() => (slowEnded = true));
      const t0 = performance.now();
      const d = granted(await budget.acquire('m', 0));
      const took = performance.now() - t0;
      assert.equal(d.grant.source, 'local');
      // Cut by the bound (a timer never fires early), before Redis answered anything.
      assert.ok(took >= commandTimeoutMs - 1, `cut at the bound, not before: ${took}`);
      assert.equal(slowEnded, false, `cut before Redis answered (${Math.round(took)} ms)`);
      // Between recovery checks Redis is not called at all: a slow Redis costs nothing per request.
      assert.equal((await budget.acquire('m', 0)).kind, 'grant');
      await slow;
      // Everything Redis ran before the marker has reached the monitor once the marker has.
      await raw.call('ECHO', marker);
      await markerArrived;
      // The cut call, and (once its late answer is in) the give-back of the slot it booked: nothing else.
      assert.ok(ours.length >= 1 && ours.length <= 2, `only the cut call (and its give-back) reached Redis: ${ours.length}`);
    } finally {
      await budget.close();
      monitor.disconnect();
      watcher.disconnect();
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
