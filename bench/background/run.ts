/**
 * Background waiting benchmark: how long after the server-side terminal transition the caller learns
 * of it, and how many requests each job costs, for
 *   - faultline stream  (createAndWait, stream: true: one create, events pushed),
 *   - faultline polling (waitForResponse with the default age-proportional policy),
 *   - fixed 5 s polling (what most hand-written loops and SDK helpers do).
 *
 * Part 1 runs on the mock's manual clock (in-process, the real `openai` SDK over `mock.fetch`), so jobs
 * of ten seconds to thirty minutes take a few seconds. Part 2 measures the stream on the real clock over
 * 127.0.0.1 (the mock's node adapter), where latency includes HTTP and SSE parsing.
 *
 * Targets (issue 4): stream ≤ 250 ms; polling ≤ max(1 s, 10 % of the job's age) while spending fewer
 * requests than fixed polling. Prints a table, then one JSON document.
 *
 *   node bench/background/run.ts [--quick]
 */
import OpenAI from 'openai';
import { createManualClock, createMock, listen, type Mock } from '../../src/mock/index.ts';
import { createAndWait, waitForResponse } from '../../src/background/wait.ts';

const quick = process.argv.includes('--quick');
const QUEUED_MS = 500;
const DURATIONS_S = quick ? [10, 60, 600] : [10, 30, 60, 120, 300, 600, 1800];
const REPEATS = quick ? 2 : 5;
const STRATEGIES = ['faultline-stream', 'faultline-poll', 'fixed-5s-poll'] as const;
type Strategy = (typeof STRATEGIES)[number];

/** A small seeded PRNG (mulberry32) so runs are repeatable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Sample {
  strategy: Strategy;
  durationS: number;
  latencyMs: number;
  requests: number;
}

async function simulated(strategy: Strategy, durationS: number, seed: number): Promise<Sample> {
  // Each repeat's job lasts the nominal duration ±10 % (the same for every strategy), so no strategy
  // is lucky enough to poll exactly at a round-number completion.
  const runMs = Math.round(durationS * 1000 * (0.9 + 0.2 * prng(seed * 7919)()) - QUEUED_MS);
  const mock: Mock = createMock({ clock: createManualClock(), background: { queuedMs: QUEUED_MS, runMs } });
  const client = new OpenAI({ apiKey: 'sk-bench-mock-00000000', baseURL: 'http://mock.local/v1', fetch: mock.fetch, maxRetries: 0 });
  const clock = mock.clock;
  const t0 = mock.now();
  const endAt = t0 + QUEUED_MS + runMs;
  let notifiedAt: number | undefined;
  let job: Promise<unknown>;
  if (strategy === 'faultline-stream') {
    job = createAndWait(client, { model: 'gpt-4o-mini', input: 'bench' }, { timeoutMs: 7_200_000, stream: true, random: prng(seed), clock });
  } else {
    const created = await client.responses.create({ model: 'gpt-4o-mini', input: 'bench', background: true, store: true });
    if (strategy === 'faultline-poll') {
      job = waitForResponse(client, created, { timeoutMs: 7_200_000, random: prng(seed), clock });
    } else {
      job = (async () => {
        for (;;) {
          const r = await client.responses.retrieve(created.id);
          if (r.status !== 'queued' && r.status !== 'in_progress') return r;
          await clock.sleep(5000);
        }
      })();
    }
  }
  const done = job.then(
    () => (notifiedAt = mock.now()),
    () => (notifiedAt = mock.now()),
  );
  // Coarse steps far from the end, fine steps near it (latency is read from the mock's log below).
  while (notifiedAt === undefined) await mock.advance(mock.now() < endAt - 2000 ? 100 : 10);
  await done;
  const requests = mock.log.filter((e) => e.kind === 'request').length;
  // Polling: the moment of the request that saw the terminal state, from the server's own log.
  const gets = mock.log.filter((e) => e.kind === 'request' && e.method === 'GET');
  const seenAt = strategy === 'faultline-stream' ? notifiedAt : (gets.at(-1)?.t ?? notifiedAt);
  await mock.close();
  return { strategy, durationS, latencyMs: Math.max(0, seenAt - endAt), requests };
}

async function realStream(jobs: number, runMs: number): Promise<{ latenciesMs: number[]; requests: number }> {
  const server = await listen({ mock: { background: { queuedMs: 100, runMs } } });
  try {
    const client = new OpenAI({ apiKey: 'sk-bench-mock-00000000', baseURL: server.url, maxRetries: 0 });
    const latencies = await Promise.all(
      Array.from({ length: jobs }, async () => {
        const res = await createAndWait(client, { model: 'gpt-4o-mini', input: 'bench' }, { timeoutMs: 60_000, stream: true });
        const notifiedAt = Date.now();
        // The server's own clock (the same machine's) says when the create arrived.
        const create = server.mock.log.find((e) => e.kind === 'request' && e.method === 'POST' && e.objectId === res.id);
        return notifiedAt - ((create?.t ?? NaN) + 100 + runMs);
      }),
    );
    return { latenciesMs: latencies, requests: server.mock.log.filter((e) => e.kind === 'request').length / jobs };
  } finally {
    await server.close();
  }
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
};
const fmt = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);

const started = Date.now();
const rows: { durationS: number; strategy: Strategy; requestsPerJob: number; latencyP50Ms: number; latencyMaxMs: number; targetMs: number | null; meetsLatency: boolean | null; fewerRequestsThanFixed: boolean | null }[] = [];
for (const durationS of DURATIONS_S) {
  const byStrategy = new Map<Strategy, Sample[]>();
  for (const strategy of STRATEGIES) {
    const samples: Sample[] = [];
    for (let i = 0; i < REPEATS; i++) samples.push(await simulated(strategy, durationS, 1000 + i));
    byStrategy.set(strategy, samples);
  }
  const fixedReq = (byStrategy.get('fixed-5s-poll') ?? []).reduce((a, s) => a + s.requests, 0) / REPEATS;
  for (const strategy of STRATEGIES) {
    const samples = byStrategy.get(strategy) ?? [];
    const lat = samples.map((s) => s.latencyMs);
    const req = samples.reduce((a, s) => a + s.requests, 0) / samples.length;
    const target = strategy === 'faultline-poll' ? Math.max(1000, 0.1 * durationS * 1000) : strategy === 'faultline-stream' ? 250 : null;
    rows.push({
      durationS,
      strategy,
      requestsPerJob: Math.round(req * 10) / 10,
      latencyP50Ms: pct(lat, 0.5),
      latencyMaxMs: Math.max(...lat),
      targetMs: target,
      meetsLatency: target === null ? null : Math.max(...lat) <= target,
      fewerRequestsThanFixed: strategy === 'fixed-5s-poll' ? null : req < fixedReq,
    });
  }
}
const real = await realStream(quick ? 3 : 8, 1500);

const header = ['job', 'strategy', 'requests/job', 'latency p50', 'latency max', 'target', 'latency ok', 'fewer req than 5 s'];
const lines = rows.map((r) => [
  `${r.durationS} s`,
  r.strategy,
  String(r.requestsPerJob),
  fmt(r.latencyP50Ms),
  fmt(r.latencyMaxMs),
  r.targetMs === null ? '-' : `≤ ${fmt(r.targetMs)}`,
  r.meetsLatency === null ? '-' : r.meetsLatency ? 'yes' : 'NO',
  r.fewerRequestsThanFixed === null ? '-' : r.fewerRequestsThanFixed ? 'yes' : 'no',
]);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
const row = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(`Background waiting: simulated clock, ${REPEATS} runs per cell (each job lasts its nominal duration ±10 %, ${QUEUED_MS} ms of it queued)\n`);
console.log(row(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const l of lines) console.log(row(l));
console.log(
  `\nStream on the real clock over 127.0.0.1 (${real.latenciesMs.length} jobs of 1.6 s): latency p50 ${fmt(pct(real.latenciesMs, 0.5))}, max ${fmt(Math.max(...real.latenciesMs))} (target ≤ 250 ms), ${real.requests} request(s)/job`,
);
console.log(`\nwall time ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
console.log(JSON.stringify({ bench: 'background', quick, queuedMs: QUEUED_MS, repeats: REPEATS, simulated: rows, realStream: { jobs: real.latenciesMs.length, runMs: 1600, latenciesMs: real.latenciesMs, requestsPerJob: real.requests } }, null, 2));
