/**
 * Build: compile src/ to dist/ with tsc (ESM + .d.ts), make the bin executable, then load the built
 * entry points the way a user would, so a broken build fails here and not in someone's app.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = require.resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);

const bin = join(root, 'dist', 'cli', 'main.js');
if (existsSync(bin)) chmodSync(bin, 0o755);

// Smoke: every declared export resolves and loads.
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | { default: string }> };
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (subpath === './package.json') continue;
  const file = typeof target === 'string' ? target : target.default;
  const mod = (await import(pathToFileURL(join(root, file)).href)) as Record<string, unknown>;
  if (Object.keys(mod).length === 0) throw new Error(`built ${subpath} (${file}) exports nothing`);
}
const core = (await import(pathToFileURL(join(root, 'dist', 'index.js')).href)) as typeof import('../src/index.ts');
if (core.classify({ status: 429, body: { error: { code: 'insufficient_quota' } } }).code !== 'insufficient_quota') {
  throw new Error('built classify() is broken');
}
process.stdout.write(`built ${Object.keys(pkg.exports).length - 1} entry points into dist/\n`);
