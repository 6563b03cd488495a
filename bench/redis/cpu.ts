/**
 * The wrapper's own CPU per request: createFetch against bare fetch to a loopback server in this process,
 * interleaved rounds, the median of each (a busy neighbour skews both alike). With `--redis` (and
 * FAULTLINE_REDIS_URL, or a private redis-server) it adds createFetch with the Redis budget.
 *
 *   node bench/redis/cpu.ts [--count=3000] [--rounds=3] [--redis]
 *
 * `bench/redis/run.ts` runs the same measurement as part of `npm run bench:redis`.
 */
import { createServer } from 'node:http';
import { createFetch } from '../../src/retry/index.ts';
import type { SharedBudget } from '../../src/retry/budget.ts';

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** CPU time per request (µs) of `fetchFn` against `url`, `count` in sequence after a warm-up. */
async function cpuPerRequest(fetchFn: (url: string, init: RequestInit) => Promise<Response>, url: string, count: number): Promise<number> {
  const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there, how are you today?' }], max_tokens: 16 });
  const send = async (): Promise<void> => {
    const res = await fetchFn(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await res.arrayBuffer();
  };
  for (let i = 0; i < 1000; i++) await send(); // warm: the JIT, the connection pool
  const c0 = process.cpuUsage();
  for (let i = 0; i < count; i++) await send();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / count;
}

export interface WrapperCost {
  bareUs: number;
  faultlineUs: number;
  faultlineRedisUs: number;
  /** Every round's figure, in the order run. */
  rounds: { bare: number[]; faultline: number[]; redis: number[] };
}

/** Bare fetch, createFetch, and (given a budget) createFetch with it, in `rounds` interleaved rounds. */
export async function wrapperCost(count: number, rounds: number, budget?: SharedBudget): Promise<WrapperCost> {
  const reply = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [], usage: { prompt_tokens: 8, completion_tokens: 4 } });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-ratelimit-limit-requests': '1000000', 'x-ratelimit-remaining-requests': '999999', 'x-ratelimit-reset-requests': '0s' });
      res.end(reply);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/chat/completions`;
  try {
    const out = { bare: [] as number[], faultline: [] as number[], redis: [] as number[] };
    const plain = createFetch();
    const shared = budget === undefined ? undefined : createFetch({ budget });
    for (let r = 0; r < rounds; r++) {
      out.bare.push(await cpuPerRequest((u, i) => fetch(u, i), url, count));
      out.faultline.push(await cpuPerRequest(plain, url, count));
      if (shared !== undefined) out.redis.push(await cpuPerRequest(shared, url, count));
    }
    return { bareUs: median(out.bare), faultlineUs: median(out.faultline), faultlineRedisUs: shared === undefined ? NaN : median(out.redis), rounds: out };
  } finally {
    server.close();
  }
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
    const c = await wrapperCost(arg('count', 3000), arg('rounds', 3), budget);
    const f = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join('/');
    process.stdout.write(`bare ${c.bareUs.toFixed(0)} µs (${f(c.rounds.bare)}), createFetch ${c.faultlineUs.toFixed(0)} µs (${f(c.rounds.faultline)}), +${(c.faultlineUs - c.bareUs).toFixed(0)} µs` + (budget ? `, with Redis ${c.faultlineRedisUs.toFixed(0)} µs (+${(c.faultlineRedisUs - c.bareUs).toFixed(0)} µs)` : '') + '\n');
  } finally {
    await budget?.close();
    await stop();
  }
}
