/**
 * The wrapper's own CPU per request: createFetch against bare fetch to a loopback server in this process
 * (so both figures hold the server's share too; the difference is the wrapper's), and with `--redis` (and
 * FAULTLINE_REDIS_URL, or a private redis-server) createFetch with the Redis budget.
 *
 *   node bench/redis/cpu.ts [--count=4000] [--rounds=5] [--warm=3000] [--redis] [--json]
 *
 * How it measures, and why (the older version's two runs disagreed by 2×: +48 µs from this script, +105 µs
 * in bench:redis's row):
 * - **A fresh process**. bench:redis measured in its own process after minutes spent waiting for its
 *   worker processes. Idle, V8's memory reducer shrinks the heap ("Mark-Compact (reduce)", 176 → 17 MB
 *   committed here), and for the next ~8000 requests every request costs more: bare fetch 462, 299, 324
 *   … 154 µs per 2000-request window against ~150 µs in a process that never idled. A forced `gc()`
 *   does the same (bare fetch 210–250 µs instead of 120–180 µs), and it weighs on the wrapper more than
 *   on bare fetch: its overhead doubled (+50 → +95 µs) in this harness with a full GC around each
 *   window. So no GC is forced here, and bench:redis runs this script as a child (`--json`).
 * - **Warm to a steady state first.** Every variant runs `warm` requests, in turn, before any round. A
 *   fresh process keeps getting cheaper for ~5000 requests (the JIT tiering up undici and faultline); the
 *   older 1000-request warm-up left bench:redis's round 1 about 50 % dearer than its round 3 (bare fetch
 *   285 → 185 µs, createFetch 375 → 203 µs), and its 3-round median sat in the warm-up.
 * - **Long windows, paired rounds.** 4000 requests a window hold a few major GCs each, so garbage is
 *   paid for by the variant that made it, not by whichever runs when a GC lands. The overhead is the
 *   median of each round's own difference (rounds back to back, in an alternating order), not one
 *   median minus another.
 *
 * Wall-clock CPU on a shared machine stays noisy: read the ratio, and `bench/redis/cpu-instructions.ts`
 * for instruction counts (valgrind), which do not depend on the load.
 */
import { createServer } from 'node:http';
import { createFetch } from '../../src/retry/index.ts';
import type { SharedBudget } from '../../src/retry/budget.ts';

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Send = (url: string, init: RequestInit) => Promise<Response>;

/** The request every variant sends, and the answer the server gives (rate-limit headers included). */
export const BENCH_BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there, how are you today?' }], max_tokens: 16 });
export const BENCH_REPLY = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [], usage: { prompt_tokens: 8, completion_tokens: 4 } });
export const BENCH_HEADERS = { 'content-type': 'application/json', 'x-ratelimit-limit-requests': '1000000', 'x-ratelimit-remaining-requests': '999999', 'x-ratelimit-reset-requests': '0s' };

/** `count` requests through `send`, one at a time, each body read in full. */
export async function sendMany(send: Send, url: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const res = await send(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BENCH_BODY });
    await res.arrayBuffer();
  }
}

/** A loopback server answering every request with {@link BENCH_REPLY}; resolves to its URL and a stop. */
export async function benchServer(): Promise<{ url: string; close: () => void }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, BENCH_HEADERS);
      res.end(BENCH_REPLY);
    });
  });
  // Long keep-alive: under valgrind a request can take longer than the default 5 s idle close, and a
  // reused socket the server just closed fails with ECONNRESET.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/chat/completions`, close: () => server.close() };
}

/** CPU time per request (µs) of `count` requests (the whole process: client and server). */
async function window(send: Send, url: string, count: number): Promise<number> {
  const c0 = process.cpuUsage();
  await sendMany(send, url, count);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / count;
}

export interface WrapperCost {
  bareUs: number;
  faultlineUs: number;
  faultlineRedisUs: number;
  /** The median of each round's own difference from bare fetch, in µs. */
  overheadUs: number;
  overheadRedisUs: number;
  /** createFetch over bare fetch (and with the Redis budget), each the median of the rounds' ratios. */
  ratio: number;
  ratioRedis: number;
  count: number;
  warm: number;
  /** Every round's figure, in the order run. */
  rounds: { bare: number[]; faultline: number[]; redis: number[] };
}

export interface WrapperCostOptions {
  /** Requests per variant per round. */
  readonly count?: number;
  readonly rounds?: number;
  /** Requests per variant before the first round. */
  readonly warm?: number;
  readonly budget?: SharedBudget | undefined;
}

/** Bare fetch, createFetch, and (given a budget) createFetch with it, in `rounds` paired rounds. */
export async function wrapperCost(options: WrapperCostOptions = {}): Promise<WrapperCost> {
  const { count = 4000, rounds = 5, warm = 3000, budget } = options;
  const server = await benchServer();
  try {
    const variants: Array<[keyof WrapperCost['rounds'], Send]> = [
      ['bare', (u, i) => fetch(u, i)],
      ['faultline', createFetch()],
      ...(budget === undefined ? [] : [['redis', createFetch({ budget })] as [keyof WrapperCost['rounds'], Send]]),
    ];
    for (let done = 0; done < warm; done += 500) for (const [, send] of variants) await sendMany(send, server.url, Math.min(500, warm - done));
    const out = { bare: [] as number[], faultline: [] as number[], redis: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      // Alternate the order, so a slow drift does not always favour the variant that runs last.
      for (const [name, send] of r % 2 === 0 ? variants : [...variants].reverse()) out[name].push(await window(send, server.url, count));
    }
    const paired = (xs: number[], f: (x: number, bare: number) => number): number => (xs.length === 0 ? NaN : median(xs.map((x, i) => f(x, out.bare[i]!))));
    return {
      bareUs: median(out.bare),
      faultlineUs: median(out.faultline),
      faultlineRedisUs: out.redis.length === 0 ? NaN : median(out.redis),
      overheadUs: paired(out.faultline, (x, b) => x - b),
      overheadRedisUs: paired(out.redis, (x, b) => x - b),
      ratio: paired(out.faultline, (x, b) => x / b),
      ratioRedis: paired(out.redis, (x, b) => x / b),
      count,
      warm,
      rounds: out,
    };
  } finally {
    server.close();
  }
}

/** One line for a table: the medians, the paired overheads and ratios. */
export function describeWrapperCost(c: WrapperCost): string {
  const f = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join('/');
  return (
    `bare fetch ${c.bareUs.toFixed(0)} µs (${f(c.rounds.bare)}), createFetch ${c.faultlineUs.toFixed(0)} µs (${f(c.rounds.faultline)}): ` +
    `+${c.overheadUs.toFixed(0)} µs, ×${c.ratio.toFixed(2)}` +
    (c.rounds.redis.length > 0 ? `; with the Redis budget ${c.faultlineRedisUs.toFixed(0)} µs (${f(c.rounds.redis)}): +${c.overheadRedisUs.toFixed(0)} µs, ×${c.ratioRedis.toFixed(2)}` : '') +
    ` (${c.rounds.bare.length} paired rounds of ${c.count} requests after ${c.warm} to warm)`
  );
}

if (import.meta.main) {
  const arg = (name: string, def: number): number => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def);
  let budget: (SharedBudget & { close(): Promise<void> }) | undefined;
  let stop = async (): Promise<void> => {};
  if (process.argv.includes('--redis')) {
    const { anyRedis } = await import('../../test/redis/harness.ts');
    const { redisBudget } = await import('../../src/redis/index.ts');
    const r = await anyRedis();
    stop = r.stop;
    budget = redisBudget({ url: r.url, key: `bench-cpu-${process.pid}`, rpm: 1e9, tpm: 1e12, commandTimeoutMs: 1000 });
  }
  try {
    const c = await wrapperCost({ count: arg('count', 4000), rounds: arg('rounds', 5), warm: arg('warm', 3000), budget });
    process.stdout.write((process.argv.includes('--json') ? JSON.stringify(c) : describeWrapperCost(c)) + '\n');
  } finally {
    await budget?.close();
    await stop();
  }
}
