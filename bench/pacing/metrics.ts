/** Metrics of one run, computed from the mock's ground-truth log and the client-side outcomes. */
import type { RequestLogEntry } from '../../src/mock/index.ts';
import { oracleMakespan } from './oracle.ts';
import { estimateTokens } from './peers.ts';
import type { Job } from './workloads.ts';

export interface Outcome {
  readonly start: number;
  readonly end: number;
  /** 'ok' or the catalog code of the final failure. */
  readonly code: string;
}

export interface RunMetrics {
  readonly peer: string;
  readonly workload: string;
  readonly burstWindowMs: number;
  readonly jobs: number;
  readonly succeeded: number;
  /** Oracle makespan of the jobs that succeeded (exact costs) / time until every job had ended. */
  readonly efficiency: number;
  readonly makespanMs: number;
  readonly oracleMakespanMs: number;
  readonly attempts: number;
  /** 429s from the server's limiter per attempt (injected incident 429s are not counted). */
  readonly rateLimitedPerAttempt: number;
  readonly attemptsPerRequest: number;
  readonly finalFailures: Readonly<Record<string, number>>;
  /** Attempts made after an attempt that failed with a non-retryable code. */
  readonly nonRetryableRetried: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Admitted tokens and limiter 429s per second of the run, for the chart. */
  readonly series: { readonly tokens: number[]; readonly rejected: number[] };
  /** Wall-clock time the simulated run took, in ms. */
  readonly wallMs: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const NON_RETRYABLE_OUTCOMES = new Set(['request_too_large', 'invalid_request', 'unauthorized', 'not_found']);

function nonRetryable(e: RequestLogEntry): boolean {
  return NON_RETRYABLE_OUTCOMES.has(e.outcome) || (e.fault ?? '').startsWith('quota');
}

export function measure(input: {
  peer: string;
  workload: string;
  burstWindowMs: number;
  limits: { rpm: number; tpm: number };
  jobs: readonly Job[];
  log: readonly RequestLogEntry[];
  outcomes: ReadonlyMap<string, Outcome>;
  start: number;
  wallMs: number;
}): RunMetrics {
  const { jobs, outcomes, start } = input;
  const log = input.log.filter((e) => e.benchId !== null);
  const okJobs = jobs.filter((j) => outcomes.get(j.id)?.code === 'ok');
  // The run's makespan: until the last job ended, in success or in final failure.
  const makespanMs = Math.max(start, ...[...outcomes.values()].map((o) => o.end)) - start;
  const oracle = oracleMakespan({ ...input.limits, burstWindowMs: input.burstWindowMs }, okJobs.map(estimateTokens));
  const finalFailures: Record<string, number> = {};
  for (const j of jobs) {
    const code = outcomes.get(j.id)?.code ?? 'not_finished';
    if (code !== 'ok') finalFailures[code] = (finalFailures[code] ?? 0) + 1;
  }
  const byJob = new Map<string, RequestLogEntry[]>();
  for (const e of log) {
    const list = byJob.get(e.benchId!) ?? [];
    list.push(e);
    byJob.set(e.benchId!, list);
  }
  let nonRetryableRetried = 0;
  for (const list of byJob.values()) {
    const first = list.findIndex(nonRetryable);
    if (first >= 0) nonRetryableRetried += list.length - first - 1;
  }
  const latencies = jobs.map((j) => outcomes.get(j.id)).filter((o): o is Outcome => o !== undefined).map((o) => o.end - o.start).sort((a, b) => a - b);
  const seconds = Math.ceil(Math.max(makespanMs, ...log.map((e) => e.t - start)) / 1000) + 1;
  const tokens = new Array<number>(seconds).fill(0);
  const rejected = new Array<number>(seconds).fill(0);
  for (const e of log) {
    const s = Math.floor((e.t - start) / 1000);
    if (s < 0 || s >= seconds) continue;
    if (e.admitted) tokens[s]! += e.cost;
    if (e.outcome === 'rate_limited_requests' || e.outcome === 'rate_limited_tokens') rejected[s]!++;
  }
  const limited = log.filter((e) => e.outcome === 'rate_limited_requests' || e.outcome === 'rate_limited_tokens').length;
  return {
    peer: input.peer,
    workload: input.workload,
    burstWindowMs: input.burstWindowMs,
    jobs: jobs.length,
    succeeded: okJobs.length,
    efficiency: makespanMs > 0 ? oracle / makespanMs : okJobs.length > 0 ? 1 : 0,
    makespanMs,
    oracleMakespanMs: oracle,
    attempts: log.length,
    rateLimitedPerAttempt: log.length > 0 ? limited / log.length : 0,
    attemptsPerRequest: jobs.length > 0 ? log.length / jobs.length : 0,
    finalFailures,
    nonRetryableRetried,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    series: { tokens, rejected },
    wallMs: input.wallMs,
  };
}
