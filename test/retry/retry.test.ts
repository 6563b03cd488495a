import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, QuotaExceededError, BadRequestError } from '../../src/index.ts';
import { constantBackoff, isRetryableFailure, retry, RetryError, type RetryInfo } from '../../src/retry/index.ts';
import { createManualClock } from '../../src/mock/index.ts';

function httpError(status: number, code: string | null, type = 'server_error', headers: Record<string, string> = {}) {
  // The shape of an SDK APIError (read by shape by classify()).
  return Object.assign(new Error(`${status} failure`), { status, headers: new Headers(headers), error: { message: 'failure', type, code, param: null } });
}

/** A clock whose `sleep` records each wait and moves time at once. */
function instant() {
  let t = 0;
  const waits: number[] = [];
  return { now: () => t, sleep: async (ms: number) => void (waits.push(ms), (t += ms)), waits };
}

describe('retry policy by catalog code', () => {
  test('retries what can succeed, never what cannot, and honours x-should-retry', () => {
    const codes = (status: number, code: string | null, type: string, h: Record<string, string> = {}) => isRetryableFailure(classify(httpError(status, code, type, h)));
    assert.equal(codes(429, 'rate_limit_exceeded', 'requests'), true);
    assert.equal(codes(503, null, 'server_error'), true);
    assert.equal(codes(500, null, 'server_error'), true);
    assert.equal(codes(409, null, 'conflict_error'), true);
    assert.equal(codes(429, 'insufficient_quota', 'insufficient_quota'), false);
    assert.equal(codes(401, 'invalid_api_key', 'invalid_request_error'), false);
    assert.equal(codes(403, null, 'permission_error'), false);
    assert.equal(codes(400, 'context_length_exceeded', 'invalid_request_error'), false);
    assert.equal(codes(400, 'content_policy_violation', 'invalid_request_error'), false);
    assert.equal(codes(400, null, 'invalid_request_error'), false);
    assert.equal(codes(500, null, 'server_error', { 'x-should-retry': 'false' }), false);
    // `true` allows a retry outside both lists, but never of a code that cannot succeed.
    assert.equal(isRetryableFailure({ ...classify('something odd'), shouldRetryHeader: true }), true);
    assert.equal(codes(429, 'insufficient_quota', 'insufficient_quota', { 'x-should-retry': 'true' }), false);
    assert.equal(isRetryableFailure(classify(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))), true);
  });
});

describe('retry()', () => {
  test('retries 5xx with full-jitter backoff, then returns the value', async () => {
    const c = instant();
    const infos: RetryInfo[] = [];
    let n = 0;
    const out = await retry(
      async ({ attempt }) => {
        n++;
        if (attempt < 3) throw httpError(attempt === 1 ? 500 : 503, null);
        return 'ok';
      },
      { clock: c, random: () => 0.5, onRetry: (i) => infos.push(i) },
    );
    assert.equal(out, 'ok');
    assert.equal(n, 3);
    assert.deepEqual(c.waits, [250, 500]); // half of 500 and of 1000
    assert.deepEqual(infos.map((i) => [i.attempt, i.failure.code, i.delayMs]), [[1, 'server_error', 250], [2, 'overloaded', 500]]);
  });

  test('a non-retryable failure throws its typed error after one attempt', async () => {
    const c = instant();
    let n = 0;
    const quota = httpError(429, 'insufficient_quota', 'insufficient_quota');
    await assert.rejects(
      retry(async () => {
        n++;
        throw quota;
      }, { clock: c }),
      (e: unknown) => e instanceof QuotaExceededError && QuotaExceededError.isInstance(e) && (e as Error).cause === quota,
    );
    assert.equal(n, 1);
    assert.deepEqual(c.waits, []);
    await assert.rejects(retry(async () => Promise.reject(httpError(400, null, 'invalid_request_error')), { clock: c }), BadRequestError);
  });

  test('giving up throws a RetryError with every attempt and the last cause', async () => {
    const c = instant();
    const errs = [httpError(500, null), Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), httpError(503, null)];
    let i = 0;
    const err = await retry(async () => Promise.reject(errs[i++]), { clock: c, retries: 2, backoff: constantBackoff(10) }).catch((e: unknown) => e);
    assert.ok(err instanceof RetryError);
    assert.ok(RetryError.isInstance(err));
    assert.equal(err.reason, 'retries_exhausted');
    assert.deepEqual(err.attempts.map((f) => f.code), ['server_error', 'connection_error', 'overloaded']);
    assert.equal(err.code, 'overloaded');
    assert.equal(err.cause, errs[2]);
    assert.equal(err.name, 'RetryError');
    assert.match(JSON.stringify(err), /"reason":"retries_exhausted"/);
    // classify() reads the last code off a RetryError.
    assert.equal(classify(err).code, 'overloaded');
  });

  test('a server-requested wait is honoured (with spread above it), a too-long one ends retrying', async () => {
    const c = instant();
    let n = 0;
    await retry(
      async () => {
        if (n++ === 0) throw httpError(429, 'rate_limit_exceeded', 'requests', { 'retry-after-ms': '1200' });
        return 1;
      },
      { clock: c, random: () => 0.5 },
    );
    assert.deepEqual(c.waits, [1260]); // 1200 + 0.5 × 10 %
    const long = await retry(async () => Promise.reject(httpError(429, 'rate_limit_exceeded', 'tokens', { 'retry-after': '3600' })), { clock: c }).catch((e: unknown) => e);
    assert.ok(long instanceof RetryError);
    assert.equal(long.reason, 'retry_time_exhausted');
    assert.equal(long.attempts.length, 1);
  });

  test('the total retry budget stops before a wait that would end after it', async () => {
    const c = instant();
    const err = await retry(async () => Promise.reject(httpError(500, null)), { clock: c, backoff: constantBackoff(400), maxRetryTimeMs: 1000 }).catch((e: unknown) => e);
    assert.ok(err instanceof RetryError);
    assert.equal(err.reason, 'retry_time_exhausted');
    assert.deepEqual(c.waits, [400, 400]);
  });

  test('x-should-retry: false stops; shouldRetry can veto', async () => {
    const c = instant();
    let n = 0;
    await assert.rejects(
      retry(async () => {
        n++;
        throw httpError(500, null, 'server_error', { 'x-should-retry': 'false' });
      }, { clock: c }),
      { name: 'InternalServerError' },
    );
    assert.equal(n, 1);
    n = 0;
    await assert.rejects(
      retry(
        async () => {
          n++;
          throw httpError(500, null);
        },
        { clock: c, shouldRetry: (_f, attempt) => attempt < 2 },
      ),
      { name: 'InternalServerError' },
    );
    assert.equal(n, 2);
  });

  test('a failure after markDelivered() is not retried (the caller already has output)', async () => {
    const c = instant();
    let n = 0;
    await assert.rejects(
      retry(async ({ markDelivered }) => {
        n++;
        markDelivered();
        throw Object.assign(new Error('terminated'), { name: 'TypeError' });
      }, { clock: c }),
      { name: 'ConnectionError' },
    );
    assert.equal(n, 1);
  });

  test('the per-attempt timeout aborts the attempt and counts as a retryable timeout', async () => {
    const clock = createManualClock({ autoAdvance: true });
    const seen: string[] = [];
    const out = await retry(
      ({ signal, attempt }) =>
        new Promise<string>((resolve, reject) => {
          if (attempt === 2) return resolve('second');
          signal.addEventListener('abort', () => {
            seen.push(String((signal.reason as Error).name));
            reject(signal.reason);
          });
        }),
      { clock, attemptTimeoutMs: 5000, backoff: constantBackoff(1) },
    );
    assert.equal(out, 'second');
    assert.deepEqual(seen, ['TimeoutError']);
    assert.equal(clock.pending, 0, 'no timer left behind');
  });

  test('an abort during a backoff wait rejects at once, with the reason, and leaves no sleeper', async () => {
    const clock = createManualClock({ autoAdvance: true });
    const ac = new AbortController();
    let n = 0;
    const p = retry(
      async () => {
        n++;
        throw httpError(500, null);
      },
      { clock, signal: ac.signal, backoff: constantBackoff(60_000) },
    );
    // Let the first attempt fail and the wait begin, then abort.
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
    assert.equal(clock.pending, 1);
    const reason = new Error('stop');
    ac.abort(reason);
    await assert.rejects(p, (e) => e === reason);
    assert.equal(n, 1);
    assert.equal(clock.pending, 0);
  });

  test('an abort during an attempt that ignores its signal still rejects at once', async () => {
    const ac = new AbortController();
    const p = retry(() => new Promise<never>(() => undefined), { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, { name: 'AbortError' });
  });

  test('misuse names the option', () => {
    const fn = async () => 1;
    assert.throws(() => retry(fn, { retries: -1 }), { name: 'RangeError', message: /options\.retries/ });
    assert.throws(() => retry(fn, { retries: 1.5 }), { name: 'RangeError', message: /options\.retries/ });
    assert.throws(() => retry(fn, { retries: '3' as never }), { name: 'TypeError', message: /options\.retries/ });
    assert.throws(() => retry(fn, { maxRetryTimeMs: -5 }), { name: 'RangeError', message: 'retry: options.maxRetryTimeMs must be a number of milliseconds >= 0 (or Infinity), got -5' });
    assert.throws(() => retry(fn, { attemptTimeoutMs: 0 }), { name: 'RangeError', message: 'retry: options.attemptTimeoutMs must be a number of milliseconds > 0 (or Infinity), got 0' });
    assert.throws(() => retry(fn, { onRetry: 'log' as never }), { name: 'TypeError', message: /onRetry/ });
    assert.throws(() => retry(fn, { signal: {} as never }), { name: 'TypeError', message: /signal/ });
    assert.throws(() => retry(fn, { clock: { now: () => 0, sleep: 5 } as never }), { name: 'TypeError', message: /options\.clock\.sleep must be a function/ });
    assert.throws(() => retry(fn, { backoff: {} as never }), { name: 'TypeError', message: /backoff/ });
    assert.throws(() => retry('x' as never), { name: 'TypeError', message: 'retry: fn must be a function, got "x"' });
  });

  test('each key renamed in 0.2.0 throws at once, naming the new key', () => {
    const fn = async () => 1;
    for (const [old, now] of [
      ['timeout', 'attemptTimeoutMs'],
      ['maxRetryTime', 'maxRetryTimeMs'],
      ['maxRetryAfter', 'maxRetryAfterMs'],
      ['now', 'clock'],
      ['sleep', 'clock'],
    ] as const) {
      assert.throws(() => retry(fn, { [old]: 1 } as never), { name: 'TypeError', message: `retry: options.${old} was renamed to options.${now} (0.2.0)` });
    }
  });
});
