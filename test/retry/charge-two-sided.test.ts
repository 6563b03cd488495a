/**
 * A server's charge differs from the estimate both ways. A reading taken against the grant's own state
 * (what the buckets held right after its charge, and the corrections made since) moves the tokens bucket
 * to the server's view forward AND back: an overcharge is given back, and noise does not ratchet the
 * bucket ahead. A grant made by hand (no state) still only moves it forward. Injected clock.
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

test('the server charged less than booked: the difference is given back', () => {
  const { limiter } = setup();
  const grant = limiter.acquire(1000);
  // booked 1000 ms of refill; nothing more fits until the bucket drains
  assert.equal(limiter.when(1000), 1000);
  limiter.observe(reading(850), grant); // the server charged 850
  assert.equal(limiter.when(1000), 850);
});

test('the server charged more: the bucket moves forward, and a later reading of the same state is not counted twice', () => {
  const { limiter, at } = setup();
  const a = limiter.acquire(500);
  const b = limiter.acquire(500);
  limiter.observe(reading(600), a); // a cost 600, not 500
  assert.equal(limiter.when(1000), 1100);
  // b was sent in the same ms: the server's bucket was at 600 + b's true 550
  at(100);
  limiter.observe(reading(1150), b);
  assert.equal(limiter.when(1000), 1150);
  // c, booked at 100 tokens (the bucket at 1250), cost the server 50: its reading (sent at 100, the
  // server's bucket at 1200) moves the bucket back by 50, not forward only
  const c = limiter.acquire(100);
  assert.equal(limiter.when(1000), 1250);
  limiter.observe(reading(1200 - 100), c);
  assert.equal(limiter.when(1000), 1200);
});

test('a grant made by hand only moves the bucket forward', () => {
  const { limiter } = setup();
  limiter.acquire(1000);
  limiter.observe(reading(400), { sentAt: 0, tokens: 1000 });
  assert.equal(limiter.when(1000), 1000);
  limiter.observe(reading(1300), { sentAt: 0, tokens: 1000 });
  assert.equal(limiter.when(1000), 1300);
});
