/**
 * The shared budget fed absurd `x-ratelimit-*` and `retry-after` values by an independent loopback server
 * (node:http, written here): every request still completes, every number the budget keeps in Redis stays
 * a finite decimal, and the next turn is never frozen in the far future. What went wrong is counted: no
 * request lost, none sent twice, no NaN or Infinity in the shared state.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { redisBudget } from '../../src/redis/index.ts';
import { createFetch } from '../../src/retry/fetch.ts';
import { anyRedis, redisSkip, uniqueKey } from './harness.ts';

/** Header sets no real server sends, each answered once (in order, then the list repeats). */
const HOSTILE: ReadonlyArray<Record<string, string>> = [
  { 'x-ratelimit-limit-requests': '1e308', 'x-ratelimit-remaining-requests': '-5', 'x-ratelimit-reset-requests': '99999999h' },
  { 'x-ratelimit-limit-tokens': 'NaN', 'x-ratelimit-remaining-tokens': 'Infinity', 'x-ratelimit-reset-tokens': '-1s' },
  { 'x-ratelimit-limit-requests': '0', 'x-ratelimit-limit-tokens': '0', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-remaining-tokens': '0' },
  { 'x-ratelimit-limit-tokens': '1'.repeat(400), 'x-ratelimit-remaining-tokens': '9'.repeat(400), 'x-ratelimit-reset-tokens': '1e400ms' },
  { 'x-ratelimit-limit-requests': 'ten', 'x-ratelimit-remaining-requests': '', 'x-ratelimit-reset-requests': '0x10', 'x-ratelimit-limit-tokens': '  ' },
  { 'x-ratelimit-limit-requests': '0.001', 'x-ratelimit-limit-tokens': '1', 'x-ratelimit-reset-tokens': '6m0s', 'x-ratelimit-remaining-tokens': '1' },
  { 'x-ratelimit-limit-requests': '600', 'x-ratelimit-remaining-requests': '600000', 'x-ratelimit-reset-requests': '1ms1ms1ms' },
];

describe('redisBudget fed absurd rate-limit headers (independent loopback server)', { skip: redisSkip(), timeout: 60_000 }, () => {
  let redis: { url: string; stop: () => Promise<void> };
  before(async () => {
    redis = await anyRedis();
  });
  after(async () => {
    await redis.stop();
  });

  test('every request completes once, the shared state stays finite, and the next turn is near', async () => {
    const received: string[] = [];
    let n = 0;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        const i = n++;
        received.push((JSON.parse(body) as { metadata: { id: string } }).metadata.id);
        const headers = HOSTILE[i % HOSTILE.length]!;
        // Every fifth answer is a 429 asking for an absurd pause, once per request id.
        if (i % 5 === 4) {
          const text = JSON.stringify({ error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } });
          res.writeHead(429, { 'content-type': 'application/json', 'retry-after-ms': '1e15', 'retry-after': '99999999999', ...headers });
          res.end(text);
          return;
        }
        const text = JSON.stringify({ id: `chatcmpl-${i}`, object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: -7, completion_tokens: 1e308, total_tokens: Number.MAX_VALUE } });
        res.writeHead(200, { 'content-type': 'application/json', ...headers });
        res.end(text);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
    const key = uniqueKey('hostile');
    const budget = redisBudget({ url: redis.url, key, rpm: 6000, tpm: 1_000_000, commandTimeoutMs: 2000, onFallback: () => {} });
    const raw = new Redis(redis.url);
    const fetch = createFetch({ budget, retries: 2, maxRetryAfterMs: 50, maxRetryTimeMs: 20_000 });
    try {
      const ids = Array.from({ length: 21 }, (_, i) => `req-${i}`);
      const results = await Promise.all(
        ids.map(async (id) => {
          const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 16, metadata: { id } }) });
          await r.arrayBuffer();
          return r.status;
        }),
      );
      // A 429 whose retry-after is beyond maxRetryAfterMs ends its request at once (documented), so every
      // request is sent exactly once; its pause on everyone else is capped, so all the others finish.
      const sent429 = received.filter((_, i) => i % 5 === 4).length;
      const perId = new Map<string, number>();
      for (const id of received) perId.set(id, (perId.get(id) ?? 0) + 1);
      const lost = ids.filter((id) => !perId.has(id)).length;
      const duplicated = [...perId.values()].filter((c) => c > 1).length;
      assert.deepEqual({ lost, duplicated }, { lost: 0, duplicated: 0 });
      assert.equal(results.filter((s) => s === 429).length, sent429, `statuses ${results.join(',')}`);
      assert.equal(results.filter((s) => s === 200).length, ids.length - sent429);

      // Every number in the shared state is a finite decimal.
      const keys = await raw.keys(`faultline:budget:${key}:*`);
      assert.ok(keys.length > 0, 'the budget kept state in Redis');
      for (const k of keys) {
        const type = await raw.type(k);
        if (type !== 'hash') continue;
        for (const [field, value] of Object.entries(await raw.hgetall(k))) {
          assert.ok(Number.isFinite(Number(value)), `${k} ${field} = ${value}`);
        }
      }
      // The next turn is not frozen in the far future by what the server said.
      const d = await budget.acquire('gpt-4o-mini', 10);
      const waitMs = d.kind === 'grant' ? d.sendAt - Date.now() : d.kind === 'wait' ? d.retryAt - Date.now() : Infinity;
      assert.ok(waitMs < 60_000, `next turn in ${Math.round(waitMs)} ms: ${JSON.stringify(d)}`);
      if (d.kind === 'grant') await budget.release(d.grant);
    } finally {
      await budget.close();
      raw.disconnect();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
