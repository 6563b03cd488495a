/**
 * The cold start: 100 concurrent requests through createFetch at 20 requests/s with a burst of 5, against
 * an independent GCRA server (test/redis/gcra-server.ts, not the mock), on real time. The ideal is the
 * time the server's own limit allows, (100 − 5) / 20 s; the ratio is ideal / actual (1 is perfect). A short
 * run pays here for the first request going alone while the limits are learned. `npm run bench:pacing`
 * prints it as its own row; `npm run bench:redis` runs it with and without the shared budget.
 */
import { createFetch } from '../../src/retry/index.ts';
import type { SharedBudget } from '../../src/retry/budget.ts';
import { gcraServer } from '../../test/redis/gcra-server.ts';

export interface ColdStart {
  /** Ideal time over the actual time. */
  ratio: number;
  /** Attempts answered 429, and all attempts. */
  rejected: number;
  attempts: number;
}

export async function coldStart(budget?: SharedBudget): Promise<ColdStart> {
  const server = await gcraServer({ rpm: 1200, burst: 5 });
  const f = createFetch({ retries: 20, ...(budget !== undefined ? { budget } : {}) });
  try {
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const res = await f(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `n${i}` }], max_tokens: 8 }) });
        await res.arrayBuffer();
      }),
    );
    const elapsed = performance.now() - t0;
    const ideal = ((100 - 5) / 20) * 1000;
    return { ratio: ideal / elapsed, rejected: server.log.filter((a) => a.status === 429).length, attempts: server.log.length };
  } finally {
    await server.close();
  }
}
