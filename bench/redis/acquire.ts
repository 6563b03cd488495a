/**
 * The cost of the shared budget from one process against one Redis: round trips per acquire (and per
 * request: acquire + reconcile), acquire latency p50/p99 one at a time, and acquires per second with
 * 64 in flight. Uses FAULTLINE_REDIS_URL, or starts a private redis-server on 127.0.0.1.
 *
 *   node bench/redis/acquire.ts [count]
 */
import { Redis } from 'ioredis';
import { redisBudget, type RedisClientLike } from '../../src/redis/index.ts';
import { anyRedis } from '../../test/redis/harness.ts';

const count = Number(process.argv[2] ?? 5000);
const { url, stop } = await anyRedis();
const raw = new Redis(url, { enableOfflineQueue: true });
let calls = 0;
const client: RedisClientLike = {
  call: (command, ...args) => {
    calls++;
    return raw.call(command, ...args);
  },
};
const budget = redisBudget({ client, key: `bench-${process.pid}`, rpm: 1e9, tpm: 1e12, commandTimeoutMs: 1000 });
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

// Warm-up: loads the script (EVALSHA's first NOSCRIPT → EVAL) and the connection.
for (let i = 0; i < 200; i++) await budget.acquire('gpt-bench', 100);

calls = 0;
const lat: number[] = [];
for (let i = 0; i < count; i++) {
  const t0 = performance.now();
  const d = await budget.acquire('gpt-bench', 100);
  lat.push(performance.now() - t0);
  if (d.kind !== 'grant') throw new Error('expected a grant');
}
const perAcquire = calls / count;

calls = 0;
for (let i = 0; i < 1000; i++) {
  const d = await budget.acquire('gpt-bench', 100);
  if (d.kind === 'grant') await budget.reconcile(d.grant, 80);
}
const perRequest = calls / 1000;

let done = 0;
const t0 = performance.now();
const endAt = t0 + 2000;
await Promise.all(
  Array.from({ length: 64 }, async () => {
    while (performance.now() < endAt) {
      await budget.acquire('gpt-bench', 100);
      done++;
    }
  }),
);
const perSecond = done / ((performance.now() - t0) / 1000);

const ping: number[] = [];
for (let i = 0; i < 2000; i++) {
  const t = performance.now();
  await raw.ping();
  ping.push(performance.now() - t);
}

const ms = (x: number): string => `${x.toFixed(3)} ms`;
process.stdout.write(
  [
    `redis: ${url}`,
    `round trips per acquire: ${perAcquire.toFixed(2)}; per request (acquire + reconcile): ${perRequest.toFixed(2)}`,
    `acquire latency (one at a time, n=${count}): p50 ${ms(pct(lat, 50))}, p99 ${ms(pct(lat, 99))}`,
    `PING latency for comparison: p50 ${ms(pct(ping, 50))}, p99 ${ms(pct(ping, 99))}`,
    `acquires per second, 64 in flight, one connection: ${Math.round(perSecond)}`,
  ].join('\n') + '\n',
);
await budget.close();
raw.disconnect();
await stop();
