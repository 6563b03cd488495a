/**
 * The tokens bucket is paced with its own learned burst window (half of it: the charge is an estimate),
 * not with the requests bucket's far smaller one, and never with less than before. Injected clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../src/retry/index.ts';

// 100 000 RPM with 99 left and 0.6 ms to reset: a 60 ms requests window. 60 000 TPM (1 ms a token) with
// 900 left 100 ms after a 100-token probe: a 1000 ms tokens window.
const reading = { requests: { limit: 100_000, remaining: 99, resetMs: 0.6 }, tokens: { limit: 60_000, remaining: 900, resetMs: 100 } };

test('the tokens bucket spends half its own learned window, not the requests bucket\'s 60 ms', () => {
  const limiter = new RateLimiter({ clock: { now: () => 0, sleep: async () => undefined }, random: () => 0 });
  limiter.observe(reading, limiter.acquire(100));
  assert.equal(limiter.state().burstWindowMs, 60);
  // the bucket is 100 ms ahead; a 400-token request fits in a 500 ms window at once (in 60 ms it would wait)
  assert.equal(limiter.when(400), 0);
  // one larger than the half window waits for the bucket to drain
  assert.equal(limiter.when(600), 100);
  // the requests bucket keeps its own 60 ms: 100 requests at once, not more
  for (let i = 0; i < 99; i++) limiter.acquire(0);
  assert.ok(limiter.when(0) > 0);
});

test('an explicit burstWindowMs is kept for both buckets', () => {
  const limiter = new RateLimiter({ burstWindowMs: 60, clock: { now: () => 0, sleep: async () => undefined }, random: () => 0 });
  limiter.observe(reading, limiter.acquire(100));
  assert.equal(limiter.when(400), 100);
});
