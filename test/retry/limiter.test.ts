import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter, readRateLimitHeaders, type Grant, type RateLimiterOptions } from '../../src/retry/index.ts';

/** A limiter on a clock the test moves by hand. */
function setup(options: RateLimiterOptions = {}) {
  let t = 0;
  const limiter = new RateLimiter({ clock: { now: () => t, sleep: async () => undefined }, random: () => 0.5, ...options });
  return {
    limiter,
    at: (ms: number) => void (t = ms),
    /** Sends `n` requests of `tokens` as early as the limiter allows; returns their send times. */
    run(n: number, tokens = 0): number[] {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        t = Math.max(t, limiter.when(tokens));
        limiter.acquire(tokens);
        times.push(t);
      }
      return times;
    },
  };
}

function headers(h: Record<string, string>) {
  return readRateLimitHeaders(new Headers(h));
}

describe('RateLimiter decisions (injected clock)', () => {
  test('RPM: the burst goes at once, then one request per interval', () => {
    const s = setup({ rpm: 600, burstWindowMs: 1000 });
    assert.deepEqual(s.run(13), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 200, 300]);
  });

  test('TPM: tokens pace too, and both limits are checked together', () => {
    const s = setup({ rpm: 6000, tpm: 6000, burstWindowMs: 1000 }); // 100 tokens/s, bucket of 100
    assert.deepEqual(s.run(4, 50), [0, 0, 500, 1000]);
    const both = setup({ rpm: 60, tpm: 60_000, burstWindowMs: 1000 }); // RPM is the binding one
    assert.deepEqual(both.run(3, 10), [0, 1000, 2000]);
  });

  test('a request larger than the burst still goes once the bucket is empty (never waits forever)', () => {
    const s = setup({ tpm: 6000, burstWindowMs: 1000 });
    s.run(1, 100); // bucket full: tat = 1000
    const when = s.limiter.when(5000); // 50 s of refill, far above the 1 s burst
    assert.equal(when, 1000);
    // Even above the whole per-minute budget: the server will say request_too_large, not us.
    assert.ok(Number.isFinite(s.limiter.when(10_000_000)));
  });

  test('"wait until t": never throws, never in the past', () => {
    const s = setup({ rpm: 1 });
    s.run(1);
    s.at(5);
    assert.equal(s.limiter.when(), 60_000);
    s.at(70_000);
    assert.equal(s.limiter.when(), 70_000);
  });

  test('learns limits and the burst from the first answer; others wait for it (the probe)', () => {
    const s = setup();
    assert.equal(s.limiter.state().mode, 'probing');
    const probe = s.limiter.acquire(10);
    assert.equal(s.limiter.when(10), 5000, 'the others wait for the probe (up to probeTimeoutMs)');
    s.at(40); // the answer arrives 40 ms later
    // 600 RPM (100 ms a request), 100k TPM: 59 requests left and 100 ms to full: a 6 s burst window.
    s.limiter.observe(
      headers({
        'x-ratelimit-limit-requests': '600',
        'x-ratelimit-remaining-requests': '59',
        'x-ratelimit-reset-requests': '100ms',
        'x-ratelimit-limit-tokens': '100000',
        'x-ratelimit-remaining-tokens': '99990',
        'x-ratelimit-reset-tokens': '6ms',
      }),
      probe,
    );
    const st = s.limiter.state();
    assert.equal(st.mode, 'learned');
    assert.equal(st.rpm, 600);
    assert.equal(st.tpm, 100_000);
    assert.equal(st.burstWindowMs, 6000);
    assert.ok(s.limiter.when(10) <= 40);
  });

  test('moves its buckets forward when the server is ahead, counted from the send, and only once', () => {
    const s = setup({ rpm: 600, burstWindowMs: 1000 });
    const grants: Grant[] = [];
    for (let i = 0; i < 3; i++) grants.push(s.limiter.acquire()); // local tat: 300
    s.at(2000); // answers arrive late: what matters is the send time (0)
    // The server says its bucket is full at 0 + 800 ms: someone else used 500 ms worth.
    const h = headers({ 'x-ratelimit-limit-requests': '600', 'x-ratelimit-remaining-requests': '2', 'x-ratelimit-reset-requests': '800ms' });
    s.limiter.observe(h, grants[2]);
    s.at(0);
    assert.equal(s.limiter.when(), 0); // tat 800: admissible from -100, i.e. now
    // The two earlier answers show the same undercount (they were sent before it was corrected): no
    // second correction.
    s.limiter.observe(headers({ 'x-ratelimit-limit-requests': '600', 'x-ratelimit-remaining-requests': '4', 'x-ratelimit-reset-requests': '600ms' }), grants[0]);
    s.limiter.observe(headers({ 'x-ratelimit-limit-requests': '600', 'x-ratelimit-remaining-requests': '3', 'x-ratelimit-reset-requests': '700ms' }), grants[1]);
    const times = s.run(3);
    assert.deepEqual(times, [0, 0, 100]);
  });

  test('reconcile corrects the token charge from usage (and refunds a 429)', () => {
    const s = setup({ tpm: 6000, burstWindowMs: 1000 });
    const g = s.limiter.acquire(100); // estimated 100, bucket full
    assert.equal(s.limiter.when(50), 500);
    s.limiter.reconcile(g, 20); // really 20
    assert.equal(s.limiter.when(50), 0);
    s.limiter.reconcile(g, Number.NaN); // ignored
    assert.equal(s.limiter.when(50), 0);
  });

  test('a 429 pauses everyone for retry-after plus jitter', () => {
    const s = setup({ rpm: 6000, spread: 0.1 });
    const g = s.limiter.acquire();
    s.at(10);
    s.limiter.onRateLimited(2000, g);
    assert.equal(s.limiter.when(), 10 + 2000 + 100); // random 0.5 × 10 % × 2000
    assert.equal(s.limiter.state().pausedUntil, 2110);
  });

  test('AIMD without headers: halves on a 429 once per round trip, grows back on success', () => {
    const s = setup({ initialRpm: 60 });
    const probe = s.limiter.acquire();
    s.limiter.observe(undefined, probe); // no headers at all
    assert.equal(s.limiter.state().mode, 'adaptive');
    const a = s.limiter.acquire();
    const b = s.limiter.acquire();
    s.at(1);
    s.limiter.onRateLimited(undefined, a);
    s.limiter.onRateLimited(undefined, b); // same round trip: no second cut
    assert.equal(s.limiter.state().adaptiveRpm, 30);
    s.limiter.onSuccess();
    assert.equal(s.limiter.state().adaptiveRpm, 30 * 1.01);
    // Adaptive pacing spaces requests evenly at the current rate (no burst).
    const times = setup({ initialRpm: 600, learn: false }).run(3);
    assert.deepEqual(times, [0, 100, 200]);
  });

  test('headers that lie: 429s the buckets did not predict cut the pace, successes restore it', () => {
    const s = setup();
    const probe = s.limiter.acquire();
    s.limiter.observe(headers({ 'x-ratelimit-limit-requests': '1000000', 'x-ratelimit-remaining-requests': '999999', 'x-ratelimit-reset-requests': '0s' }), probe);
    const g = s.limiter.acquire();
    s.at(5);
    s.limiter.onRateLimited(undefined, g);
    assert.equal(s.limiter.state().scale, 0.5);
    for (let i = 0; i < 100; i++) s.limiter.onSuccess();
    assert.equal(s.limiter.state().scale, 1);
  });

  test('a 429 whose own headers show room pauses everyone but does not cut the pace', () => {
    const s = setup();
    const room = headers({ 'x-ratelimit-limit-requests': '600', 'x-ratelimit-remaining-requests': '500', 'x-ratelimit-reset-requests': '10s', 'x-ratelimit-limit-tokens': '100000', 'x-ratelimit-remaining-tokens': '90000', 'x-ratelimit-reset-tokens': '6s' });
    s.limiter.observe(room, s.limiter.acquire(10));
    s.at(100);
    s.limiter.onRateLimited(500, s.limiter.acquire(10), room);
    assert.equal(s.limiter.state().scale, 1);
    assert.ok(s.limiter.when(10) >= 600);
    // The same 429 with a bucket shown empty: our pace is to blame, and it is cut.
    const empty = headers({ 'x-ratelimit-limit-requests': '600', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '10s' });
    s.limiter.onRateLimited(500, s.limiter.acquire(10), empty);
    assert.equal(s.limiter.state().scale, 0.5);
    // Never below 1/16 of the learned limits, however many rounds.
    for (let i = 0; i < 20; i++) {
      s.at(1000 + i * 1000);
      s.limiter.onRateLimited(undefined, s.limiter.acquire(10), empty);
    }
    assert.equal(s.limiter.state().scale, 1 / 16);
  });

  test('static headers that claim room while 429s keep coming are taken for fakes: adaptive pacing', () => {
    const s = setup();
    const fake = headers({ 'x-ratelimit-limit-requests': '1000000', 'x-ratelimit-remaining-requests': '999999', 'x-ratelimit-reset-requests': '0s' });
    for (let i = 0; i < 4; i++) s.limiter.observe(fake, s.limiter.acquire());
    assert.equal(s.limiter.state().mode, 'learned');
    s.limiter.onRateLimited(undefined, s.limiter.acquire(), fake);
    const st = s.limiter.state();
    assert.equal(st.headersTrusted, false);
    assert.equal(st.mode, 'adaptive');
    assert.equal(st.adaptiveRpm, 30, 'the 429 also halved the adaptive rate');
  });

  test('a Grant is only { sentAt, tokens }: the bookkeeping stays inside the limiter', () => {
    const s = setup({ rpm: 60 });
    s.at(1000);
    const g = s.limiter.acquire(42);
    assert.deepEqual(Object.keys(g).sort(), ['sentAt', 'tokens']);
    assert.deepEqual({ ...g }, { sentAt: 1000, tokens: 42 });
    assert.ok(Object.isFrozen(g));
  });

  test('misuse names the option', () => {
    assert.throws(() => new RateLimiter({ rpm: -1 }), { name: 'RangeError', message: /options\.rpm/ });
    assert.throws(() => new RateLimiter({ tpm: 'x' as never }), { name: 'TypeError', message: /options\.tpm/ });
    assert.throws(() => new RateLimiter({ headroom: 0.95 }), { name: 'RangeError', message: /headroom/ });
    assert.throws(() => new RateLimiter({ clock: 1 as never }), { name: 'TypeError', message: /^RateLimiter: options\.clock must be a Clock/ });
    assert.throws(() => new RateLimiter({ spread: 2 }), { name: 'RangeError', message: 'RateLimiter: options.spread must be a number in [0, 1], got 2' });
    assert.throws(() => new RateLimiter({ burstWindowMs: 60_001 }), { name: 'RangeError', message: /options\.burstWindowMs must be a number of milliseconds >= 0 and <= 60000/ });
    assert.throws(() => new RateLimiter({ learn: 'yes' as never }), { name: 'TypeError', message: /options\.learn/ });
    assert.throws(() => new RateLimiter().acquire(-5), { name: 'RangeError', message: 'RateLimiter.acquire: tokens must be a finite number >= 0, got -5' });
    assert.throws(() => new RateLimiter().acquire('5' as never), { name: 'TypeError', message: 'RateLimiter.acquire: tokens must be a finite number >= 0, got "5"' });
  });

  test('each key renamed in 0.2.0 throws at once, naming the new key', () => {
    assert.throws(() => new RateLimiter({ pauseJitter: 0.1 } as never), { name: 'TypeError', message: 'RateLimiter: options.pauseJitter was renamed to options.spread (0.2.0)' });
    assert.throws(() => new RateLimiter({ now: () => 0 } as never), { name: 'TypeError', message: 'RateLimiter: options.now was renamed to options.clock (0.2.0)' });
  });
});

describe('readRateLimitHeaders', () => {
  test('Go-style durations and partial or fake headers', () => {
    assert.deepEqual(
      headers({
        'x-ratelimit-limit-requests': '10000',
        'x-ratelimit-remaining-requests': '9999',
        'x-ratelimit-reset-requests': '6m0s',
        'x-ratelimit-limit-tokens': '2000000',
        'x-ratelimit-remaining-tokens': '1999000',
        'x-ratelimit-reset-tokens': '1m30.5s',
      }),
      { requests: { limit: 10000, remaining: 9999, resetMs: 360_000 }, tokens: { limit: 2_000_000, remaining: 1_999_000, resetMs: 90_500 } },
    );
    assert.deepEqual(headers({ 'x-ratelimit-limit-tokens': '100000', 'x-ratelimit-reset-tokens': '20ms' }), { tokens: { limit: 100000, resetMs: 20 } });
    assert.equal(headers({}), undefined);
    assert.equal(headers({ 'x-ratelimit-limit-requests': 'lots' }), undefined);
    assert.deepEqual(headers({ 'x-ratelimit-limit-requests': '5', 'x-ratelimit-reset-requests': 'soon', 'x-ratelimit-remaining-requests': '-1' }), { requests: { limit: 5 } });
  });
});
