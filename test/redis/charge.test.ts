/**
 * A server's charge is never the client's estimate. (1) The mock's `rateLimit.cost` model charges
 * differently from faultline's estimator (per-message overhead, another characters-per-token ratio, a
 * scale, seeded noise) while `usage` stays as it was. (2) Against an independent TPM-bound loopback
 * server (test/redis/gcra-server.ts) charging 15 % more or less than the estimate, with noise and
 * latency, and reporting `usage` as the estimate (so only the headers tell the truth), createFetch's
 * pacer follows the `x-ratelimit-*-tokens` headers closely enough that ≤ 0.5 % of attempts are 429s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMock } from '../../src/mock/index.ts';
import { createFetch } from '../../src/retry/fetch.ts';
import { gcraServer } from './gcra-server.ts';

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

for (const scale of [1.15, 0.85]) {
  test(`a TPM-bound independent server charging ${Math.round((scale - 1) * 100)} % off the estimate: ≤ 0.5 % of attempts are 429s, none fail`, async () => {
    let seed = 7;
    const noise = (): number => 0.95 + 0.1 * ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const chars = (b: Record<string, unknown>): number => ((b['messages'] as Array<{ content: string }> | undefined) ?? []).reduce((n, m) => n + m.content.length, 0);
    const server = await gcraServer({
      rpm: 100_000,
      burst: 100,
      tpm: 600_000,
      latencyMs: 200,
      charge: (b) => Math.round((Math.ceil(chars(b) / 4) + Number(b['max_tokens'] ?? 0)) * scale * noise()),
      // usage says the estimate was exact: only the headers show the real charge
      usage: (b) => ({ prompt_tokens: Math.ceil(chars(b) / 4), completion_tokens: 20 }),
    });
    try {
      const f = createFetch({ retries: 20 });
      let next = 0;
      let failed = 0;
      const count = 150;
      await Promise.all(
        Array.from({ length: 48 }, async () => {
          while (next < count) {
            const i = next++;
            const res = await f(server.url, { method: 'POST', headers: authHeaders(), body: chat('y'.repeat(400 + (i % 7) * 100), 100) });
            await res.arrayBuffer();
            if (res.status !== 200) failed++;
          }
        }),
      );
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
