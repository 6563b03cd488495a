/**
 * Several Node processes share one redisBudget; an independent loopback server, written here from
 * node:http (not faultline's mock), logs when each request arrives and what it costs. From that log
 * alone: the combined admitted rate stays within the limit in every window, for requests and tokens.
 * One process runs on a clock a day off. A control run with one key per process (each pacing alone)
 * shows the check can fail.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { anyRedis, redisSkip, runWorker, startRedis, uniqueKey, type RedisProcess } from './harness.ts';

const WORKER = fileURLToPath(new URL('./fixtures/budget-worker.ts', import.meta.url));
const RPM = 1200;
const TPM = 120_000;
const BURST_MS = 200;

interface Arrival {
  readonly t: number;
  readonly proc: string;
  readonly tokens: number;
}

async function loopback(): Promise<{ url: string; log: Arrival[]; server: Server }> {
  const log: Arrival[] = [];
  const server = createServer((req, res) => {
    log.push({ t: performance.now(), proc: String(req.headers['x-proc']), tokens: Number(req.headers['x-tokens']) });
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, log, server };
}

function run(args: string[]): Promise<string> {
  return runWorker(WORKER, args, 40_000);
}

/** The most requests and tokens that arrived in any window of `windowMs`. */
function worstWindow(log: readonly Arrival[], windowMs: number): { requests: number; tokens: number } {
  const xs = [...log].sort((a, b) => a.t - b.t);
  let requests = 0;
  let tokens = 0;
  let j = 0;
  let sum = 0;
  for (let i = 0; i < xs.length; i++) {
    sum += xs[i]!.tokens;
    while (xs[i]!.t - xs[j]!.t >= windowMs) sum -= xs[j++]!.tokens;
    requests = Math.max(requests, i - j + 1);
    tokens = Math.max(tokens, sum);
  }
  return { requests, tokens };
}

/** GCRA's bound for a window: (window + burst tolerance) / interval + one, plus `slack` for timer lateness. */
function bound(windowMs: number, perMinute: number, largest: number, slack: number): number {
  return ((windowMs + BURST_MS) * perMinute) / 60_000 + largest + slack;
}

/** Runs `procs` workers against a fresh loopback server; `during` runs while they work. */
async function runWorkers(redisUrl: string, keyOf: (i: number) => string, procs: number, count: number, extra?: object, during?: () => Promise<void>): Promise<{ log: Arrival[]; elapsedMs: number; outs: string[] }> {
  const { url: serverUrl, log, server } = await loopback();
  try {
    const t0 = performance.now();
    // Process 1's clock is a day behind, process 2's an hour ahead.
    const skews = [0, -86_400_000, 3_600_000, 0];
    const running = Promise.all(Array.from({ length: procs }, (_, i) => run([redisUrl, keyOf(i), serverUrl, `p${i}`, String(count), '3', String(skews[i % 4]), ...(extra !== undefined ? [JSON.stringify(extra)] : [])])));
    await during?.();
    const outs = await running;
    return { log, elapsedMs: performance.now() - t0, outs };
  } finally {
    server.close();
  }
}

describe('one budget, several processes', { skip: redisSkip(), timeout: 90_000 }, () => {
  let url = '';
  let stop: () => Promise<void> = async () => {};
  before(async () => {
    ({ url, stop } = await anyRedis());
  });
  after(async () => stop());

  const workers = async (keyOf: (i: number) => string, procs: number, count: number): Promise<{ log: Arrival[]; elapsedMs: number; outs: string[] }> => runWorkers(url, keyOf, procs, count);

  test('four processes (two on clocks far off): within the limit in every window, and close to it overall', async () => {
    const key = uniqueKey('procs');
    const procs = 4;
    const count = 30;
    const { log, outs } = await workers(() => key, procs, count);
    assert.equal(log.length, procs * count);
    for (const o of outs) assert.deepEqual(JSON.parse(o).sources, { shared: count, local: 0 });
    for (const w of [500, 1000, 3000]) {
      const worst = worstWindow(log, w);
      assert.ok(worst.requests <= bound(w, RPM, 1, 2), `requests in a ${w} ms window: ${worst.requests} > ${bound(w, RPM, 1, 2)}`);
      assert.ok(worst.tokens <= bound(w, TPM, 200, 400), `tokens in a ${w} ms window: ${worst.tokens} > ${bound(w, TPM, 200, 400)}`);
    }
    // Efficiency: 120 requests, 12 000 tokens at 2 000 tokens/s (the binding limit) is about 6 s less the burst.
    const ts = log.map((a) => a.t);
    const span = Math.max(...ts) - Math.min(...ts);
    const ideal = ((procs * count * 100 - (TPM * BURST_MS) / 60_000) * 60_000) / TPM;
    assert.ok(span >= ideal * 0.9, `not faster than the limit allows: ${Math.round(span)} ms vs ${Math.round(ideal)} ms`);
    assert.ok(span <= ideal * 1.25, `and not much slower: ${Math.round(span)} ms vs ${Math.round(ideal)} ms`);
    const perProc = new Map<string, number>();
    for (const a of log) perProc.set(a.proc, (perProc.get(a.proc) ?? 0) + 1);
    assert.equal(perProc.size, procs);
  });

  test('control: one key per process (each paces alone) overshoots the same check', async () => {
    const base = uniqueKey('control');
    const { log } = await workers((i) => `${base}-${i}`, 4, 12);
    const worst = worstWindow(log, 1000);
    assert.ok(worst.requests > bound(1000, RPM, 1, 2) || worst.tokens > bound(1000, TPM, 200, 400), `expected an overshoot: ${JSON.stringify(worst)}`);
  });
});

describe('one budget, several processes, Redis killed mid-run', { skip: redisSkip(true), timeout: 90_000 }, () => {
  let redis: RedisProcess;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => redis.stop());

  test('every process falls back to its share, nobody hangs, all return to the shared budget; the limit holds but for one burst of its share per process at each switch', async () => {
    const procs = 3;
    const count = 40;
    const key = uniqueKey('outage');
    const { log, outs } = await runWorkers(redis.url, () => key, procs, count, { fallbackShare: 1 / procs, commandTimeoutMs: 200, recoverCheckMs: 200 }, async () => {
      await new Promise((r) => setTimeout(r, 1500));
      await redis.kill();
      await new Promise((r) => setTimeout(r, 1500));
      await redis.restart();
    });
    assert.equal(log.length, procs * count, 'every request went out: no hang');
    for (const o of outs) {
      const { sources } = JSON.parse(o) as { sources: { shared: number; local: number } };
      assert.ok(sources.local > 0, `fell back: ${o}`);
      assert.ok(sources.shared > 0, `shared before and after: ${o}`);
    }
    // At a switch (down, or back to an empty Redis) each process may spend one fresh burst of its share:
    // (burst × its rate) + 1 requests and as many tokens. Switches are 1.5 s apart, so one per 1 s window.
    const share = 1 / procs;
    const requestSlack = procs * Math.ceil((BURST_MS * RPM * share) / 60_000 + 1);
    const tokenSlack = procs * ((BURST_MS * TPM * share) / 60_000 + 200);
    const worst = worstWindow(log, 1000);
    assert.ok(worst.requests <= bound(1000, RPM, 1, 2) + requestSlack, `requests in a 1 s window: ${worst.requests} > ${bound(1000, RPM, 1, 2) + requestSlack}`);
    assert.ok(worst.tokens <= bound(1000, TPM, 200, 400) + tokenSlack, `tokens in a 1 s window: ${worst.tokens} > ${bound(1000, TPM, 200, 400) + tokenSlack}`);
  });
});
