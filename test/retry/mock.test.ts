/**
 * createFetch against the mock server (in-process, on one virtual clock shared by both sides).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { QuotaExceededError } from '../../src/index.ts';
import { createManualClock, createMock, type MockOptions, type RequestLogEntry } from '../../src/mock/index.ts';
import { createFetch, exponentialBackoff } from '../../src/retry/index.ts';

const LIMITS = { rpm: 600, tpm: 100_000, burstWindowMs: 10_000 };

function setup(options: Omit<MockOptions, 'clock'> = {}, fetchOptions: Parameters<typeof createFetch>[0] = {}) {
  const clock = createManualClock({ autoAdvance: true });
  const mock = createMock({ clock, rateLimit: LIMITS, ...options });
  const fetch = createFetch({ fetch: mock.fetch, clock, random: () => 0.5, ...fetchOptions });
  const client = new OpenAI({ apiKey: 'sk-test-0000', baseURL: 'http://mock.test/v1', fetch, maxRetries: 0 });
  const requests = () => mock.log.filter((e): e is RequestLogEntry => e.kind === 'request');
  return { clock, mock, fetch, client, requests };
}

describe('createFetch against the mock', () => {
  test('a burst of 300 requests gets no 429 once the limits are learned, and uses the burst and the rate', async () => {
    const s = setup();
    const t0 = s.clock.now();
    const out = await Promise.all(Array.from({ length: 300 }, (_, i) => s.client.responses.create({ model: 'gpt-4o-mini', input: `question ${i}` })));
    assert.equal(out.length, 300);
    const log = s.requests();
    assert.equal(log.length, 300, 'one attempt per request');
    assert.equal(log.filter((e) => e.status === 429).length, 0);
    // The oracle: 100 requests in the 10 s burst at once, then one every 100 ms: the 300th at 20 s.
    const makespan = log.at(-1)!.t - t0;
    assert.ok(makespan >= 19_900 && makespan <= 20_300, `makespan ${makespan} ms`);
    await s.mock.close();
  });

  test('TPM-bound work: token costs from the body, no 429', async () => {
    const s = setup();
    const input = 'x'.repeat(4000); // 1000 prompt tokens
    await Promise.all(Array.from({ length: 40 }, () => s.client.responses.create({ model: 'gpt-4o-mini', input, max_output_tokens: 1000 })));
    const log = s.requests();
    assert.equal(log.filter((e) => e.status === 429).length, 0);
    // 80k tokens in all; the 10 s burst holds 16.6k, the rest refills at 100k/min: about 38 s.
    const makespan = log.at(-1)!.t - log[0]!.t;
    assert.ok(makespan <= 40_000, `makespan ${makespan}`);
    await s.mock.close();
  });

  test('a 429 with retry-after-ms pauses everyone', async () => {
    const s = setup(
      { rateLimit: { rpm: 6000, tpm: 1e7, burstWindowMs: 60_000 }, scenario: [{ match: { nth: 2 }, fault: { type: 'http', preset: 'rate_limit_requests', headers: { 'retry-after-ms': '3000' } } }] },
    );
    await s.client.responses.create({ model: 'gpt-4o-mini', input: 'first' }); // learn the limits
    const hit = s.client.responses.create({ model: 'gpt-4o-mini', input: 'second' }); // gets the 429
    for (let i = 0; i < 50 && !s.requests().some((e) => e.status === 429); i++) await new Promise<void>((r) => setImmediate(r));
    const others = Array.from({ length: 10 }, (_, i) => s.client.responses.create({ model: 'gpt-4o-mini', input: `q${i}` }));
    await Promise.all([hit, ...others]);
    const log = s.requests();
    const limited = log.find((e) => e.status === 429)!;
    assert.ok(limited, 'the injected 429 happened');
    const after = log.filter((e) => e.seq > limited.seq);
    assert.equal(after.length, 11, 'the retry and the ten others');
    assert.ok(after.every((e) => e.t >= limited.t + 3000), `sent ${after.map((e) => e.t - limited.t).join(', ')} ms after the 429`);
    await s.mock.close();
  });

  test('insufficient_quota fails fast with QuotaExceededError after one attempt', async () => {
    const s = setup({ scenario: [{ fault: { type: 'http', preset: 'insufficient_quota' } }] });
    await assert.rejects(s.client.responses.create({ model: 'gpt-4o-mini', input: 'hi' }), QuotaExceededError);
    assert.equal(s.requests().length, 1);
    await s.mock.close();
  });

  test('an abort during a backoff rejects at once and nothing is sent after it', async () => {
    const s = setup({ scenario: [{ fault: { type: 'http', preset: 'server_error' } }] }, { backoff: exponentialBackoff({ initialDelayMs: 30_000 }) });
    const ac = new AbortController();
    const p = s.client.responses.create({ model: 'gpt-4o-mini', input: 'hi' }, { signal: ac.signal });
    for (let i = 0; i < 30 && s.requests().length === 0; i++) await new Promise<void>((r) => setImmediate(r));
    for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
    assert.equal(s.requests().length, 1);
    const before = s.clock.now();
    ac.abort();
    await assert.rejects(p, (e: unknown) => (e as object).constructor.name === 'APIUserAbortError');
    assert.equal(s.clock.now(), before, 'no virtual time passed: the backoff was cut');
    assert.equal(s.clock.pending, 0);
    assert.equal(s.requests().length, 1);
    await s.mock.close();
  });

  test('mid-body resets and 5xx are retried until success; streaming works through the fetch', async () => {
    const s = setup({
      scenario: [
        { match: { nth: 1 }, fault: { type: 'reset', when: 'mid_body' } },
        { match: { nth: 2 }, fault: { type: 'http', preset: 'bad_gateway' } },
      ],
    });
    const r = await s.client.responses.create({ model: 'gpt-4o-mini', input: 'hi' });
    assert.equal(r.status, 'completed');
    assert.equal(s.requests().length, 3);
    const stream = await s.client.responses.create({ model: 'gpt-4o-mini', input: 'hi', stream: true });
    let text = '';
    for await (const ev of stream) if (ev.type === 'response.output_text.delta') text += ev.delta;
    assert.match(text, /Hello/);
    await s.mock.close();
  });
});
