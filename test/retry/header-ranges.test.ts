/**
 * Rate-limit headers out of range are ignored like junk (issue 10): obeying `limit-requests: 0.001`
 * or `limit-tokens: 1` would freeze the model for hours.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import type { HeaderSource } from '../../src/index.ts';
import { createFetch, readRateLimitHeaders } from '../../src/retry/index.ts';
import { HEADER_RANGES } from '../../src/retry/headers.ts';
import { apiError, json, scriptedFetch, type Step } from './helpers.ts';
import { createManualClock } from '../../src/mock/index.ts';

const URL_ = 'https://api.openai.com/v1/responses';
const BODY = JSON.stringify({ model: 'gpt-4o-mini', input: 'hi', max_output_tokens: 16 });
const read = (h: Record<string, string>) => readRateLimitHeaders(new Headers(h));
const okWith = (h: Record<string, string>) => json(200, { id: 'resp_1', object: 'response', status: 'completed', output: [] }, h);

describe('readRateLimitHeaders: accepted ranges', () => {
  test('a limit outside its range drops the reading; remaining or reset outside theirs drop alone', () => {
    const { limitRequests, limitTokens, resetMs } = HEADER_RANGES;
    assert.deepEqual([limitRequests.min, limitTokens.min, resetMs.max], [1, 1000, 86_400_000]);
    assert.equal(read({ 'x-ratelimit-limit-requests': '0.001' }), undefined);
    assert.equal(read({ 'x-ratelimit-limit-requests': '1e12' }), undefined);
    assert.equal(read({ 'x-ratelimit-limit-tokens': '1' }), undefined);
    assert.equal(read({ 'x-ratelimit-limit-tokens': '999' }), undefined);
    assert.deepEqual(read({ 'x-ratelimit-limit-tokens': '1000' }), { tokens: { limit: 1000 } });
    assert.deepEqual(read({ 'x-ratelimit-limit-requests': '1', 'x-ratelimit-remaining-requests': '2' }), { requests: { limit: 1 } });
    assert.deepEqual(read({ 'x-ratelimit-limit-requests': '60', 'x-ratelimit-reset-requests': '99999999h' }), { requests: { limit: 60 } });
    assert.deepEqual(read({ 'x-ratelimit-limit-requests': '60', 'x-ratelimit-reset-requests': '24h' }), { requests: { limit: 60, resetMs: 86_400_000 } });
    assert.deepEqual(read({ 'x-ratelimit-limit-requests': '60', 'x-ratelimit-reset-requests': '24h0m0.001s' }), { requests: { limit: 60 } });
  });
});

test('readRateLimitHeaders takes any HeaderSource (exported from the root, so a caller can name it)', () => {
  const plain: HeaderSource = { get: (name) => ({ 'x-ratelimit-limit-requests': '60', 'x-ratelimit-reset-requests': '1s' })[name] ?? null };
  assert.deepEqual(readRateLimitHeaders(plain), { requests: { limit: 60, resetMs: 1000 } });
});

describe('createFetch is not frozen by absurd limits', () => {
  for (const [what, h] of [
    ['limit-requests: 0.001', { 'x-ratelimit-limit-requests': '0.001', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1s' }],
    ['limit-tokens: 1', { 'x-ratelimit-limit-tokens': '1', 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '1s' }],
    ['reset-requests: 99999999h', { 'x-ratelimit-limit-requests': '600', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '99999999h' }],
  ] as const) {
    test(`${what}: five requests in a row finish within seconds of simulated time`, async () => {
      const clock = createManualClock({ start: 0, autoAdvance: true });
      const script = scriptedFetch([okWith(h)]);
      const f = createFetch({ fetch: script.fetch, clock, random: () => 0.5 });
      for (let i = 0; i < 5; i++) assert.equal((await f(URL_, { method: 'POST', body: BODY })).status, 200);
      assert.ok(clock.now() < 10_000, `took ${clock.now()} ms of simulated time`);
    });
  }

  test('against an independent loopback server sending limit-requests: 0.001 and limit-tokens: 1, five requests are not frozen', async () => {
    let seen = 0;
    const server = createServer((req, res) => {
      seen++;
      req.resume();
      req.on('end', () => {
        res.writeHead(200, {
          'content-type': 'application/json',
          'x-ratelimit-limit-requests': '0.001',
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': '1s',
          'x-ratelimit-limit-tokens': '1',
          'x-ratelimit-remaining-tokens': '0',
          'x-ratelimit-reset-tokens': '1s',
        });
        res.end(JSON.stringify({ id: 'resp_1', object: 'response', status: 'completed', output: [] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/responses`;
    try {
      const clock = createManualClock({ start: 0, autoAdvance: true });
      const f = createFetch({ clock, random: () => 0.5 });
      for (let i = 0; i < 5; i++) {
        const res = await f(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, signal: AbortSignal.timeout(10_000) });
        assert.equal(res.status, 200);
        await res.text();
      }
      assert.equal(seen, 5);
      assert.ok(clock.now() < 10_000, `took ${clock.now()} ms of simulated time`);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('a 429 whose reset says 99999999h pauses for its retry-after, not for eleven thousand years', async () => {
    const clock = createManualClock({ start: 0, autoAdvance: true });
    const steps: Step[] = [apiError(429, 'rate_limit_exceeded', 'requests', 'Rate limit reached', { 'retry-after-ms': '100', 'x-ratelimit-limit-requests': '600', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '99999999h' }), okWith({})];
    const script = scriptedFetch(steps);
    const f = createFetch({ fetch: script.fetch, clock, random: () => 0.5 });
    assert.equal((await f(URL_, { method: 'POST', body: BODY })).status, 200);
    assert.equal((await f(URL_, { method: 'POST', body: BODY })).status, 200);
    assert.ok(clock.now() < 10_000, `took ${clock.now()} ms of simulated time`);
  });
});
