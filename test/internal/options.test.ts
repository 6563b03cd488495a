import { describe as suite, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clock,
  closestKey,
  count,
  describe,
  durationMs,
  finite,
  fn,
  fraction,
  misuse,
  moment,
  nonEmptyString,
  oneOf,
  optionsObject,
  rejectRenamed,
  rejectUnknown,
  signal,
} from '../../src/internal/options.ts';

const throwsWith = (f: () => unknown, type: typeof TypeError | typeof RangeError, message: string): void => {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof type, `expected ${type.name}, got ${String(e)}`);
    assert.equal((e as Error).message, message);
    return true;
  });
};

suite('internal/options: one message format, owner: options.x must be …, got …', () => {
  test('describe shows numbers and strings, the type of anything else, and cuts long strings', () => {
    assert.equal(describe(-1), '-1');
    assert.equal(describe(NaN), 'NaN');
    assert.equal(describe('x'), '"x"');
    assert.equal(describe('a'.repeat(100)), JSON.stringify(`${'a'.repeat(40)}…`));
    assert.equal(describe(null), 'null');
    assert.equal(describe([1]), 'an array');
    assert.equal(describe({ a: 1 }), 'an object');
    assert.equal(describe(() => 1), 'function');
  });

  test('optionsObject: undefined is {}, a non-object is a TypeError', () => {
    assert.deepEqual(optionsObject('retry', undefined), {});
    throwsWith(() => optionsObject('retry', 5), TypeError, 'retry: options must be an object, got 5');
    throwsWith(() => optionsObject('retry', []), TypeError, 'retry: options must be an object, got an array');
  });

  test('rejectRenamed names the new key; an old key set to undefined passes', () => {
    const table = { timeout: 'attemptTimeoutMs (0.2.0)' };
    throwsWith(() => rejectRenamed('retry', { timeout: 5 }, table), TypeError, 'retry: options.timeout was renamed to options.attemptTimeoutMs (0.2.0)');
    rejectRenamed('retry', { timeout: undefined, attemptTimeoutMs: 5 }, table);
  });

  test('closestKey: the nearest known key within two edits, case-only differences first, the first on a tie', () => {
    const known = ['retries', 'maxRetryTimeMs', 'attemptTimeoutMs', 'timeoutMs', 'random'];
    assert.equal(closestKey('retires', known), 'retries'); // two substitutions (a swap)
    assert.equal(closestKey('retry', known), undefined); // three edits
    assert.equal(closestKey('timeoutMS', known), 'timeoutMs'); // case only
    assert.equal(closestKey('TIMEOUTMS', known), 'timeoutMs'); // case only, though 9 substitutions apart
    assert.equal(closestKey('timeout', known), 'timeoutMs'); // two insertions
    assert.equal(closestKey('timeou', known), undefined); // three insertions
    assert.equal(closestKey('randm', known), 'random'); // one insertion
    assert.equal(closestKey('xyz', known), undefined);
    assert.equal(closestKey('retries', []), undefined);
    assert.equal(closestKey('ab', ['ac', 'ad']), 'ac'); // a tie: the first known key
    assert.equal(closestKey('ab', ['ad', 'abc']), 'ad'); // a tie again, in the other order
    assert.equal(closestKey('rpd', ['tpm', 'rpm']), 'rpm'); // one edit beats two, whatever the order
    assert.equal(closestKey('retires', known, 1), undefined); // a smaller bound
  });

  test('rejectUnknown names the key and the owner, suggests the closest known key, lets undefined through', () => {
    const known = new Set(['retries', 'attemptTimeoutMs']);
    throwsWith(() => rejectUnknown('retry', { retires: 3 }, known), TypeError, 'retry: options.retires is not an option of retry(); did you mean options.retries?');
    throwsWith(() => rejectUnknown('retry', { colour: 3 }, known), TypeError, 'retry: options.colour is not an option of retry()');
    throwsWith(() => rejectUnknown('createMock', { rpd: 3 }, new Set(['rpm']), { path: 'rateLimit' }), TypeError, 'createMock: options.rateLimit.rpd is not an option of createMock(); did you mean options.rateLimit.rpm?');
    // A place elsewhere wins over a suggestion.
    throwsWith(() => rejectUnknown('listen', { retires: 3 }, known, { elsewhere: () => 'mock' }), TypeError, 'listen: options.retires is not an option of listen(); pass it as options.mock.retires');
    // A key that is not an identifier is neither shown nor matched (it could be a secret).
    assert.throws(() => rejectUnknown('retry', { 'retries ': 3 }, known), (e: unknown) => e instanceof TypeError && !e.message.includes('did you mean') && e.message.includes('not shown'));
    rejectUnknown('retry', { retires: undefined, retries: 3 }, known);
  });

  test('durationMs: type, range, Infinity only when allowed, exclusive minimum, default', () => {
    assert.equal(durationMs('retry', 'attemptTimeoutMs', undefined, { default: 7 }), 7);
    assert.equal(durationMs('retry', 'attemptTimeoutMs', 0), 0);
    throwsWith(() => durationMs('retry', 'attemptTimeoutMs', '5'), TypeError, 'retry: options.attemptTimeoutMs must be a number of milliseconds >= 0, got "5"');
    throwsWith(() => durationMs('retry', 'attemptTimeoutMs', -1), RangeError, 'retry: options.attemptTimeoutMs must be a number of milliseconds >= 0, got -1');
    throwsWith(() => durationMs('retry', 'attemptTimeoutMs', Infinity), RangeError, 'retry: options.attemptTimeoutMs must be a number of milliseconds >= 0, got Infinity');
    assert.equal(durationMs('retry', 'maxRetryTimeMs', Infinity, { infinity: true }), Infinity);
    throwsWith(() => durationMs('x', 'webhooks.attemptTimeoutMs', 0, { exclusiveMin: true }), RangeError, 'x: options.webhooks.attemptTimeoutMs must be a number of milliseconds > 0, got 0');
    throwsWith(() => durationMs('x', 'a', NaN), TypeError, 'x: options.a must be a number of milliseconds >= 0, got NaN');
    assert.equal(durationMs('RateLimiter', 'burstWindowMs', 60_000, { max: 60_000 }), 60_000);
    throwsWith(() => durationMs('RateLimiter', 'burstWindowMs', 60_001, { max: 60_000 }), RangeError, 'RateLimiter: options.burstWindowMs must be a number of milliseconds >= 0 and <= 60000, got 60001');
  });

  test('count: whole numbers in range', () => {
    assert.equal(count('retry', 'retries', 3), 3);
    assert.equal(count('retry', 'retries', undefined, { default: 2 }), 2);
    throwsWith(() => count('retry', 'retries', 1.5), RangeError, 'retry: options.retries must be an integer from 0 to Number.MAX_SAFE_INTEGER, got 1.5');
    throwsWith(() => count('m', 'concurrency', 0, { min: 1, max: 10 }), RangeError, 'm: options.concurrency must be an integer from 1 to 10, got 0');
    assert.equal(count('m', 'n', Infinity, { infinity: true }), Infinity);
  });

  test('fraction, finite, oneOf', () => {
    assert.equal(fraction('RateLimiter', 'spread', undefined, { default: 0.1 }), 0.1);
    throwsWith(() => fraction('RateLimiter', 'spread', 2, { default: 0 }), RangeError, 'RateLimiter: options.spread must be a number in [0, 1], got 2');
    throwsWith(() => fraction('r', 'share', 0, { default: 1, exclusiveMin: true }), RangeError, 'r: options.share must be a number in (0, 1], got 0');
    throwsWith(() => finite('b', 'factor', 0.5, { min: 1 }), RangeError, 'b: options.factor must be a finite number >= 1, got 0.5');
    assert.equal(oneOf('createFetch', 'failure', undefined, ['throw', 'return'] as const, 'return'), 'return');
    throwsWith(() => oneOf('createFetch', 'failure', 'response', ['throw', 'return'] as const, 'return'), RangeError, 'createFetch: options.failure must be one of "throw", "return", got "response"');
    throwsWith(() => oneOf('createFetch', 'failure', true, ['throw', 'return'] as const, 'return'), TypeError, 'createFetch: options.failure must be one of "throw", "return", got true');
  });

  test('fn, signal, nonEmptyString (a secret is never shown), moment, positional names', () => {
    throwsWith(() => fn('retry', 'onRetry', 'x'), TypeError, 'retry: options.onRetry must be a function, got "x"');
    throwsWith(() => signal('retry', 'signal', {}), TypeError, 'retry: options.signal must be an AbortSignal, got an object');
    const secret = ['wh', 'sec', '_', 'x'.repeat(8)].join('');
    assert.throws(() => nonEmptyString('verifyWebhook', 'secret', 12, { secret: true }), (e: Error) => !e.message.includes('12') && /options\.secret must be a non-empty string, got a number \(not shown\)/.test(e.message));
    assert.throws(() => nonEmptyString('verifyWebhook', 'secret', '', { secret: true }), /got a string \(not shown\)/);
    // An array or object of secrets is only ever named by its type ("an array", never "a object").
    throwsWith(() => {
      throw misuse('type', 'verifyWebhook', 'secrets', 'a non-empty array', [secret], { secret: true });
    }, TypeError, 'verifyWebhook: options.secrets must be a non-empty array, got an array');
    assert.doesNotThrow(() => nonEmptyString('verifyWebhook', 'secret', secret, { secret: true }));
    assert.equal(moment('signWebhook', 'sentAt', new Date(5)), 5);
    throwsWith(() => moment('signWebhook', 'sentAt', new Date(NaN)), RangeError, 'signWebhook: options.sentAt must be epoch milliseconds or a valid Date, got "Invalid Date"');
    throwsWith(() => moment('signWebhook', 'sentAt', NaN), TypeError, 'signWebhook: options.sentAt must be epoch milliseconds or a valid Date, got NaN');
    throwsWith(() => moment('signWebhook', 'sentAt', Infinity), RangeError, 'signWebhook: options.sentAt must be epoch milliseconds or a valid Date, got Infinity');
    throwsWith(() => nonEmptyString('waitForBatch', '#id', ''), TypeError, 'waitForBatch: id must be a non-empty string, got ""');
  });

  test('clock: the system clock by default; a partial clock names the missing member; sleep resolves on abort', async () => {
    const c = clock('retry', undefined);
    assert.equal(typeof c.now(), 'number');
    throwsWith(() => clock('retry', { now: () => 0 }), TypeError, 'retry: options.clock.sleep must be a function (ms, signal) => Promise<void>, got undefined');
    throwsWith(() => clock('retry', 5), TypeError, 'retry: options.clock must be a Clock ({ now(), sleep(ms, signal) }), got 5');
    const never = clock('retry', { now: () => 0, sleep: () => new Promise<void>(() => {}) });
    const ac = new AbortController();
    const p = never.sleep(1000, ac.signal);
    ac.abort();
    await p; // resolves, does not hang or reject
  });
});
