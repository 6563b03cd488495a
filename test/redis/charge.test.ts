/**
 * A server's charge is never the client's estimate. (1) The mock's `rateLimit.cost` model charges
 * differently from faultline's estimator (per-message overhead, another characters-per-token ratio, a
 * scale, seeded noise) while `usage` stays as it was. (2) Against an independent TPM-bound loopback
 * server (test/redis/gcra-server.ts) charging 15 % more or less than the estimate, with noise and
 * latency, and reporting `usage` as the estimate (so only the headers tell the truth), createFetch's
 * pacer follows the `x-ratelimit-*-tokens` headers closely enough that ≤ 0.5 % of attempts are 429s.
 * (3) The same with several Redis budgets sharing one key (as several processes would): the shared
 * bucket follows the server's readings both ways and learns the charge ratio from them.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createMock } from '../../src/mock/index.ts';
import { createFetch } from '../../src/retry/fetch.ts';
import { redisBudget } from '../../src/redis/index.ts';
import { gcraServer, type GcraServer } from './gcra-server.ts';
import { anyRedis, redisSkip, uniqueKey } from './harness.ts';

const chat = (content: string, maxTokens: number): string => JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content }], max_tokens: maxTokens });
const authHeaders = (): Record<string, string> => ({ 'content-type': 'application/json', authorization: `Bearer ${['sk', 'test', 'charge'].join('-')}` });

test("the mock's cost model charges what it is told, not the estimator's formula; usage is unchanged", async () => {
  const content = 'z'.repeat(360);
  const send = async (cost?: object): Promise<{ charged: number; usage: unknown }> => {
    const mock = createMock({ rateLimit: { rpm: 1000, tpm: 1_000_000, ...(cost !== undefined ? { cost } : {}) } });
    const res = await mock.fetch('http://mock/v1/chat/completions', { method: 'POST', headers: authHeaders(), body: chat(content, 100) });
    const json = (await res.json()) as { usage: unknown };
    const entry = mock.log.find((e) => e.kind === 'request');
    await mock.close();
    return { charged: entry?.kind === 'request' ? entry.cost : NaN, usage: json.usage };
  };
  const plain = await send();
  // 368 characters / 4 + 100 output
  assert.equal(plain.charged, 92 + 100);
  const modelled = await send({ charsPerToken: 3, perMessageTokens: 4, scale: 1.1 });
  // (ceil(368 / 3) + 2 messages × 4 + 100) × 1.1
  assert.equal(modelled.charged, Math.round((123 + 8 + 100) * 1.1));
  assert.deepEqual(modelled.usage, plain.usage);
  const noisy = await Promise.all([1, 2, 3, 4, 5, 6].map(() => send({ noise: 0.2, seed: 9 })));
  assert.ok(noisy.every((n) => n.charged === noisy[0]!.charged), 'a seed repeats');
  const spread = await (async () => {
    const mock = createMock({ rateLimit: { rpm: 1000, tpm: 1_000_000, cost: { noise: 0.2, seed: 9 } } });
    for (let i = 0; i < 20; i++) await (await mock.fetch('http://mock/v1/chat/completions', { method: 'POST', headers: authHeaders(), body: chat(content, 100) })).arrayBuffer();
    const costs = mock.log.flatMap((e) => (e.kind === 'request' ? [e.cost] : []));
    await mock.close();
    return costs;
  })();
  assert.ok(Math.min(...spread) >= Math.floor(192 * 0.8) && Math.max(...spread) <= Math.ceil(192 * 1.2), `within ±20 %: ${spread.join(' ')}`);
  assert.ok(new Set(spread).size > 5, 'and noisy');
  assert.throws(() => createMock({ rateLimit: { tpm: 1000, cost: { charsPerToken: 0 } } }), { name: 'RangeError', message: /options\.rateLimit\.cost\.charsPerToken must be a number in/ });
});

/**
 * A TPM-bound independent server (600k TPM, 1 s burst, 200 ms latency) charging `scale` × the estimate
 * with ±5 % seeded noise; its `usage` says the estimate was exact, so only the headers show the charge.
 */
function chargingServer(scale: number): Promise<GcraServer> {
  let seed = 7;
  const noise = (): number => 0.95 + 0.1 * ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const chars = (b: Record<string, unknown>): number => ((b['messages'] as Array<{ content: string }> | undefined) ?? []).reduce((n, m) => n + m.content.length, 0);
  return gcraServer({
    rpm: 100_000,
    burst: 100,
    tpm: 600_000,
    latencyMs: 200,
    charge: (b) => Math.round((Math.ceil(chars(b) / 4) + Number(b['max_tokens'] ?? 0)) * scale * noise()),
    usage: (b) => ({ prompt_tokens: Math.ceil(chars(b) / 4), completion_tokens: 20 }),
  });
}

/** Sends `count` requests through `senders` (48 in flight in all, shared round robin); returns how many did not end 200. */
async function sendAll(senders: readonly ((input: string, init: RequestInit) => Promise<Response>)[], url: string, count: number): Promise<number> {
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: 48 }, async (_, w) => {
      const f = senders[w % senders.length]!;
      while (next < count) {
        const i = next++;
        const res = await f(url, { method: 'POST', headers: authHeaders(), body: chat('y'.repeat(400 + (i % 7) * 100), 100) });
        await res.arrayBuffer();
        if (res.status !== 200) failed++;
      }
    }),
  );
  return failed;
}

for (const scale of [1.15, 0.85]) {
  test(`a TPM-bound independent server charging ${Math.round((scale - 1) * 100)} % off the estimate: ≤ 0.5 % of attempts are 429s, none fail`, async () => {
    const server = await chargingServer(scale);
    try {
      const count = 150;
      const failed = await sendAll([createFetch({ retries: 20 })], server.url, count);
      const rejected = server.log.filter((a) => a.status === 429).length;
      assert.equal(failed, 0);
      assert.ok(rejected <= Math.floor(server.log.length * 0.005), `429s: ${rejected} of ${server.log.length} attempts`);
      // and it is TPM-bound: the run took about as long as the tokens allow (not a trivially slow run)
      assert.ok(server.log.filter((a) => a.status === 200).length === count);
    } finally {
      await server.close();
    }
  });
}

describe('several Redis budgets on one key against a server charging ±15 % off the estimate', { skip: redisSkip(), timeout: 120_000 }, () => {
  let url = '';
  let stop: () => Promise<void> = async () => {};
  before(async () => {
    ({ url, stop } = await anyRedis());
  });
  after(async () => stop());

  for (const scale of [1.15, 0.85]) {
    test(`${Math.round((scale - 1) * 100)} %: ≤ 0.5 % of attempts are 429s, none fail, and the shared state learns the charge ratio from the readings`, async () => {
      const key = uniqueKey('charge');
      const server = await chargingServer(scale);
      // Four budgets, each on its own connection (as four processes would be), one key.
      const budgets = Array.from({ length: 4 }, () => redisBudget({ url, key, commandTimeoutMs: 2000 }));
      const raw = new Redis(url);
      try {
        const count = 240;
        const failed = await sendAll(
          budgets.map((budget) => createFetch({ budget, retries: 20 })),
          server.url,
          count,
        );
        const rejected = server.log.filter((a) => a.status === 429).length;
        assert.equal(failed, 0);
        assert.equal(server.log.filter((a) => a.status === 200).length, count);
        // 0.5 % of ~240 attempts is one; one more for a loaded 2-core machine, where a stalled process
        // sends a booked request late, behind one booked after it. (Before, 12–17 % were 429s.)
        assert.ok(rejected <= Math.floor(server.log.length * 0.005) + 1, `429s: ${rejected} of ${server.log.length} attempts`);
        // What the server charged over what faultline estimated (400 + (i % 7) × 100 characters + 'be brief', 100 out):
        const estimated = Array.from({ length: count }, (_, i) => Math.ceil((408 + (i % 7) * 100) / 4) + 100).reduce((a, b) => a + b, 0);
        const charged = server.log.reduce((n, a) => n + a.tokens, 0);
        const cr = Number(await raw.hget(`faultline:budget:${key}:gpt-4o-mini`, 'cr'));
        const ok = server.log.filter((a) => a.status === 200);
        // The tokens beyond the first second's burst over what the limit allows from first to last admission.
        const efficiency = (charged - 10_000) / ((600_000 / 60_000) * (ok.at(-1)!.t - ok[0]!.t));
        // About 0.93 here (the probe's round trip and the first second cost the rest); 0.68 at −15 % when
        // the bucket never moved back and the tokens bucket was paced with the requests bucket's 60 ms burst.
        assert.ok(efficiency >= 0.78, `efficiency ${efficiency.toFixed(3)}`);
        assert.ok(Math.abs(cr / (charged / estimated) - 1) < 0.06, `the ratio learned (${cr.toFixed(3)}) is within 6 % of the charged one (${(charged / estimated).toFixed(3)})`);
      } finally {
        raw.disconnect();
        await Promise.all(budgets.map((b) => b.close()));
        await server.close();
      }
    });
  }
});
