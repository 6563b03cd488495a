import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { QuotaExceededError, RateLimitError } from '../../src/index.ts';
import { createFetch, exponentialBackoff, RetryError, RateLimiter, type RetryInfo } from '../../src/retry/index.ts';
import { apiError, json, OK, reset, scriptedFetch, type Step } from './helpers.ts';
import { createManualClock } from '../../src/mock/index.ts';

const URL_ = 'https://api.openai.com/v1/responses';
const BODY = JSON.stringify({ model: 'gpt-4o-mini', input: 'hi', max_output_tokens: 16 });
const post = (f: ReturnType<typeof createFetch>, init: RequestInit = {}) =>
  f(URL_, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, ...init });

function setup(steps: readonly Step[], options: Parameters<typeof createFetch>[0] = {}) {
  const clock = createManualClock({ autoAdvance: true });
  const script = scriptedFetch(steps);
  const retries: RetryInfo[] = [];
  const f = createFetch({ fetch: script.fetch, clock, random: () => 0.5, onRetry: (i) => retries.push(i), ...options });
  return { f, clock, script, retries };
}

/** A 200 whose body is cut after a few bytes. */
function cutBody(): Response {
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode('{"id":"resp_'));
      c.error(new TypeError('terminated'));
    },
  });
  return new Response(stream, { status: 200, headers: { 'content-type': 'application/json' } });
}

describe('createFetch with a scripted fetch', () => {
  test('retries 500 and 503 then returns the 200, re-sending the same body', async () => {
    const s = setup([apiError(500, null, 'server_error'), apiError(503, null, 'server_error'), OK]);
    const res = await post(s.f);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).id, 'resp_1');
    assert.equal(s.script.calls.length, 3);
    assert.ok(s.script.calls.every((c) => c.body === BODY));
    assert.deepEqual(s.retries.map((r) => [r.failure.code, r.delayMs]), [['server_error', 250], ['overloaded', 500]]);
  });

  test('insufficient_quota: one attempt, the 429 Response is returned for the SDK to raise', async () => {
    const s = setup([apiError(429, 'insufficient_quota', 'insufficient_quota', 'You exceeded your current quota')]);
    const res = await post(s.f);
    assert.equal(res.status, 429);
    assert.equal((await res.json()).error.code, 'insufficient_quota');
    assert.equal(s.script.calls.length, 1);
  });

  test("failure: 'throw' throws the typed error (one attempt) or a RetryError (every attempt)", async () => {
    const q = setup([apiError(429, 'insufficient_quota', 'insufficient_quota')], { failure: 'throw' });
    const err = await post(q.f).catch((e: unknown) => e);
    assert.ok(err instanceof QuotaExceededError);
    assert.ok((err as QuotaExceededError).cause instanceof Response);
    assert.equal(q.script.calls.length, 1);

    const r = setup([apiError(429, 'rate_limit_exceeded', 'requests', 'slow down', { 'retry-after-ms': '10' })], { failure: 'throw', retries: 2, pacing: false });
    const gaveUp = await post(r.f).catch((e: unknown) => e);
    assert.ok(gaveUp instanceof RetryError);
    assert.deepEqual(gaveUp.attempts.map((f) => f.code), ['rate_limit_exceeded', 'rate_limit_exceeded', 'rate_limit_exceeded']);
    assert.ok((gaveUp.cause as Response).status === 429);
    assert.equal(r.script.calls.length, 3);
  });

  test("giving up in 'response' mode returns the last failed Response", async () => {
    const s = setup([apiError(500, null, 'server_error')], { retries: 2 });
    const res = await post(s.f);
    assert.equal(res.status, 500);
    assert.equal(s.script.calls.length, 3);
  });

  test('connection resets, before headers or mid-body, are retried for a non-streaming request', async () => {
    const s = setup([reset(), cutBody, OK]);
    const res = await post(s.f);
    assert.equal(res.status, 200);
    assert.equal(s.script.calls.length, 3);
    assert.deepEqual(s.retries.map((r) => r.failure.code), ['connection_error', 'connection_error']);
  });

  test('transport failures that exhaust the retries throw a RetryError with the last cause', async () => {
    const s = setup([reset()], { retries: 1 });
    const err = await post(s.f).catch((e: unknown) => e);
    assert.ok(err instanceof RetryError);
    assert.equal(err.code, 'connection_error');
    assert.equal((err.cause as Error).message, 'fetch failed');
  });

  test('a streaming answer is handed over at once and never sent again, even if it breaks', async () => {
    const stream = () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode('event: response.created\ndata: {}\n\n'));
            c.error(new TypeError('terminated'));
          },
        }),
        { status: 200, headers: { 'content-type': 'text/event-stream' } },
      );
    const s = setup([stream, OK]);
    const res = await post(s.f, { body: JSON.stringify({ model: 'gpt-4o-mini', input: 'hi', stream: true }) });
    await assert.rejects(res.text(), /terminated/);
    assert.equal(s.script.calls.length, 1);
  });

  test('a streaming request that fails before its first byte is retried', async () => {
    const s = setup([apiError(502, null, 'server_error'), OK]);
    const res = await post(s.f, { body: JSON.stringify({ model: 'gpt-4o-mini', input: 'hi', stream: true }) });
    assert.equal(res.status, 200);
    assert.equal(s.script.calls.length, 2);
  });

  test('an abort during a backoff rejects at once and leaves no sleeper', async () => {
    const s = setup([apiError(500, null, 'server_error')], { backoff: exponentialBackoff({ initialDelayMs: 60_000 }) });
    const ac = new AbortController();
    const p = post(s.f, { signal: ac.signal });
    for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
    assert.equal(s.script.calls.length, 1);
    ac.abort();
    await assert.rejects(p, { name: 'AbortError' });
    assert.equal(s.clock.pending, 0);
    assert.equal(s.script.calls.length, 1);
  });

  test('the global signal option aborts requests too', async () => {
    const ac = new AbortController();
    ac.abort(new Error('shutting down'));
    const s = setup([OK], { signal: ac.signal });
    await assert.rejects(post(s.f), /shutting down/);
    assert.equal(s.script.calls.length, 0);
  });

  test('a 429 with retry-after-ms pauses every request of the model, then they are paced', async () => {
    const clock = createManualClock({ start: 0, autoAdvance: true });
    const limiter = new RateLimiter({ rpm: 600, burstWindowMs: 1000, clock, random: () => 0 });
    const sent: number[] = [];
    let first = true;
    const fetch = async (): Promise<Response> => {
      sent.push(clock.now());
      if (first) {
        first = false;
        return apiError(429, 'rate_limit_exceeded', 'requests', 'Rate limit reached', { 'retry-after-ms': '2000' })();
      }
      return OK();
    };
    const f = createFetch({ fetch, clock, random: () => 0, limiter: () => limiter });
    const first429 = post(f);
    for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
    const others = Array.from({ length: 3 }, () => post(f));
    const all = await Promise.all([first429, ...others]);
    assert.deepEqual(all.map((r) => r.status), [200, 200, 200, 200]);
    assert.equal(sent[0], 0);
    assert.ok(sent.slice(1).every((t) => t >= 2000), `sent at ${sent.join(', ')}`);
  });

  test('rate-limit 429s answered while pacing spend retries like any failure (at most retries + 1 attempts)', async () => {
    const steps: Step[] = [
      ...Array.from({ length: 5 }, () => apiError(429, 'rate_limit_exceeded', 'requests', 'Rate limit reached', { 'retry-after-ms': '5' })),
      OK,
    ];
    for (const pacing of [true, false]) {
      const s = setup(steps, { retries: 2, pacing });
      assert.equal((await post(s.f)).status, 429);
      assert.equal(s.script.calls.length, 3);
    }
  });

  test('timeout counts from the send, not from the wait for a turn; a slow send is retried as a timeout', async () => {
    const clock = createManualClock({ start: 0, autoAdvance: true });
    let calls = 0;
    const fetch = (_i: unknown, init?: RequestInit) =>
      new Promise<Response>((resolve, reject) => {
        if (++calls === 1) init?.signal?.addEventListener('abort', () => reject(init.signal!.reason));
        else resolve(OK());
      });
    const limiter = new RateLimiter({ rpm: 1, burstWindowMs: 0, clock });
    limiter.acquire(); // the bucket is busy for the next 60 s
    const retries: string[] = [];
    const res = await createFetch({ fetch, clock, limiter, attemptTimeoutMs: 5000, random: () => 0, onRetry: (i) => retries.push(i.failure.code) })(URL_, { method: 'POST', body: BODY });
    assert.equal(res.status, 200);
    assert.deepEqual(retries, ['timeout']);
    assert.ok(clock.now() >= 60_000, 'waited for its turn without timing out');
  });

  test("the caller's signal still cancels a streaming body after the fetch returned", async () => {
    let seen: AbortSignal | undefined;
    const fetch = async (_i: unknown, init?: RequestInit) => {
      seen = init?.signal ?? undefined;
      return new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('data: {}\n\n')) }), { status: 200, headers: { 'content-type': 'text/event-stream' } });
    };
    const ac = new AbortController();
    const f = createFetch({ fetch, pacing: false });
    await f(URL_, { method: 'POST', body: JSON.stringify({ model: 'm', input: 'x', stream: true }), signal: ac.signal });
    assert.equal(seen?.aborted, false);
    ac.abort();
    assert.equal(seen?.aborted, true);
  });

  test('requests that are not paced: GET, no model, non-JSON bodies', async () => {
    const s = setup([OK]);
    assert.equal((await s.f('https://api.openai.com/v1/models')).status, 200);
    assert.equal((await s.f(URL_, { method: 'POST', body: 'not json' })).status, 200);
  });

  test('a Request object is cloned for each attempt', async () => {
    const s = setup([apiError(500, null, 'server_error'), OK]);
    const res = await s.f(new Request(URL_, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json' } }));
    assert.equal(res.status, 200);
    assert.equal(s.script.calls.length, 2);
  });

  test('a ReadableStream request body is sent once (it cannot be re-read)', async () => {
    const s = setup([apiError(500, null, 'server_error'), OK]);
    const body = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(BODY)), c.close()) });
    const res = await s.f(URL_, { method: 'POST', body, duplex: 'half' } as RequestInit);
    assert.equal(res.status, 500);
    assert.equal(s.script.calls.length, 1);
  });

  test('a 429 rate limit still surfaces as RateLimitError through toError-compatible Responses', async () => {
    const s = setup([apiError(429, 'rate_limit_exceeded', 'tokens', 'Rate limit reached')], { retries: 0, pacing: false, failure: 'throw' });
    await assert.rejects(post(s.f), RetryError);
    const t = setup([apiError(429, 'rate_limit_exceeded', 'tokens', 'Rate limit reached', { 'x-should-retry': 'false' })], { pacing: false, failure: 'throw' });
    await assert.rejects(post(t.f), RateLimitError);
  });

  test('misuse names the option', () => {
    assert.throws(() => createFetch({ fetch: 'x' as never }), { name: 'TypeError', message: 'createFetch: options.fetch must be a function, got "x"' });
    assert.throws(() => createFetch({ failure: 'ignore' as never }), { name: 'RangeError', message: 'createFetch: options.failure must be one of "throw", "return", got "ignore"' });
    assert.throws(() => createFetch({ pacing: 1 as never }), { name: 'TypeError', message: /options\.pacing/ });
    assert.throws(() => createFetch({ limits: { rpm: -1 } }), { name: 'RangeError', message: /rpm/ });
    assert.throws(() => createFetch({ headroom: 2 }), { name: 'RangeError', message: /headroom/ });
    assert.throws(() => createFetch({ retries: -1 }), { name: 'RangeError', message: /createFetch: options\.retries/ });
    assert.throws(() => createFetch({ expectedOutputTokens: -1 }), { name: 'RangeError', message: /expectedOutputTokens/ });
    assert.throws(() => createFetch({ limiter: {} as never }), { name: 'TypeError', message: /options\.limiter/ });
    assert.throws(() => createFetch({ backoff: { initialDelayMs: 200 } as never }), { name: 'TypeError', message: /^createFetch: options\.backoff must be a Backoff \(for example exponentialBackoff\(\{ initialDelayMs: 200 \}\)\), got an object$/ });
    assert.throws(() => createFetch({ limits: 5 as never }), { name: 'TypeError', message: 'createFetch: options.limits must be an object, got 5' });
    void json;
  });

  test('each key renamed in 0.2.0 throws at once, naming the new key', () => {
    for (const [old, now] of [
      ['errors', "failure (0.2.0; 'response' is now 'return')"],
      ['timeout', 'attemptTimeoutMs (0.2.0)'],
      ['maxRetryTime', 'maxRetryTimeMs (0.2.0)'],
      ['maxRetryAfter', 'maxRetryAfterMs (0.2.0)'],
      ['now', 'clock (0.2.0)'],
      ['sleep', 'clock (0.2.0)'],
    ] as const) {
      assert.throws(() => createFetch({ [old]: 'response' } as never), { name: 'TypeError', message: `createFetch: options.${old} was renamed to options.${now}` });
    }
  });
});
