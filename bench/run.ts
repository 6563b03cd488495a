/**
 * `npm run bench`: every benchmark, one after the other, each printing its own table and JSON.
 * `npm run bench -- --only classify,mock` runs a subset; `--full` is passed through to those that have a
 * long mode (pacing, chaos, redis). Each benchmark is bounded in time and sends traffic to 127.0.0.1 only.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const BENCHES: ReadonlyArray<readonly [string, string, readonly string[]]> = [
  ['classify', join(here, 'classify.ts'), []],
  ['mock', join(here, 'mock', 'throughput.ts'), []],
  ['background', join(here, 'background', 'run.ts'), ['--quick']],
  ['pacing', join(here, 'pacing', 'run.ts'), []],
  ['chaos', join(here, 'chaos', 'run.ts'), ['--quick']],
  ['redis', join(here, 'redis', 'run.ts'), ['--quick']],
];

const args = process.argv.slice(2);
const onlyArg = args.find((a) => a.startsWith('--only='))?.slice('--only='.length) ?? (args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined);
const only = onlyArg?.split(',').map((s) => s.trim());
const full = args.includes('--full');
let failed = 0;
for (const [name, file, defaults] of BENCHES) {
  if (only && !only.includes(name)) continue;
  if (!existsSync(file)) {
    process.stdout.write(`\n## ${name}: missing (${file})\n`);
    failed++;
    continue;
  }
  process.stdout.write(`\n## ${name}\n\n`);
  const extra = full ? defaults.filter((a) => a !== '--quick').concat('--full') : defaults;
  const r = spawnSync(process.execPath, [file, ...extra], { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stdout.write(`\n${name} exited with ${String(r.status ?? r.signal)}\n`);
    failed++;
  }
}
process.exitCode = failed === 0 ? 0 : 1;
