/**
 * `npm run bench:pacing`: faultline's pacing and retries against the peers, on the mock server with
 * OpenAI-style limits (600 RPM, 100k TPM), metrics from the mock's ground-truth log.
 *
 * Time is simulated (see virtual-time.ts): every timer of every peer, the SDK and the mock runs on one
 * virtual clock that jumps ahead whenever all are waiting, so minutes of traffic take seconds of wall
 * time while the limits stay per *minute*, as OpenAI's are. Response latency is simulated too
 * (lognormal, median 600 ms).
 *
 *   npm run bench:pacing             quick mode: burst window 10 s, ~4,400 requests per peer and workload set
 *   npm run bench:pacing -- --full   full mode: burst windows 10 s and 60 s, ~14,600 requests per peer and set
 *   --only=faultline,bottleneck      a subset of peers (substring match); --seed=N another work list
 *
 * Then the cold start as its own row (bench/pacing/cold-start.ts: real time, an independent GCRA server).
 *
 * Writes bench/results/pacing.md, pacing.json and pacing.svg.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toError } from '../../src/index.ts';
import { createMock, type RequestLogEntry } from '../../src/mock/index.ts';
import { createPrng } from '../../src/mock/prng.ts';
import { measure, type Outcome, type RunMetrics } from './metrics.ts';
import { PEERS, type FetchFn, type Peer, type PeerContext } from './peers.ts';
import { chartSvg, markdown } from './report.ts';
import { runVirtual } from './virtual-time.ts';
import { workloads, type Workload } from './workloads.ts';
import { coldStart } from './cold-start.ts';

const args = process.argv.slice(2);
const full = args.includes('--full');
const seed = Number(args.find((a) => a.startsWith('--seed='))?.slice(7) ?? 42);
const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const LIMITS = { rpm: 600, tpm: 100_000 } as const;
const BURSTS = full ? [10_000, 60_000] : [10_000];
const SCALE = full ? 10 : 3;
const START = 1_767_225_600_000;
const MAX_VIRTUAL_MS = 6 * 3_600_000;
const LATENCY_MEDIAN_MS = 600;

async function runOne(peer: Peer, workload: Workload, burstWindowMs: number): Promise<RunMetrics> {
  const wall = performance.now();
  const rng = createPrng(seed);
  const realRandom = Math.random;
  // The SDK's and the peers' own jitter draw from Math.random: seed it too, so a run is repeatable.
  Math.random = () => rng.next();
  try {
    const { log, outcomes } = await runVirtual(START, MAX_VIRTUAL_MS, async (clock) => {
      const mock = createMock({ seed, clock, rateLimit: { ...LIMITS, burstWindowMs }, scenario: workload.scenario });
      const latency = createPrng(seed + 7);
      const delay = (): number => {
        const u = Math.max(latency.next(), 1e-12);
        return LATENCY_MEDIAN_MS * Math.exp(0.5 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * latency.next()));
      };
      const fetch: FetchFn = async (input, init) => {
        const wait = delay();
        try {
          return await mock.fetch(input, init);
        } finally {
          await clock.sleep(wait);
        }
      };
      const outcomes = new Map<string, Outcome>();
      const ctx: PeerContext = {
        jobs: workload.jobs,
        fetch,
        limits: LIMITS,
        random: () => rng.next(),
        now: clock.now,
        sleep: (ms) => clock.sleep(ms),
        async track(job, run) {
          const start = clock.now();
          try {
            await run();
            outcomes.set(job.id, { start, end: clock.now(), code: 'ok' });
          } catch (e) {
            outcomes.set(job.id, { start, end: clock.now(), code: toError(e).code });
          }
        },
      };
      await peer.run(ctx);
      await mock.close();
      return { log: mock.log.filter((e): e is RequestLogEntry => e.kind === 'request'), outcomes };
    });
    return measure({ peer: peer.name, workload: workload.name, burstWindowMs, limits: LIMITS, jobs: workload.jobs, log, outcomes, start: START, wallMs: performance.now() - wall });
  } finally {
    Math.random = realRandom;
  }
}

const peers = PEERS.filter((p) => only === undefined || only.some((o) => p.name.toLowerCase().includes(o.toLowerCase())));
const results: RunMetrics[] = [];
const wl = workloads(SCALE, seed);
process.stdout.write(`# Pacing benchmark (${full ? 'full' : 'quick'} mode, seed ${seed}): ${LIMITS.rpm} RPM, ${LIMITS.tpm} TPM, burst ${BURSTS.map((b) => `${b / 1000} s`).join(' and ')}\n\n`);
for (const burst of BURSTS) {
  for (const w of wl) {
    for (const peer of peers) {
      const m = await runOne(peer, w, burst);
      results.push(m);
      process.stderr.write(
        `${w.name.padEnd(7)} burst ${String(burst / 1000).padStart(2)} s  ${peer.name.padEnd(36)} eff ${m.efficiency.toFixed(3)}  429/att ${(m.rateLimitedPerAttempt * 100).toFixed(2)}%  att/req ${m.attemptsPerRequest.toFixed(2)}  failed ${JSON.stringify(m.finalFailures)}  nonretry-retried ${m.nonRetryableRetried}  (${(m.wallMs / 1000).toFixed(1)} s wall)\n`,
      );
    }
  }
}

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '..', 'results');
mkdirSync(outDir, { recursive: true });
const md = markdown(results, { limits: LIMITS, peers, workloads: wl, full, seed, latencyMedianMs: LATENCY_MEDIAN_MS });
// Its own row: real time against an independent GCRA server, not the virtual-time mock above.
const cold = await coldStart();
const coldMd = `\n## Cold start (real time, an independent GCRA server, not the mock)\n\n| case | peer | ideal / actual time | attempts | 429s |\n| --- | --- | --: | --: | --: |\n| 100 concurrent at 20 rps, burst 5 | faultline (createFetch) | ${cold.ratio.toFixed(3)} | ${cold.attempts} | ${cold.rejected} |\n`;
process.stdout.write(md + coldMd);
writeFileSync(join(outDir, 'pacing.md'), md + coldMd);
writeFileSync(join(outDir, 'pacing.json'), `${JSON.stringify({ mode: full ? 'full' : 'quick', seed, limits: LIMITS, bursts: BURSTS, results, coldStart: cold }, null, 2)}\n`);
writeFileSync(join(outDir, 'pacing.svg'), chartSvg(results.filter((r) => r.workload === 'mixed' && r.burstWindowMs === BURSTS[0]), LIMITS.tpm));
process.stdout.write(`\nWrote ${join('bench', 'results', 'pacing.{md,json,svg}')}\n`);
