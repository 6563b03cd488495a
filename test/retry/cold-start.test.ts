/**
 * The cold start: the first 429 of a run, whose own `x-ratelimit-*` reading shows the bucket the local
 * pacer had not caught up with. The reading moves the bucket to the server's view, so the pace is right
 * from there: the 429 pauses for its `retry-after` but does not also halve the pace (which cost a short
 * run ~10 % of its time while the pace grew back). A 429 with no reading of its own, and every later
 * 429, still cuts it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { RateLimiter, readRateLimitHeaders } from '../../src/retry/index.ts';
import { createFetch } from '../../src/retry/fetch.ts';

/** A reading of an empty requests bucket (1200 RPM, a burst of 5: 250 ms to full). */
const EMPTY: Readonly<Record<string, string>> = { 'x-ratelimit-limit-requests': '1200', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '250ms' };

test('a 429 whose own reading was observed keeps the pace; one without a reading of its own halves it (injected clock)', () => {
  let t = 1_000_000;
  const limiter = new RateLimiter({ clock: { now: () => t, sleep: async () => undefined }, random: () => 0 });
  const probe = limiter.acquire();
  limiter.observe(readRateLimitHeaders(new Headers({ 'x-ratelimit-limit-requests': '1200', 'x-ratelimit-remaining-requests': '4', 'x-ratelimit-reset-requests': '50ms' })), probe);
  const g = limiter.acquire();
  t += 1;
  const reading = readRateLimitHeaders(new Headers(EMPTY));
  limiter.observe(reading, g);
  limiter.onRateLimited(30, g, reading);
  assert.equal(limiter.state().scale, 1);
  // The reading moved the bucket: the next request waits for the server's bucket, and for the pause.
  assert.ok(limiter.when() >= t + 30, `next at +${limiter.when() - t} ms`);
  // Another grant's 429 with the same headers but no reading observed for it: the pace is cut.
  const h = limiter.acquire();
  limiter.onRateLimited(30, h, reading);
  assert.equal(limiter.state().scale, 0.5);
  // Only the first is forgiven: a later 429 with its own reading cuts again.
  t += 1000;
  const k = limiter.acquire();
  limiter.observe(reading, k);
  limiter.onRateLimited(30, k, reading);
  assert.equal(limiter.state().scale, 0.25);
});

test('createFetch against an independent loopback server: the first 429 (with its reading) pauses, is retried, and the pace stays whole', async () => {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      if (n === 2) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after-ms': '20', ...EMPTY });
        res.end(JSON.stringify({ error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-ratelimit-limit-requests': '1200', 'x-ratelimit-remaining-requests': '4', 'x-ratelimit-reset-requests': '50ms' });
      res.end(JSON.stringify({ id: `chatcmpl-${n}`, object: 'chat.completion', choices: [] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/chat/completions`;
  try {
    const limiter = new RateLimiter();
    const f = createFetch({ limiter, retries: 3 });
    const send = (i: number): Promise<Response> => f(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `n${i}` }] }) });
    assert.equal((await send(0)).status, 200); // the probe teaches the limits
    const res = await send(1); // 429, then retried
    assert.equal(res.status, 200);
    assert.equal(n, 3);
    assert.equal(limiter.state().scale, 1);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});
