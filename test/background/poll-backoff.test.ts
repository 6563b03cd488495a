import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_POLL_POLICY, errorDelay, pollDelay, pollPolicyOf, resolvePollPolicy } from '../../src/background/poll-backoff.ts';

describe('poll backoff (decisions only, no clock)', () => {
  const p = resolvePollPolicy({ jitter: 0 });

  test('healthy delay tracks the job age, clamped to [min, max]', () => {
    assert.deepEqual(
      [0, 5_000, 10_000, 60_000, 250_000, 3_600_000].map((age) => pollDelay(p, age, 0)),
      [1000, 1000, 1000, 6000, 25_000, 30_000],
    );
  });

  test('jitter only shortens, never below min, so the latency bound holds', () => {
    const j = resolvePollPolicy({ jitter: 1 });
    for (const r of [0, 0.25, 0.5, 0.999]) {
      const d = pollDelay(j, 60_000, r);
      assert.ok(d <= 6000 && d >= 1000, String(d));
    }
  });

  test('a server hint (openai-poll-after-ms) is a lower bound', () => {
    assert.equal(pollDelay(p, 0, 0, 4000), 4000);
    assert.equal(pollDelay(p, 60_000, 0, 10), 6000);
  });

  test('a hint is read up to maxDelayMs: an absurd one (1e12 ms) never parks a job until its deadline', () => {
    assert.equal(pollDelay(p, 0, 0, 1e12), 30_000);
    assert.equal(pollDelay(p, 0, 0, Number.POSITIVE_INFINITY), 30_000);
    assert.equal(errorDelay(p, 1, 0, 999_999_000), 30_000);
    const flex = resolvePollPolicy({ jitter: 0, maxDelayMs: 300_000 });
    assert.equal(pollDelay(flex, 0, 0, 120_000), 120_000, 'a hint below maxDelayMs is honoured in full');
    assert.equal(errorDelay(flex, 1, 0, 1e12), 300_000);
  });

  test('error backoff doubles from min to max with equal jitter and honours retry-after', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((n) => errorDelay(p, n, 1)), [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    assert.deepEqual([1, 2, 3].map((n) => errorDelay(p, n, 0)), [500, 1000, 2000]);
    assert.equal(errorDelay(p, 1, 0, 20_000), 20_000);
  });

  test('defaults and misuse', () => {
    assert.deepEqual(resolvePollPolicy(), DEFAULT_POLL_POLICY);
    assert.throws(() => resolvePollPolicy({ minDelayMs: Number.NaN }), /^TypeError: resolvePollPolicy: options\.minDelayMs must be a number of milliseconds >= 0, got NaN$/);
    assert.throws(() => resolvePollPolicy({ minDelayMs: -1 }), /^RangeError: resolvePollPolicy: options\.minDelayMs must be a number of milliseconds >= 0, got -1$/);
    assert.throws(() => resolvePollPolicy({ jitter: 2 }), /^RangeError: resolvePollPolicy: options\.jitter must be a number in \[0, 1\], got 2$/);
    assert.throws(() => resolvePollPolicy({ minDelayMs: 5000, maxDelayMs: 1000 }), /^RangeError: resolvePollPolicy: options\.maxDelayMs must be >= options\.minDelayMs \(5000\), got 1000$/);
    assert.throws(() => pollPolicyOf('waitForBatch', { ageFactor: -0.1 }), /^RangeError: waitForBatch: options\.ageFactor must be a finite number >= 0, got -0\.1$/);
    assert.equal(resolvePollPolicy({ minDelayMs: 60_000 }).maxDelayMs, 60_000);
  });
});
