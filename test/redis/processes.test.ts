/**
 * Several Node processes share one redisBudget; an independent loopback server, written here from
 * node:http (not faultline's mock), logs when each request arrives and what it costs. From that log
 * alone: the combined admitted rate stays within the limit in every window, for requests and tokens.
 * One process runs on a clock a day off. A control run with one key per process (each pacing alone)
 * shows the check can fail.
 *
 * Two views, so that a busy machine changes neither verdict. The budget's decisions: each request carries
 * the slot it was granted (Redis's clock, placed within the acquire call's duration, see the worker);
 * GCRA bounds those slots exactly, with no allowance for timers. What went out: the server's receive
 * times, each at or after its slot (nothing is sent early); the same window check holds on them with the
 * spread of the measured delays (receive time less slot) added to the window, since delays that differ
 * by Δ can bring requests up to Δ closer together than their slots. The processes start together (a
 * barrier at the server), so a slow start-up cannot spread the control run out.
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
/** In the outage run: Redis is killed this long after the processes start, and restarted this long after. */
const SWITCH_GAP_MS = 1500;

interface Arrival {
  /** Received, epoch ms. */
  readonly t: number;
  readonly proc: string;
  readonly tokens: number;
  /** The slot its grant was for lies in [lo, hi], epoch ms on Redis's clock. */
  readonly lo: number;
  readonly hi: number;
}

/** The independent server; `/ready` answers once `procs` processes have called it (`started` then resolves). */
async function loopback(procs: number): Promise<{ url: string; log: Arrival[]; server: Server; started: Promise<void> }> {
  const log: Arrival[] = [];
  const waiting: (() => void)[] = [];
  let start!: () => void;
  const started = new Promise<void>((r) => (start = r));
  const server = createServer((req, res) => {
    if (req.url === '/ready') {
      waiting.push(() => res.end());
      if (waiting.length === procs) {
        for (const go of waiting) go();
        start();
      }
      return;
    }
    const h = (name: string): number => Number(req.headers[name]);
    log.push({ t: Date.now(), proc: String(req.headers['x-proc']), tokens: h('x-tokens'), lo: h('x-slot-lo'), hi: h('x-slot-hi') });
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, log, server, started };
}

function run(args: string[]): Promise<string> {
  return runWorker(WORKER, args, 40_000);
}

/**
 * The most requests and tokens in any window of `windowMs` among events placed in [lo, hi]: an event
 * counts for a window only if it certainly lies in it, so the count never exceeds the true one.
 */
function worstWindow(events: readonly { lo: number; hi: number; tokens: number }[], windowMs: number): { requests: number; tokens: number } {
  let requests = 0;
  let tokens = 0;
  for (const start of events) {
    const inside = events.filter((e) => e.lo >= start.lo && e.hi < start.lo + windowMs);
    requests = Math.max(requests, inside.length);
    tokens = Math.max(tokens, inside.reduce((n, e) => n + e.tokens, 0));
  }
  return { requests, tokens };
}

const slotsOf = (log: readonly Arrival[]): { lo: number; hi: number; tokens: number }[] => log.map(({ lo, hi, tokens }) => ({ lo, hi, tokens }));
const receivedOf = (log: readonly Arrival[]): { lo: number; hi: number; tokens: number }[] => log.map(({ t, tokens }) => ({ lo: t, hi: t, tokens }));

/** The spread of the delays from slot to receipt: the most they can bring two requests closer together. */
function delaySpread(log: readonly Arrival[]): number {
  const late = log.map((a) => a.t - a.lo);
  const early = log.map((a) => a.t - a.hi);
  return Math.max(...late) - Math.min(...early);
}

/**
 * GCRA's bound for a window: with an emission interval T and a burst window B (tolerance B - T), at most
 * (window + B) / T requests, or tokens, fall in a window, plus the largest single cost (one request that
 * the burst admits whatever its size).
 */
function bound(windowMs: number, perMinute: number, largest: number): number {
  return ((windowMs + BURST_MS) * perMinute) / 60_000 + largest;
}

/** Both views within the bound (the receive times with the delay spread added to the window); `slack(ms)` more in a window of ms. */
function assertWithin(log: readonly Arrival[], windowMs: number, slack = (_ms: number) => ({ requests: 0, tokens: 0 })): void {
  const spread = delaySpread(log);
  for (const [view, events, extraMs] of [['slots', slotsOf(log), 0], ['received', receivedOf(log), spread]] as const) {
    const worst = worstWindow(events, windowMs);
    const more = slack(windowMs + extraMs);
    const maxRequests = bound(windowMs + extraMs, RPM, 1) + more.requests;
    const maxTokens = bound(windowMs + extraMs, TPM, 200) + more.tokens;
    assert.ok(worst.requests <= maxRequests, `${view}: requests in a ${windowMs} ms window: ${worst.requests} > ${maxRequests} (delay spread ${Math.round(spread)} ms)`);
    assert.ok(worst.tokens <= maxTokens, `${view}: tokens in a ${windowMs} ms window: ${worst.tokens} > ${maxTokens} (delay spread ${Math.round(spread)} ms)`);
  }
  // Nothing went out before its slot (1 ms: the two processes' Date.now() round apart).
  for (const a of log) assert.ok(a.t >= a.lo - 1, `${a.proc} sent before its slot: received ${a.t}, slot from ${a.lo}`);
}

/** Runs `procs` workers against a fresh loopback server; `during` runs while they work. */
async function runWorkers(redisUrl: string, keyOf: (i: number) => string, procs: number, count: number, extra?: object, during?: () => Promise<void>): Promise<{ log: Arrival[]; elapsedMs: number; outs: string[] }> {
  const { url: serverUrl, log, server, started } = await loopback(procs);
  try {
    const t0 = performance.now();
    // Process 1's clock is a day behind, process 2's an hour ahead.
    const skews = [0, -86_400_000, 3_600_000, 0];
    const running = Promise.all(Array.from({ length: procs }, (_, i) => run([redisUrl, keyOf(i), serverUrl, `p${i}`, String(count), '3', String(skews[i % 4]), ...(extra !== undefined ? [JSON.stringify(extra)] : [])])));
    await Promise.race([started, running]);
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
    for (const w of [500, 1000, 3000]) assertWithin(log, w);
    // Efficiency, on the slots: 120 requests, 12 000 tokens at 2 000 tokens/s (the binding limit) is about 6 s less the burst.
    const span = Math.max(...log.map((a) => a.hi)) - Math.min(...log.map((a) => a.lo));
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
    // On the slots (each certainly in its window): the budgets' own decisions overshoot.
    const worst = worstWindow(slotsOf(log), 1000);
    assert.ok(worst.requests > bound(1000, RPM, 1) || worst.tokens > bound(1000, TPM, 200), `expected an overshoot: ${JSON.stringify(worst)}`);
    assert.throws(() => assertWithin(log, 1000), /requests|tokens/);
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
      await new Promise((r) => setTimeout(r, SWITCH_GAP_MS));
      await redis.kill();
      await new Promise((r) => setTimeout(r, SWITCH_GAP_MS));
      await redis.restart();
    });
    assert.equal(log.length, procs * count, 'every request went out: no hang');
    for (const o of outs) {
      const { sources } = JSON.parse(o) as { sources: { shared: number; local: number } };
      assert.ok(sources.local > 0, `fell back: ${o}`);
      assert.ok(sources.shared > 0, `shared before and after: ${o}`);
    }
    // At a switch (down, or back to an empty Redis) each process may spend one fresh burst of its share:
    // (burst × its rate) + 1 requests and as many tokens. Switches are 1.5 s apart (after the processes
    // started together), so one per 1 s window, and one more once the delay spread widens it past 1.5 s.
    const share = 1 / procs;
    const requestSlack = procs * Math.ceil((BURST_MS * RPM * share) / 60_000 + 1);
    const tokenSlack = procs * ((BURST_MS * TPM * share) / 60_000 + 200);
    const switches = (ms: number): number => Math.ceil(ms / SWITCH_GAP_MS);
    assertWithin(log, 1000, (ms) => ({ requests: switches(ms) * requestSlack, tokens: switches(ms) * tokenSlack }));
  });
});
