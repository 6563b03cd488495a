/**
 * `npm run bench:redis`: many processes sharing one key, on real Redis and real wall-clock time.
 *
 * 1. **Sharing one key**: the mock enforcing 600 RPM / 100k TPM smoothly (GCRA, 1 s burst), 1, 4 and 8
 *    processes splitting the seeded `small` work list of `bench:pacing` (every N-th job each), one row per
 *    peer: faultline + Redis budget, faultline per process, each process given 1/N of the limit,
 *    bottleneck's Redis clustering, rate-limiter-flexible's RateLimiterRedis. From the mock's log:
 *    efficiency against the oracle (the shortest makespan the mock's own limiter allows), % of attempts
 *    answered 429, final failures, the worst 10 s window against what the limit allows in it.
 * 2. **The cost of the budget**: Redis round trips per request, acquire latency p50/p99 (from the runs),
 *    and `acquire.ts`'s acquires per second from one process.
 * 3. **The wrapper's CPU per request**: createFetch against bare fetch to a loopback server, with and
 *    without the Redis budget: `cpu.ts` in a fresh child process (see there why not in this one).
 * 4. **Cold start**: 100 concurrent requests through createFetch at 20 requests/s with a burst of 5,
 *    against an independent GCRA server (test/redis/gcra-server.ts), as a share of the ideal time.
 *
 *   npm run bench:redis              (about 2–3 minutes)
 *   npm run bench:redis -- --quick   (1 and 4 processes, fewer jobs, about a minute)
 *   npm run bench:redis -- --cost-only [--cost-jobs=N]   (only the charge-error rows, ±15 %)
 *   npm run bench:redis -- --only=faultline+redis        (only that peer's rows)
 *
 * Uses FAULTLINE_REDIS_URL, or starts a private redis-server on 127.0.0.1. Writes bench/results/redis.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listen } from '../../src/mock/node.ts';
import type { RequestLogEntry } from '../../src/mock/index.ts';
import { createFetch } from '../../src/retry/index.ts';
import { redisBudget } from '../../src/redis/index.ts';
import { anyRedis, runWorker as runWorkerScript } from '../../test/redis/harness.ts';
import { coldStart as coldStartRun } from '../pacing/cold-start.ts';
import { oracleMakespan } from '../pacing/oracle.ts';
import { workloads } from '../pacing/workloads.ts';
import { LIMITS, PEER_NAMES, type PeerName } from './peers.ts';
import { describeWrapperCost, type WrapperCost } from './cpu.ts';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
/** Only the charge-error rows (a quick check while working on the estimator's corrections). */
const costOnly = args.includes('--cost-only');
const seed = Number(args.find((a) => a.startsWith('--seed='))?.slice(7) ?? 42);
const PROCESSES = costOnly ? [] : quick ? [1, 4] : [1, 4, 8];
/** `--only=faultline+redis`: only that peer's rows (a quick check of one peer). */
const only = args.find((a) => a.startsWith('--only='))?.slice(7);
const JOBS = quick ? 60 : 120;
const BURST_MS = 1000;
const WINDOW_MS = 10_000;
/** A shorter window too: a quick run is shorter than 10 s, and a burst shows in 2 s. */
const SHORT_WINDOW_MS = 2000;
/** The tokens the mock charges a job at admission (prompt chars / 4 + max_tokens), for the oracle. */
const costOf = (job: { input: string; maxOutputTokens: number }): number => Math.ceil(job.input.length / 4) + job.maxOutputTokens;

const { url: redisUrl, stop: stopRedis } = await anyRedis();
const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-redis-'));
const jobs = workloads(1, seed).find((w) => w.name === 'small')!.jobs.slice(0, JOBS);
const jobsFile = join(dir, 'jobs.json');
writeFileSync(jobsFile, JSON.stringify(jobs));
// The charge-error rows: TPM-bound jobs (the seeded 'mixed' list) and a mock that charges about 15 % more
// than faultline estimates (another chars-per-token ratio, per-message overhead, a scale, noise).
const costJobs = workloads(1, seed)
  .find((w) => w.name === 'mixed')!
  .jobs.filter((j) => j.key === jobs[0]!.key)
  .slice(0, Number(args.find((a) => a.startsWith('--cost-jobs='))?.slice(12) ?? (quick ? 30 : 60)));
const costJobsFile = join(dir, 'cost-jobs.json');
writeFileSync(costJobsFile, JSON.stringify(costJobs));
// With 3.6 characters a token and 4 tokens a message, the mock charges these jobs ×1.08 of the estimate
// before its scale; the scales make the charge 15 % more and 15 % less than faultline's estimate (each
// row reports the ratio it measured).
const COSTS = {
  'mixed+15%': { charsPerToken: 3.6, perMessageTokens: 4, scale: 1.065, noise: 0.05, seed },
  'mixed-15%': { charsPerToken: 3.6, perMessageTokens: 4, scale: 0.787, noise: 0.05, seed },
} as const;
type CostRow = keyof typeof COSTS;

interface WorkerOut {
  peer: string;
  ok: number;
  failed: number;
  requests: number;
  redisCalls: number;
  acquireMs: number[];
}

async function runWorker(a: string[]): Promise<WorkerOut> {
  const out = await runWorkerScript(join(here, 'worker.ts'), a, 180_000);
  return JSON.parse(out.trim().split('\n').pop()!) as WorkerOut;
}

const pct = (xs: readonly number[], p: number): number => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!);

/** The largest share of what GCRA allows in any window of `windowMs` (≤ 1: no overshoot). */
function worstWindow(admitted: readonly RequestLogEntry[], windowMs: number): number {
  const allowRequests = ((windowMs + BURST_MS) * LIMITS.rpm) / 60_000 + 1;
  const allowTokens = ((windowMs + BURST_MS) * LIMITS.tpm) / 60_000 + Math.max(0, ...admitted.map((e) => e.cost));
  let worst = 0;
  let j = 0;
  let tokens = 0;
  for (let i = 0; i < admitted.length; i++) {
    tokens += admitted[i]!.cost;
    while (admitted[i]!.t - admitted[j]!.t >= windowMs) tokens -= admitted[j++]!.cost;
    worst = Math.max(worst, (i - j + 1) / allowRequests, tokens / allowTokens);
  }
  return worst;
}

interface Row {
  peer: PeerName;
  processes: number;
  /** 'small' (RPM-bound, the mock charges the estimate), or 'mixed±15%' (TPM-bound, charged 15 % more or less). */
  work: string;
  /** What the mock charged over what faultline estimates, summed over the jobs (1 for 'small'). */
  chargedRatio: number;
  efficiency: number;
  attempts: number;
  rejectedShare: number;
  finalFailures: number;
  worstWindow: number;
  worstShortWindow: number;
  makespanMs: number;
  /** Admitted tokens and requests in each second of the run, from the mock's log (the chart's series). */
  tokensPerSecond: number[];
  requestsPerSecond: number[];
  redisCallsPerRequest?: number;
  acquireP50Ms?: number;
  acquireP99Ms?: number;
}

async function runPeer(peer: PeerName, processes: number, cost?: CostRow): Promise<Row> {
  const charged = cost !== undefined;
  const [list, file] = charged ? [costJobs, costJobsFile] : [jobs, jobsFile];
  const server = await listen({ mock: { seed, rateLimit: { ...LIMITS, burstWindowMs: BURST_MS, ...(charged ? { cost: COSTS[cost] } : {}) } } });
  const key = `${peer.replace(/\W+/g, '-')}-${processes}-${process.pid}-${Date.now()}`;
  try {
    const outs = await Promise.all(Array.from({ length: processes }, (_, i) => runWorker([peer, server.url, redisUrl, key, file, String(i), String(processes)])));
    const log = server.mock.log.filter((e): e is RequestLogEntry => e.kind === 'request' && e.benchId !== null);
    const admitted = log.filter((e) => e.admitted && e.status === 200);
    const first = Math.min(...log.map((e) => e.t));
    const makespanMs = Math.max(...admitted.map((e) => e.t)) - first;
    // The oracle sends every job; a peer whose jobs failed is judged on the time it took all the same.
    const oracle = oracleMakespan({ ...LIMITS, burstWindowMs: BURST_MS }, charged ? chargedCosts(log, list.length) : list.map(costOf));
    const requests = outs.reduce((s, o) => s + o.requests, 0);
    const calls = outs.reduce((s, o) => s + o.redisCalls, 0);
    const acquires = outs.flatMap((o) => o.acquireMs);
    return {
      peer,
      processes,
      work: cost ?? 'small',
      chargedRatio: charged ? chargedRatio(log, list) : 1,
      efficiency: admitted.length < list.length ? (oracle / Math.max(makespanMs, oracle)) * (admitted.length / list.length) : Math.min(1, oracle / makespanMs),
      attempts: log.length,
      rejectedShare: log.filter((e) => e.status === 429).length / Math.max(1, log.length),
      finalFailures: outs.reduce((s, o) => s + o.failed, 0) + (requests - outs.reduce((s, o) => s + o.ok + o.failed, 0)),
      worstWindow: worstWindow(admitted, WINDOW_MS),
      worstShortWindow: worstWindow(admitted, SHORT_WINDOW_MS),
      makespanMs,
      tokensPerSecond: perSecond(admitted, first, (e) => e.cost),
      requestsPerSecond: perSecond(admitted, first, () => 1),
      ...(peer === 'faultline+redis' ? { redisCallsPerRequest: calls / Math.max(1, requests), acquireP50Ms: pct(acquires, 50), acquireP99Ms: pct(acquires, 99) } : {}),
    };
  } finally {
    await server.close();
  }
}

/** The sum of `of` over the admitted requests of each 1 s slot from `first` on. */
function perSecond(admitted: readonly RequestLogEntry[], first: number, of: (e: RequestLogEntry) => number): number[] {
  const out: number[] = [];
  for (const e of admitted) {
    const i = Math.floor((e.t - first) / 1000);
    while (out.length <= i) out.push(0);
    out[i]! += of(e);
  }
  return out;
}

/** Each second's use of the binding limit: the larger of its tokens and its requests against theirs. */
const shareOfLimit = (r: Row): number[] => r.tokensPerSecond.map((t, i) => Math.max(t / (LIMITS.tpm / 60), r.requestsPerSecond[i]! / (LIMITS.rpm / 60)));

const BLOCKS = '▁▂▃▄▅▆▇█';
/** One character a second, its height the share of the limit (█ at or above it, `^` above 1.5 × it). */
function sparkline(shares: readonly number[]): string {
  return shares.map((v) => (v > 1.5 ? '^' : BLOCKS[Math.min(BLOCKS.length - 1, Math.floor(v * (BLOCKS.length - 1) + 0.5))]!)).join('');
}

/** What the mock charged the jobs (each its last charged attempt) over faultline's estimate of them. */
function chargedRatio(log: readonly RequestLogEntry[], list: readonly { id: string; input: string; maxOutputTokens: number }[]): number {
  const byJob = new Map<string, number>();
  for (const e of log) if (e.benchId !== null && e.cost > 0) byJob.set(e.benchId, e.cost);
  let charged = 0;
  let estimated = 0;
  for (const job of list) {
    const c = byJob.get(job.id);
    if (c === undefined) continue;
    charged += c;
    estimated += costOf(job);
  }
  return charged / Math.max(1, estimated);
}

/** With a cost model the charge is noisy: the oracle takes what the mock charged each job (its last attempt). */
function chargedCosts(log: readonly RequestLogEntry[], count: number): number[] {
  const byJob = new Map<string, number>();
  for (const e of log) if (e.benchId !== null && e.cost > 0) byJob.set(e.benchId, e.cost);
  const costs = [...byJob.values()];
  return costs.length === count ? costs : costs.concat(Array.from({ length: count - costs.length }, () => Math.max(...costs)));
}

/** The cold start with a fresh Redis budget (a key nobody has used, so nothing is remembered). */
async function coldWithBudget(): Promise<Awaited<ReturnType<typeof coldStartRun>>> {
  const budget = redisBudget({ url: redisUrl, key: `bench-cold-${process.pid}-${Date.now()}`, commandTimeoutMs: 1000 });
  try {
    return await coldStartRun(budget);
  } finally {
    await budget.close();
  }
}

/** `cpu.ts --json --redis` as a child: a process that has not idled for minutes (see cpu.ts). */
function wrapperCpu(): Promise<WrapperCost> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, 'cpu.ts'), '--json', '--redis', ...(quick ? ['--count=2000', '--rounds=3'] : [])], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FAULTLINE_REDIS_URL: redisUrl } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as WrapperCost) : reject(new Error(`cpu.ts exited with ${String(code)}`))));
  });
}

function acquireBench(): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(here, 'acquire.ts'), quick ? '1000' : '3000'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FAULTLINE_REDIS_URL: redisUrl } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', () => resolve(out.trim()));
  });
}

const rows: Row[] = [];
try {
  for (const processes of PROCESSES) {
    for (const peer of PEER_NAMES) {
      if (processes === 1 && peer === '1/N manual split') continue; // the same as per-process at N = 1
      if (only !== undefined && peer !== only) continue;
      const row = await runPeer(peer, processes);
      rows.push(row);
      process.stderr.write(`  ${peer}, ${processes} process(es): efficiency ${row.efficiency.toFixed(3)}, 429 ${(row.rejectedShare * 100).toFixed(1)} %\n`);
    }
  }
  for (const cost of Object.keys(COSTS) as CostRow[]) {
    for (const peer of ['faultline+redis', 'faultline per-process'] as const) {
      if (only !== undefined && peer !== only) continue;
      const row = await runPeer(peer, 4, cost);
      rows.push(row);
      process.stderr.write(`  ${peer}, 4 processes, ${cost} (charged ×${row.chargedRatio.toFixed(3)} of the estimate): efficiency ${row.efficiency.toFixed(3)}, 429 ${(row.rejectedShare * 100).toFixed(1)} %\n`);
    }
  }
  const cpu = costOnly ? undefined : await wrapperCpu();
  const noCold = { ratio: NaN, rejected: 0, attempts: 0 };
  const cold = costOnly ? { perProcess: noCold, redis: noCold } : { perProcess: await coldStartRun(), redis: await coldWithBudget() };
  const acquire = costOnly ? '' : await acquireBench();

  const f3 = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '' : x.toFixed(3));
  const lines = [
    `# bench:redis — ${jobs.length} jobs of the seeded 'small' list (seed ${seed}), mock at ${LIMITS.rpm} RPM / ${LIMITS.tpm} TPM, burst ${BURST_MS} ms, real time`,
    '',
    '| peer | processes | work | efficiency vs oracle | attempts | % 429 | final failures | worst 10 s window / allowed | worst 2 s window / allowed | Redis calls/request | acquire p50 ms | acquire p99 ms |',
    '| --- | --: | --- | --: | --: | --: | --: | --: | --: | --: | --: | --: |',
    ...rows.map((r) => `| ${r.peer} | ${r.processes} | ${r.work}${r.chargedRatio !== 1 ? ` (charged ×${r.chargedRatio.toFixed(3)})` : ''} | ${f3(r.efficiency)} | ${r.attempts} | ${(r.rejectedShare * 100).toFixed(2)} | ${r.finalFailures} | ${f3(r.worstWindow)} | ${f3(r.worstShortWindow)} | ${r.redisCallsPerRequest?.toFixed(2) ?? ''} | ${f3(r.acquireP50Ms)} | ${f3(r.acquireP99Ms)} |`),
    '',
    'Efficiency: the oracle makespan over the run\'s (times the share of jobs that succeeded, when some failed). A window share above 1 is an overshoot of what GCRA allows in that window.',
    '',
    'Ratios at the largest process count (faultline+redis against each peer; efficiency: higher is better, 429 share: lower is better):',
  ];
  const top = Math.max(...PROCESSES);
  const ours = rows.find((r) => r.peer === 'faultline+redis' && r.processes === top && r.work === 'small');
  for (const r of ours === undefined ? [] : rows.filter((x) => x.processes === top && x.peer !== 'faultline+redis' && x.work === 'small')) {
    lines.push(`- vs ${r.peer}: efficiency ×${(ours!.efficiency / r.efficiency).toFixed(2)}, 429 share ${(ours!.rejectedShare * 100).toFixed(2)} % vs ${(r.rejectedShare * 100).toFixed(2)} %, final failures ${ours!.finalFailures} vs ${r.finalFailures}`);
  }
  lines.push(
    '',
    `Admitted tokens (and requests) per second over the run against the limit, one character a second: the share of the binding limit (${(LIMITS.tpm / 60).toFixed(0)} tokens/s or ${(LIMITS.rpm / 60).toFixed(0)} requests/s) = █; ^ = above 1.5 × it, which a 1 s burst allows for a moment. The series are in the JSON (tokensPerSecond, requestsPerSecond).`,
    '',
    '| peer | processes | work | admitted per second / limit | peak | mean |',
    '| --- | --: | --- | --- | --: | --: |',
    ...rows.map((r) => {
      const shares = shareOfLimit(r);
      return `| ${r.peer} | ${r.processes} | ${r.work} | \`${sparkline(shares)}\` | ${f3(Math.max(0, ...shares))} | ${f3(shares.reduce((a, b) => a + b, 0) / Math.max(1, shares.length))} |`;
    }),
  );
  lines.push(
    '',
    `Wrapper CPU per request (loopback server in a fresh process, client and server counted): ${cpu === undefined ? 'skipped' : describeWrapperCost(cpu)}`,
    `Cold start, 100 concurrent at 20 rps burst 5 (independent GCRA server): per-process ${cold.perProcess.ratio.toFixed(3)} of ideal (${cold.perProcess.rejected}/${cold.perProcess.attempts} attempts 429), with the Redis budget ${cold.redis.ratio.toFixed(3)} (${cold.redis.rejected}/${cold.redis.attempts})`,
    '',
    acquire,
  );
  process.stdout.write(lines.join('\n') + '\n');
  const json = { seed, jobs: jobs.length, costJobs: costJobs.length, costs: COSTS, limits: LIMITS, burstWindowMs: BURST_MS, rows, wrapperCpuUs: cpu ?? null, coldStart: cold, acquire };
  process.stdout.write('\n' + JSON.stringify(json) + '\n');
  const results = join(here, '..', 'results');
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, 'redis.json'), JSON.stringify(json, null, 2) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
  await stopRedis();
}
