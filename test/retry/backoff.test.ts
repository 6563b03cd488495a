import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelays, constantBackoff, exponentialBackoff } from '../../src/retry/index.ts';

describe('exponentialBackoff (values, no clock)', () => {
  test('grows by the factor up to the cap', () => {
    assert.deepEqual(backoffDelays(exponentialBackoff({ jitter: 0 }), 9), [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    assert.deepEqual(backoffDelays(exponentialBackoff({ jitter: 0, initialDelayMs: 100, factor: 3, maxDelayMs: 1000 }), 4), [100, 300, 900, 1000]);
  });

  test('full jitter draws from [0, d] with the injected random', () => {
    const draws = [0, 0.5, 0.999, 0.25];
    let i = 0;
    const b = exponentialBackoff({ random: () => draws[i++]! });
    assert.deepEqual(backoffDelays(b, 4), [0, 500, 1998, 1000]);
  });

  test('a jitter below 1 draws from [d × (1 − jitter), d]; 0 never calls random', () => {
    const draws = [0, 0.5, 0.999];
    let i = 0;
    assert.deepEqual(backoffDelays(exponentialBackoff({ jitter: 0.5, random: () => draws[i++]! }), 3), [250, 750, 1999]);
    let called = 0;
    assert.deepEqual(backoffDelays(exponentialBackoff({ jitter: 0, random: () => ++called }), 2), [500, 1000]);
    assert.equal(called, 0);
  });

  test('next() never changes the value it was called on', () => {
    const b = exponentialBackoff({ jitter: 0 });
    const first = b.next();
    const again = b.next();
    assert.equal(first.delayMs, again.delayMs);
    assert.equal(b.attempt, 0);
    assert.equal(first.backoff.attempt, 1);
    assert.notEqual(first.backoff, b);
    assert.ok(Object.isFrozen(b));
    // Thousands of steps do not overflow into NaN.
    assert.deepEqual(backoffDelays(exponentialBackoff({ jitter: 0 }), 3000).slice(-1), [30000]);
  });

  test('a broken random is clamped, never a negative wait', () => {
    assert.deepEqual(backoffDelays(exponentialBackoff({ random: () => -3 }), 1), [0]);
    assert.deepEqual(backoffDelays(exponentialBackoff({ random: () => Number.NaN }), 1), [0]);
    assert.deepEqual(backoffDelays(exponentialBackoff({ random: () => 7 }), 1), [500]);
  });

  test('constantBackoff repeats', () => {
    assert.deepEqual(backoffDelays(constantBackoff(250), 3), [250, 250, 250]);
  });

  test('misuse names the option', () => {
    assert.throws(() => exponentialBackoff({ initialDelayMs: -1 }), { name: 'RangeError', message: /initialDelayMs/ });
    assert.throws(() => exponentialBackoff({ factor: 0.5 }), { name: 'RangeError', message: /factor/ });
    assert.throws(() => exponentialBackoff({ maxDelayMs: Number.NaN }), { name: 'TypeError', message: /maxDelayMs/ });
    assert.throws(() => exponentialBackoff({ jitter: 'equal' as never }), { name: 'TypeError', message: 'exponentialBackoff: options.jitter must be a number in [0, 1], got "equal"' });
    assert.throws(() => exponentialBackoff({ jitter: 1.5 }), { name: 'RangeError', message: 'exponentialBackoff: options.jitter must be a number in [0, 1], got 1.5' });
    // The 0.1 spelling says what the number is.
    assert.throws(() => exponentialBackoff({ jitter: 'full' as never }), {
      name: 'TypeError',
      message: `exponentialBackoff: options.jitter must be a number in [0, 1] since 0.2.0 (1 for 'full', 0 for 'none'), got "full"`,
    });
    assert.throws(() => exponentialBackoff({ random: 3 as never }), { name: 'TypeError', message: /random/ });
    assert.throws(() => constantBackoff(Infinity), { name: 'RangeError', message: 'constantBackoff: delayMs must be a number of milliseconds >= 0, got Infinity' });
    assert.throws(() => constantBackoff(undefined as never), { name: 'TypeError', message: 'constantBackoff: delayMs must be a number of milliseconds >= 0, got undefined' });
  });
});
