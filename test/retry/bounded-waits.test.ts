/**
 * Bounded waits in createFetch (issue 10): a server's hint never freezes a model beyond `maxRetryAfter`,
 * every request's total time honours its own `maxRetryTime` (pacing included), and `retries: n` sends
 * at most n + 1 attempts whichever layer waits. Time is virtual (`createManualClock({ autoAdvance: true })`); the loopback server is an
 * independent node:http server written here.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { createFetch, RateLimiter, RetryError } from '../../src/retry/index.ts';
import { apiError, OK, scriptedFetch, type Step } from './helpers.ts';
import { createManualClock } from '../../src/mock/index.ts';

const URL_ = 'https://api.openai.com/v1/responses';
const BODY = JSON.stringify({ model: 'gpt-4o-mini', input: 'hi', max_output_tokens: 16 });
const init = (): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
const rateLimited = (headers: Record<string, string>) => apiError(429, 'rate_limit_exceeded', 'requests', 'Rate limit reached', headers);

function setup(steps: readonly Step[], options: Parameters<typeof createFetch>[0] = {}) {
  const clock = createManualClock({ start: 0, autoAdvance: true });
  const script = scriptedFetch(steps);
  const f = createFetch({ fetch: script.fetch, clock, random: () => 0.5, ...options });
  return { f, clock, script };
}

describe('retries: n means at most n + 1 attempts, paced or not', () => {
  for (const pacing of [true, false]) {
    for (const retries of [0, 1, 2]) {
      test(`pacing ${pacing}, retries ${retries}: a model that always answers 429 gets ${retries + 1} attempt(s)`, async () => {
        const s = setup([rateLimited({ 'retry-after-ms': '5' })], { retries, pacing, failure: 'throw' });
        const e = await s.f(URL_, init()).then(
          () => assert.fail('resolved'),
          (x: unknown) => x,
        );
        assert.ok(e instanceof RetryError, String(e));
        assert.equal(e.reason, 'retries_exhausted');
        assert.equal(e.attempts.length, retries + 1);
        assert.equal(s.script.calls.length, retries + 1);
      });
    }
  }

  test('against a loopback server that always answers 429, the server sees retries + 1 requests', async () => {
    let seen = 0;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      seen++;
      req.resume();
      req.on('end', () => {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after-ms': '20', 'x-ratelimit-limit-requests': '500', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '120ms' });
        res.end(JSON.stringify({ error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/responses`;
    try {
      for (const retries of [0, 1, 3]) {
        seen = 0;
        const clock = createManualClock({ start: 0, autoAdvance: true });
        const f = createFetch({ retries, clock, random: () => 0.5, attemptTimeoutMs: 5000 });
        const res = await f(url, { ...init(), signal: AbortSignal.timeout(10_000) });
        assert.equal(res.status, 429);
        await res.text();
        assert.equal(seen, retries + 1, `retries ${retries}: the server saw ${seen} requests`);
      }
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe("a server's hint is capped for the shared pause, and each request keeps its own maxRetryTime", () => {
  for (const [what, headers] of [
    ['retry-after: 999999', { 'retry-after': '999999' }],
    ['a far-future HTTP date', { 'retry-after': new Date(Date.UTC(2099, 0, 1)).toUTCString() }],
    ['retry-after-ms: 1e12', { 'retry-after-ms': '1000000000000' }],
  ] as const) {
    test(`${what} on one 429 ends that request at once; the next request waits at most maxRetryAfter`, async () => {
      const s = setup([rateLimited(headers), OK], { failure: 'throw' });
      const first = await s.f(URL_, init()).then(
        () => assert.fail('resolved'),
        (x: unknown) => x,
      );
      assert.ok(first instanceof RetryError);
      assert.equal(first.reason, 'retry_time_exhausted');
      assert.equal(s.clock.now(), 0, 'gave up without waiting');
      const res = await s.f(URL_, init());
      assert.equal(res.status, 200);
      assert.ok(s.clock.now() <= 60_000 * 1.1, `the next request waited ${s.clock.now()} ms (maxRetryAfter is 60 s, plus 10 % jitter)`);
      assert.equal(s.clock.pending, 0, 'no sleeper left behind');
    });
  }

  test('against a loopback server: retry-after: 999999 ends that request; the next one is sent within maxRetryAfter', async () => {
    let seen = 0;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const n = ++seen;
      req.resume();
      req.on('end', () => {
        if (n === 1) {
          res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '999999' });
          res.end(JSON.stringify({ error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'resp_1', object: 'response', status: 'completed' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/responses`;
    try {
      const clock = createManualClock({ start: 0, autoAdvance: true });
      const f = createFetch({ clock, random: () => 0.5, failure: 'throw' });
      const first = await f(url, { ...init(), signal: AbortSignal.timeout(10_000) }).then(
        () => assert.fail('resolved'),
        (x: unknown) => x,
      );
      assert.ok(first instanceof RetryError, String(first));
      assert.equal(first.reason, 'retry_time_exhausted');
      assert.equal(clock.now(), 0, 'gave up without waiting');
      const res = await f(url, { ...init(), signal: AbortSignal.timeout(10_000) });
      assert.equal(res.status, 200);
      await res.text();
      assert.ok(clock.now() <= 60_000 * 1.1, `the next request waited ${clock.now()} ms (maxRetryAfter is 60 s, plus 10 % jitter)`);
      assert.equal(seen, 2, 'the server saw one request each');
      assert.equal(clock.pending, 0, 'no sleeper left behind');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('retry-after: 30 with maxRetryTimeMs: 2000 returns the 429 within the budget (it waited 31.5 s before)', async () => {
    for (const pacing of [true, false]) {
      const s = setup([rateLimited({ 'retry-after': '30' }), OK], { maxRetryTimeMs: 2000, pacing });
      const res = await s.f(URL_, init());
      assert.equal(res.status, 429, `pacing ${pacing}`);
      assert.ok(s.clock.now() <= 2000, `pacing ${pacing}: returned after ${s.clock.now()} ms`);
      assert.equal(s.script.calls.length, 1);
    }
  });

  test('a request arriving during a long shared pause gives up at once when its budget ends first', async () => {
    const clock = createManualClock({ start: 0, autoAdvance: true });
    const script = scriptedFetch([rateLimited({ 'retry-after': '50' }), OK, OK]);
    const limiter = new RateLimiter({ clock, random: () => 0.5 });
    const common = { fetch: script.fetch, clock, random: () => 0.5, limiter };
    const patient = createFetch(common);
    const hurried = createFetch({ ...common, maxRetryTimeMs: 2000 });
    const a = patient(URL_, init()); // 429, then waits out the 50 s pause within its 10-minute budget
    while (limiter.state().pausedUntil === 0) await new Promise<void>((r) => setImmediate(r));
    const b = await hurried(URL_, init()).then(
      () => assert.fail('resolved'),
      (x: unknown) => x,
    );
    assert.ok(b instanceof RetryError, String(b));
    assert.equal(b.reason, 'retry_time_exhausted');
    assert.equal(b.code, 'rate_limit_exceeded');
    assert.equal(b.attempts.length, 0, 'nothing was sent for it');
    assert.equal(clock.now(), 0, 'it gave up at once, not after its 2 s');
    assert.equal((await a).status, 200);
    assert.ok(clock.now() >= 50_000 && clock.now() <= 55_000, `the patient request ended after ${clock.now()} ms`);
    assert.equal(script.calls.length, 2);
    assert.equal(clock.pending, 0, 'no sleeper left behind');
  });
});
