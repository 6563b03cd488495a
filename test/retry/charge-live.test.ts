/**
 * createFetch against an independent TPM-bound loopback server (test/redis/gcra-server.ts, its own GCRA
 * written from the wire protocol) that charges 15 % more or less than faultline's estimate, with ±5 %
 * noise and 200 ms between admission and answer, while `usage` says the estimate was exact. The
 * per-process limiter learns the charge from the `x-ratelimit-*-tokens` readings and keeps the server's
 * tokens bucket near full (it used to keep it at the requests bucket's 60 ms: ~0.1 of it), with ≤ 0.5 %
 * of attempts 429s (0 in every quiet run; the test allows 1 % for a loaded machine).
 *
 * Judged by the server's own state, not by wall-clock time: the median backlog of its tokens bucket at
 * each admission once the first answers are in, which a loaded machine does not move much (a stalled
 * client sends late, and the server's bucket drains meanwhile: lower, never higher). The efficiency is
 * in the message. The decision-level counterpart on an injected clock is test/retry/charge-ratio.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFetch } from '../../src/retry/fetch.ts';
import { gcraServer } from '../redis/gcra-server.ts';

const chat = (content: string): string => JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content }], max_tokens: 100 });
const authHeaders = (): Record<string, string> => ({ 'content-type': 'application/json', authorization: `Bearer ${['sk', 'test', 'live'].join('-')}` });
const chars = (b: Record<string, unknown>): number => ((b['messages'] as Array<{ content: string }> | undefined) ?? []).reduce((n, m) => n + m.content.length, 0);

for (const scale of [1.15, 0.85]) {
  test(`a server charging ${Math.round((scale - 1) * 100)} % off the estimate: its tokens bucket kept near full, ≤ 0.5 % of attempts 429 (1 % under load)`, async () => {
    let seed = 5;
    const noise = (): number => 0.95 + 0.1 * ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const tpm = 600_000;
    const server = await gcraServer({
      rpm: 100_000,
      burst: 100,
      tpm,
      latencyMs: 200,
      charge: (b) => Math.round((Math.ceil(chars(b) / 4) + Number(b['max_tokens'] ?? 0)) * scale * noise()),
      usage: (b) => ({ prompt_tokens: Math.ceil(chars(b) / 4), completion_tokens: 20 }),
    });
    try {
      const f = createFetch({ retries: 20 });
      const count = 200;
      let next = 0;
      let failed = 0;
      await Promise.all(
        Array.from({ length: 48 }, async () => {
          while (next < count) {
            const i = next++;
            const res = await f(server.url, { method: 'POST', headers: authHeaders(), body: chat('y'.repeat(400 + (i % 7) * 100)) });
            await res.arrayBuffer();
            if (res.status !== 200) failed++;
          }
        }),
      );
      assert.equal(failed, 0);
      // The server's tokens bucket (1000 ms of refill) at each admission, replayed from its log.
      const ok = server.log.filter((a) => a.status === 200);
      assert.equal(ok.length, count);
      let tat = 0;
      const backlogs: number[] = [];
      for (const a of ok) {
        tat = Math.max(tat, a.t) + (a.tokens * 60_000) / tpm;
        if (a.t - ok[0]!.t > 1000) backlogs.push(tat - a.t);
      }
      backlogs.sort((a, b) => a - b);
      const median = backlogs[Math.floor(backlogs.length / 2)]!;
      const span = ok.at(-1)!.t - ok[0]!.t;
      const efficiency = (ok.reduce((n, a) => n + a.tokens, 0) - tpm / 60) / ((tpm * span) / 60_000);
      const rejected = server.log.length - ok.length;
      const detail = `median backlog ${median.toFixed(0)} ms of 1000, efficiency ${efficiency.toFixed(3)}, ${rejected} of ${server.log.length} attempts 429`;
      // ≤ 0.5 % on a quiet machine (0 in every run there); 1 % leaves room for a loaded one, whose stalled
      // event loop delivers sends in bunches that no pacer can space.
      assert.ok(rejected <= Math.floor(server.log.length * 0.01), detail);
      assert.ok(median >= 400, detail);
    } finally {
      await server.close();
    }
  });
}
