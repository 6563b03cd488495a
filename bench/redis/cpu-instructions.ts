/**
 * The wrapper's cost in machine instructions per request, which a loaded machine does not change: each
 * variant (bare fetch, createFetch) runs under `valgrind --tool=callgrind` twice, with `warm` requests and
 * with `warm + count`, and the difference over `count` is its instructions per request (the start-up, the
 * imports and the warm-up cancel out). Client and server are counted, as in `cpu.ts`. V8 runs with
 * `--single-threaded` (with background compilation and GC threads the JIT's work lands in the window or
 * not). Even so, over the loopback socket bare fetch alone measured 1008–1219 k instructions per request
 * in four runs (±10 %), as much as the wrapper's whole cost: run it several times, before and after, and
 * compare the spreads. An in-process stub fetch (no socket) repeats within ~5 %. Slow (valgrind runs node
 * ~30× slower): a few minutes at the defaults.
 *
 *   node bench/redis/cpu-instructions.ts [--warm=2000] [--count=2000] [--json]
 *
 * Needs `valgrind` on PATH.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createFetch } from '../../src/retry/index.ts';
import { benchServer, sendMany } from './cpu.ts';

const arg = (name: string, def: number): number => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def);
const child = process.argv.find((a) => a.startsWith('--child='))?.slice('--child='.length);

/** Instructions executed by this script as `--child=variant` with `total` requests. */
function instructions(variant: string, total: number): number {
  const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, '--single-threaded', fileURLToPath(import.meta.url), `--child=${variant}`, `--count=${total}`], { encoding: 'utf8' });
  const m = /Collected\s*:\s*(\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || m === null) throw new Error(`valgrind ${variant} ${total}: ${r.error?.message ?? r.stderr.slice(-500)}`);
  return Number(m[1]);
}

if (child !== undefined) {
  const server = await benchServer();
  await sendMany(child === 'bare' ? (u, i) => fetch(u, i) : createFetch(), server.url, arg('count', 0));
  server.close();
} else if (import.meta.main) {
  const warm = arg('warm', 2000);
  const count = arg('count', 2000);
  const per: Record<string, number> = {};
  for (const v of ['bare', 'createFetch']) per[v] = (instructions(v, warm + count) - instructions(v, warm)) / count;
  const bare = per['bare']!;
  const wrapped = per['createFetch']!;
  process.stdout.write(`instructions per request (callgrind, ${count} requests after ${warm}): bare fetch ${(bare / 1e3).toFixed(0)} k, createFetch ${(wrapped / 1e3).toFixed(0)} k: +${((wrapped - bare) / 1e3).toFixed(0)} k, ×${(wrapped / bare).toFixed(3)}\n`);
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify({ warm, count, bare, createFetch: wrapped }) + '\n');
}
