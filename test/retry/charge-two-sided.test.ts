/**
 * A server's charge differs from the estimate both ways. A reading taken against the grant's own state
 * (what the buckets held right after its charge, and the corrections made since) moves the tokens bucket
 * to the server's view forward AND back: an overcharge is given back, and noise does not ratchet the
 * bucket ahead. A grant made by hand (no state) still only moves it forward. Injected clock.
 *
 * A reading also teaches the charge per estimated token (test/retry/charge-ratio.test.ts), which scales
 * later bookings; `view()` reads the bucket's position and that ratio apart from the limiter's answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../src/retry/index.ts';

// 60 000 TPM: one token per ms of refill; a 1000 ms burst.
const setup = (): { limiter: RateLimiter; at: (ms: number) => void } => {
  let t = 0;
  const limiter = new RateLimiter({ tpm: 60_000, burstWindowMs: 1000, clock: { now: () => t, sleep: async () => undefined }, random: () => 0 });
  return { limiter, at: (ms) => void (t = ms) };
};
const reading = (resetMs: number) => ({ tokens: { limit: 60_000, resetMs } });
/**
 * The tokens bucket's theoretical arrival time and the ratio it books by, from two answers of `when`
 * (a 1000 ms burst: `when(n) = tat + n × ratio − 1000` while that is ahead of now and below the burst).
 */
const view = (limiter: RateLimiter): { tat: number; ratio: number } => {
  const ratio = (limiter.when(800) - limiter.when(400)) / 400;
  return { tat: Math.round(limiter.when(800) - 800 * ratio + 1000), ratio: Math.round(ratio * 1000) / 1000 };
};

test('the server charged less than booked: the difference is given back', () => {
  const { limiter } = setup();
  const grant = limiter.acquire(1000);
  // booked 1000 ms of refill; nothing more fits until the bucket drains
  assert.equal(limiter.when(1000), 1000);
  limiter.observe(reading(850), grant); // the server charged 850
  // back to the server's 850, and later bookings at 0.85 per estimated token
  assert.deepEqual(view(limiter), { tat: 850, ratio: 0.85 });
});

test('the server charged more: the bucket moves forward, and a later reading of the same state is not counted twice', () => {
  const { limiter, at } = setup();
  const a = limiter.acquire(500);
  const b = limiter.acquire(500);
  limiter.observe(reading(600), a); // a cost 600, not 500
  assert.deepEqual(view(limiter), { tat: 1100, ratio: 1.2 });
  // b was sent in the same ms: the server's bucket was at 600 + b's true 550 (a's 100 is not counted twice)
  at(100);
  limiter.observe(reading(1150), b);
  // (the ratio is the median of the readings' 1.2 and 1.1, the higher of the two)
  assert.deepEqual(view(limiter), { tat: 1150, ratio: 1.2 });
  // c, 100 tokens booked at 1.2 (the bucket at 1270), cost the server 100: its reading (sent at 100, the
  // server's bucket at 1250) moves the bucket back by 20, not forward only
  const c = limiter.acquire(100);
  assert.equal(view(limiter).tat, 1270);
  limiter.observe(reading(1250 - 100), c);
  assert.equal(view(limiter).tat, 1250);
});

test('a grant made by hand only moves the bucket forward', () => {
  const { limiter } = setup();
  limiter.acquire(1000);
  limiter.observe(reading(400), { sentAt: 0, tokens: 1000 });
  assert.equal(limiter.when(1000), 1000);
  limiter.observe(reading(1300), { sentAt: 0, tokens: 1000 });
  assert.equal(limiter.when(1000), 1300);
});
