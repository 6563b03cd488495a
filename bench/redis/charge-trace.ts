/**
 * A diagnostic for the charge-error rows of `bench:redis`: N budgets (one Redis connection each, as N
 * processes would have) share one key against the mock with its cost model, in one process, and the
 * shared tokens bucket is sampled from Redis every few ms next to the server's own bucket, rebuilt from
 * the mock's log (its GCRA over what it charged). Prints one line per attempt: when it arrived, its
 * status, the server's backlog and ours (ms of refill ahead of now), and a summary.
 *
 *   node bench/redis/charge-trace.ts [--scale=1.15] [--budgets=4] [--jobs=60] [--quiet]
 *
 * Uses FAULTLINE_REDIS_URL (or starts a private redis-server).
 */
import { Redis } from 'ioredis';
import { listen } from '../../src/mock/node.ts';
import type { RequestLogEntry } from '../../src/mock/index.ts';
import { createFetch } from '../../src/retry/index.ts';
import { redisBudget } from '../../src/redis/index.ts';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { anyRedis, runWorker } from '../../test/redis/harness.ts';
import { oracleMakespan } from '../pacing/oracle.ts';
import { workloads } from '../pacing/workloads.ts';
import { LIMITS } from './peers.ts';

const arg = (name: string, fallback: number): number => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const quiet = process.argv.includes('--quiet');
/** Run the budgets as separate processes (bench/redis/worker.ts, as bench:redis does) instead of in this one. */
const spawned = process.argv.includes('--processes');
const seed = arg('seed', 42);
const budgets = arg('budgets', 4);
const scale = arg('scale', 1.05);
const count = arg('jobs', 60);
const BURST_MS = 1000;
const cost = { charsPerToken: arg('cpt', 3.6), perMessageTokens: arg('pm', 4), scale, noise: 0.05, seed };

const { url, stop } = await anyRedis();
const key = `trace-${process.pid}-${Date.now()}`;
const stateKey = `faultline:budget:${spawned ? 'bench:' : ''}${key}:gpt-4o-mini`;
const all = workloads(1, seed).find((w) => w.name === 'mixed')!.jobs;
const jobs = all.filter((j) => j.key === all[0]!.key).slice(0, count);
const server = await listen({ mock: { seed, rateLimit: { ...LIMITS, burstWindowMs: BURST_MS, cost } } });
const probe = new Redis(url);
const samples: { t: number; tt: number; ts: number; cr: number }[] = [];
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    const [time, s] = (await probe.multi().time().hmget(stateKey, 'tt', 'ts', 'cr').exec()) as [[null, [string, string]], [null, (string | null)[]]];
    const now = Number(time[1][0]) * 1000 + Number(time[1][1]) / 1000;
    samples.push({ t: now, tt: Number(s[1][0] ?? NaN), ts: Number(s[1][1] ?? 0), cr: Number(s[1][2] ?? NaN) });
    await new Promise((r) => setTimeout(r, 5));
  }
})();

try {
  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'faultline-trace-'));
  const file = join(dir, 'jobs.json');
  writeFileSync(file, JSON.stringify(jobs));
  const worker = join(dirname(fileURLToPath(import.meta.url)), 'worker.ts');
  if (spawned) await Promise.all(Array.from({ length: budgets }, (_, i) => runWorker(worker, ['faultline+redis', server.url, url, key, file, String(i), String(budgets)], 180_000)));
  else await Promise.all(
    Array.from({ length: budgets }, async (_, b) => {
      const budget = redisBudget({ url, key, commandTimeoutMs: 1000 });
      const send = createFetch({ budget, retries: 8 });
      const mine = jobs.filter((_, i) => i % budgets === b);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(64, mine.length) }, async () => {
          while (next < mine.length) {
            const job = mine[next++]!;
            const res = await send(`${server.url}/chat/completions`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${job.key}`, 'x-bench-id': job.id },
              body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: job.input }], max_tokens: job.maxOutputTokens }),
            });
            await res.arrayBuffer();
          }
        }),
      );
      await budget.close();
    }),
  );
  rmSync(dir, { recursive: true, force: true });
  sampling = false;
  await sampler;
  const log = server.mock.log.filter((e): e is RequestLogEntry => e.kind === 'request' && e.benchId !== null);
  const ti = 60_000 / LIMITS.tpm;
  let tat = 0;
  let j = 0;
  const first = log[0]!.t;
  const lines: string[] = [];
  for (const e of log) {
    while (j + 1 < samples.length && samples[j + 1]!.t <= e.t) j++;
    const s = samples[j];
    const ours = s === undefined || Number.isNaN(s.tt) ? NaN : s.tt - s.t;
    const before = Math.max(0, tat - e.t);
    if (e.admitted && e.status === 200) tat = Math.max(tat, e.t) + e.cost * ti;
    const est = Math.ceil(jobs.find((x) => x.id === e.benchId)!.input.length / 4) + jobs.find((x) => x.id === e.benchId)!.maxOutputTokens;
    lines.push(`${(e.t - first).toFixed(0).padStart(6)} ${String(e.status)} cost ${String(e.cost).padStart(5)} est ${String(est).padStart(5)} need ${(est * ti).toFixed(0).padStart(5)} server backlog ${before.toFixed(0).padStart(5)} ours ${ours.toFixed(0).padStart(5)} cr ${s?.cr.toFixed(3)}`);
  }
  if (!quiet) process.stdout.write(lines.join('\n') + '\n');
  const admitted = log.filter((e) => e.admitted && e.status === 200);
  const byJob = new Map<string, number>();
  for (const e of log) if (e.cost > 0) byJob.set(e.benchId!, e.cost);
  const oracle = oracleMakespan({ ...LIMITS, burstWindowMs: BURST_MS }, [...byJob.values()]);
  const makespan = Math.max(...admitted.map((e) => e.t)) - first;
  const estOf = (id: string): number => {
    const job = jobs.find((x) => x.id === id)!;
    return Math.ceil(job.input.length / 4) + job.maxOutputTokens;
  };
  const charged = [...byJob.entries()].reduce((n, [, c]) => n + c, 0) / [...byJob.keys()].reduce((n, id) => n + estOf(id), 0);
  process.stdout.write(`charged ${charged.toFixed(3)} × the estimate; ratio learned ${samples.at(-1)?.cr.toFixed(3)}\n`);
  process.stdout.write(`scale ${scale}: ${log.length} attempts, ${log.filter((e) => e.status === 429).length} 429s, efficiency ${(oracle / makespan).toFixed(3)} (oracle ${oracle.toFixed(0)} ms, run ${makespan.toFixed(0)} ms, wall ${Date.now() - t0} ms)\n`);
} finally {
  sampling = false;
  probe.disconnect();
  await server.close();
  await stop();
}
