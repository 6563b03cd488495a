/**
 * One process of `bench:redis`: sends its share of the seeded work list (every N-th job) to the mock,
 * paced by one peer, and prints one JSON line (requests that ended 200, final failures, and for the
 * Redis budget the round trips and the acquire latencies).
 *
 *   worker.ts <peer> <mockUrl> <redisUrl> <key> <jobsFile> <index> <processes>
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import Bottleneck from 'bottleneck';
import { RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import { createFetch, type FetchFunction } from '../../src/retry/index.ts';
import { redisBudget, type RedisClientLike, type SharedBudget } from '../../src/redis/index.ts';
import type { Job } from '../pacing/workloads.ts';
import { LIMITS, type PeerName } from './peers.ts';

/** Requests in flight per process, as with a typical p-limit. */
const CONCURRENCY = 64;
const MODEL = 'gpt-4o-mini';

const [peer, mockUrl, redisUrl, key, jobsFile, index, processes] = process.argv.slice(2) as [PeerName, string, string, string, string, string, string];
const n = Number(processes);
const jobs = (JSON.parse(readFileSync(jobsFile, 'utf8')) as Job[]).filter((_, i) => i % n === Number(index));
const estimate = (job: Job): number => Math.ceil(job.input.length / 4) + job.maxOutputTokens;

let redisCalls = 0;
const raw = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
const counted: RedisClientLike = {
  call: (command, ...args) => {
    redisCalls++;
    return raw.call(command, ...args);
  },
};
const acquireMs: number[] = [];

/** Wraps a budget so every acquire is timed. */
function timed(budget: SharedBudget): SharedBudget {
  return {
    acquire: async (model, tokens, o) => {
      const t0 = performance.now();
      try {
        return await budget.acquire(model, tokens, o);
      } finally {
        acquireMs.push(performance.now() - t0);
      }
    },
    reconcile: (g, a) => budget.reconcile(g, a),
    release: (g) => budget.release(g),
    observe: (m, h, g) => budget.observe(m, h, g),
    pause: (m, ms) => budget.pause(m, ms),
    status: () => budget.status(),
    close: () => budget.close(),
  };
}

/** The same retry layer for every peer that brings only a limiter: faultline's, with pacing off. */
const retrying = createFetch({ pacing: false, retries: 8 });
let schedule: (job: Job, send: () => Promise<Response>) => Promise<Response>;
let send: FetchFunction = retrying;
let close = async (): Promise<void> => {};

switch (peer) {
  case 'faultline+redis': {
    const budget = timed(redisBudget({ client: counted, key: `bench:${key}`, commandTimeoutMs: 1000 }));
    send = createFetch({ budget, retries: 8 });
    schedule = (_job, go) => go();
    break;
  }
  case 'faultline per-process':
    send = createFetch({ retries: 8 });
    schedule = (_job, go) => go();
    break;
  case '1/N manual split':
    send = createFetch({ retries: 8, limits: { rpm: LIMITS.rpm / n, tpm: LIMITS.tpm / n } });
    schedule = (_job, go) => go();
    break;
  case 'bottleneck redis': {
    // Bottleneck's clustering mode, configured for RPM (its documented shape: minTime and a reservoir,
    // shared through Redis by every limiter with the same id).
    const limiter = new Bottleneck({
      id: `bench-${key}`,
      datastore: 'ioredis',
      clearDatastore: false,
      clientOptions: { host: new URL(redisUrl).hostname, port: Number(new URL(redisUrl).port) },
      minTime: 60_000 / LIMITS.rpm,
      reservoir: LIMITS.tpm,
      reservoirRefreshAmount: LIMITS.tpm,
      reservoirRefreshInterval: 60_000,
    });
    schedule = (job, go) => limiter.schedule({ weight: Math.min(estimate(job), LIMITS.tpm) }, go);
    close = async () => {
      await limiter.disconnect();
    };
    break;
  }
  case 'rate-limiter-flexible redis': {
    // RateLimiterRedis for RPM and TPM, each job consuming both; on a rejection wait msBeforeNext.
    // `execEvenly` spreads the admitted actions over the minute (its documented smoothing), which is
    // kinder to a smoothly enforcing server than the bare fixed window.
    const rpm = new RateLimiterRedis({ storeClient: raw, keyPrefix: `bench-rpm-${key}`, points: LIMITS.rpm, duration: 60, execEvenly: true });
    const tpm = new RateLimiterRedis({ storeClient: raw, keyPrefix: `bench-tpm-${key}`, points: LIMITS.tpm, duration: 60, execEvenly: true });
    const consume = async (limiter: RateLimiterRedis, points: number): Promise<void> => {
      for (;;) {
        try {
          await limiter.consume('k', points);
          return;
        } catch (e) {
          if (e instanceof Error) throw e;
          await new Promise((r) => setTimeout(r, (e as RateLimiterRes).msBeforeNext));
        }
      }
    };
    schedule = async (job, go) => {
      await consume(rpm, 1);
      await consume(tpm, Math.min(estimate(job), LIMITS.tpm));
      return go();
    };
    break;
  }
  default:
    throw new Error(`unknown peer ${String(peer)}`);
}

let ok = 0;
let failed = 0;
let next = 0;
const worker = async (): Promise<void> => {
  while (next < jobs.length) {
    const job = jobs[next++]!;
    try {
      const res = await schedule(job, () =>
        send(`${mockUrl}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${job.key}`, 'x-bench-id': job.id },
          body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: job.input }], max_tokens: job.maxOutputTokens }),
        }),
      );
      await res.arrayBuffer();
      if (res.status === 200) ok++;
      else failed++;
    } catch {
      failed++;
    }
  }
};
await Promise.all(Array.from({ length: Math.min(CONCURRENCY, jobs.length) }, worker));
await close();
raw.disconnect();
process.stdout.write(JSON.stringify({ peer, ok, failed, requests: jobs.length, redisCalls, acquireMs }) + '\n');
