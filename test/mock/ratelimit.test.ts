import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createManualClock, createMock } from '../../src/mock/index.ts';
import { admit, newRateLimitState } from '../../src/mock/ratelimit.ts';
import { goDuration, tryAgainIn } from '../../src/mock/wire.ts';

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

function post(mock: ReturnType<typeof createMock>, body: object, key = 'sk-a'): Promise<Response> {
  return mock.fetch('http://mock/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('Go-style durations', () => {
  test('format like time.Duration.String()', () => {
    assert.deepEqual(
      [0, 0.2, 20, 999, 1000, 1500, 60_000, 360_000, 90_500, 3_600_000].map(goDuration),
      ['0s', '1ms', '20ms', '999ms', '1s', '1.5s', '1m0s', '6m0s', '1m30.5s', '1h0m0s'],
    );
    assert.deepEqual([494, 1898, 20_000].map(tryAgainIn), ['494ms', '1.898s', '20s']);
  });
});

describe('GCRA admission (pure)', () => {
  const cfg = { rpm: 60, tpm: 1000, burstWindowMs: 60_000 };

  test('a fresh key may spend its whole minute at once, then waits one interval', () => {
    const st = newRateLimitState();
    for (let i = 0; i < 60; i++) assert.equal(admit(cfg, st, 0, 1).ok, true, `request ${i + 1}`);
    const denied = admit(cfg, st, 0, 1);
    assert.equal(denied.ok, false);
    assert.equal(!denied.ok && denied.reason, 'requests');
    // The rejected attempt counted: the next slot is two intervals away, and the reply says so.
    assert.equal(!denied.ok && denied.retryAfterMs, 2000);
  });

  test('tokens and too-large', () => {
    const st = newRateLimitState();
    assert.equal(admit(cfg, st, 0, 900).ok, true);
    const denied = admit(cfg, st, 0, 200);
    assert.equal(!denied.ok && denied.reason, 'tokens');
    assert.equal(!denied.ok && denied.used, 900);
    assert.equal(!denied.ok && denied.retryAfterMs, 6000); // 100 tokens at 60 ms each
    const big = admit(cfg, st, 0, 1001);
    assert.equal(!big.ok && big.reason, 'too_large');
  });

  test('a 1 s burst window enforces the limit per second', () => {
    const st = newRateLimitState();
    const perSecond = { rpm: 600, tpm: 1e9, burstWindowMs: 1000 };
    let ok = 0;
    for (let i = 0; i < 20; i++) if (admit(perSecond, st, 0, 1).ok) ok++;
    assert.equal(ok, 10);
  });
});

describe('rate limits through the mock', () => {
  test('a burst above the limit gets 429s with the real headers and body', async () => {
    const clock = createManualClock();
    const mock = createMock({ clock, rateLimit: { rpm: 10, tpm: 100_000 } });
    const statuses: number[] = [];
    let first429: Response | undefined;
    for (let i = 0; i < 15; i++) {
      const res = await post(mock, CHAT);
      statuses.push(res.status);
      if (res.status === 429 && !first429) first429 = res;
      else await res.text();
    }
    assert.deepEqual(statuses, [...Array(10).fill(200), ...Array(5).fill(429)]);
    assert.ok(first429);
    const h = first429.headers;
    assert.equal(h.get('x-ratelimit-limit-requests'), '10');
    assert.equal(h.get('x-ratelimit-remaining-requests'), '0');
    assert.equal(h.get('x-ratelimit-limit-tokens'), '100000');
    assert.match(h.get('x-ratelimit-reset-requests')!, /^\d+(\.\d+)?s$|^\d+m[\d.]+s$/);
    assert.equal(h.get('retry-after-ms'), '12000');
    assert.equal(h.get('retry-after'), '12');
    const body = (await first429.json()) as { error: Record<string, unknown> };
    assert.deepEqual(body.error, {
      message:
        'Rate limit reached for gpt-4o-mini in organization org-mock on requests per min (RPM): Limit 10, Used 10, Requested 1. Please try again in 12s. Visit https://platform.openai.com/account/rate-limits to learn more.',
      type: 'requests',
      param: null,
      code: 'rate_limit_exceeded',
    });
    const rejected = mock.log.filter((e) => e.kind === 'request' && !e.admitted);
    assert.equal(rejected.length, 5);
    await mock.close();
  });

  test('a client spacing requests at the limit never sees a 429 (clock driven)', async () => {
    const clock = createManualClock();
    const mock = createMock({ clock, rateLimit: { rpm: 60, tpm: 1_000_000, burstWindowMs: 1000 } });
    for (let i = 0; i < 200; i++) {
      const res = await post(mock, CHAT);
      assert.equal(res.status, 200, `request ${i + 1}`);
      await res.text();
      await mock.advance(1000);
    }
    await mock.close();
  });

  test('the TPM 429 and the request-too-large 429 carry the real messages', async () => {
    const clock = createManualClock();
    const mock = createMock({ clock, rateLimit: { rpm: 1000, tpm: 100_000 } });
    assert.equal((await post(mock, { ...CHAT, max_tokens: 99_000 })).status, 200);
    const res = await post(mock, { ...CHAT, max_tokens: 2000 });
    assert.equal(res.status, 429);
    const body = (await res.json()) as { error: { message: string; type: string } };
    assert.equal(body.error.type, 'tokens');
    assert.match(
      body.error.message,
      /^Rate limit reached for gpt-4o-mini in organization org-mock on tokens per min \(TPM\): Limit 100000, Used 99001, Requested 2001\. Please try again in [\d.]+m?s\. Visit/,
    );
    const big = await post(mock, { ...CHAT, max_tokens: 200_000 });
    assert.equal(big.status, 429);
    assert.equal(big.headers.get('retry-after'), null);
    const bigBody = (await big.json()) as { error: { message: string } };
    assert.equal(
      bigBody.error.message,
      'Request too large for gpt-4o-mini in organization org-mock on tokens per min (TPM): Limit 100000, Requested 200001. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.',
    );
    // Keys have separate budgets.
    assert.equal((await post(mock, { ...CHAT, max_tokens: 2000 }, 'sk-b')).status, 200);
    await mock.close();
  });

  test('honouring retry-after-ms is enough to be admitted again', async () => {
    const clock = createManualClock();
    const mock = createMock({ clock, rateLimit: { rpm: 5, tpm: 1e6, burstWindowMs: 1000 } });
    let ok = 0;
    for (let i = 0; i < 30; i++) {
      const res = await post(mock, CHAT);
      await res.text();
      if (res.status === 200) ok++;
      else await mock.advance(Number(res.headers.get('retry-after-ms')));
    }
    assert.ok(ok >= 15, `admitted ${ok}`);
    await mock.close();
  });
});
