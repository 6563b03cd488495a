/**
 * `npm run bench:chaos`: several worker processes on one SQLite journal, a seeded schedule of SIGKILLs
 * at every point of a job's life, overlapping resumeAll calls, webhooks on and off, against faultline's
 * mock (normal) and a hostile server. Prints a markdown table and one JSON line; exits 1 when an
 * invariant broke (lost silently, paid twice, delivered twice without a handler kill, lost though the id
 * was sent, a wait that never ended, a crash).
 *
 *   node bench/chaos/run.ts [--seed N] [--jobs N] [--workers N] [--quick] [--mode normal|hostile] [--webhooks on|off] [--keep]
 *
 * Loopback only; every run is bounded by its hard timeout, after which everything is killed and reported.
 */
import { abortAll, runChaos } from './harness.ts';
import { invariants, table, type ChaosFigures } from './report.ts';

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
};
const int = (name: string, fallback: number): number => {
  const raw = arg(name);
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`bench:chaos: --${name} must be a positive integer, got ${String(raw)}`);
  return n;
};
const quick = args.includes('--quick');
const seed = int('seed', 1);
const jobs = int('jobs', quick ? 12 : 36);
const workers = int('workers', quick ? 3 : 4);
const modes = (arg('mode')?.split(',') ?? ['normal', 'hostile']) as ('normal' | 'hostile')[];
const hooks = arg('webhooks') === undefined ? [false, true] : [arg('webhooks') === 'on'];
process.on('exit', abortAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

const runs: ChaosFigures[] = [];
for (const mode of modes) {
  for (const webhooks of hooks) {
    runs.push(await runChaos({ seed, mode, webhooks, jobs, workers, timeoutMs: quick ? 30_000 : 90_000, keep: args.includes('--keep'), log: (t) => process.stderr.write(`[chaos ${mode}${webhooks ? '+webhooks' : ''}] ${t}\n`) }));
  }
}
process.stdout.write(`\nchaos: seed ${seed}, ${workers} workers on one journal, ${jobs} jobs per run\n\n${table(runs)}\n\n`);
let broken = 0;
for (const r of runs) {
  for (const [name, holds] of invariants(r)) {
    if (holds) continue;
    broken++;
    process.stdout.write(`BROKEN (${r.mode}${r.webhooks ? ' + webhooks' : ''}): ${name}\n`);
  }
  if (Object.keys(r.examples).length > 0) process.stdout.write(`  examples: ${JSON.stringify(r.examples)}\n`);
}
process.stdout.write(JSON.stringify({ bench: 'chaos', seed, runs }) + '\n');
process.exitCode = broken === 0 ? 0 : 1;
