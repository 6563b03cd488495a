/**
 * Tests the published package, not the sources: build, `npm pack`, install the tarball into a clean
 * folder, then import it (ESM and require), run the bin, type-check a consumer, and lint with publint.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Findings of `scripts/api.ts` that other work is fixing (`<kind> <entry> <symbol>`): a type in a public
 * signature that its entry does not export (`ae-forgotten-export`), or an `@internal` member reachable
 * from an entry (`internal`). A line that no longer matches a finding fails: delete it with the fix, so
 * this list only shrinks. `npm run api` prints the current findings.
 */
const KNOWN_API_FINDINGS: readonly string[] = [];
const require = createRequire(import.meta.url);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let dir = '';
let pkgDir = '';

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe('the packed package', { timeout: 240_000 }, () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-pack-'));
    // No explicit build: `prepack` builds, so a pack can never ship an empty package.
    rmSync(join(root, 'dist'), { recursive: true, force: true });
    run(npm, ['pack', '--silent', '--pack-destination', dir], root);
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    assert.ok(tgz, 'npm pack produced a tarball');
    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    run(npm, ['install', '--no-package-lock', '--offline', join(dir, tgz)], app);
    pkgDir = join(app, 'node_modules', 'faultline');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('ships dist, README, CHANGELOG and docs, and no sources, tests or working notes', () => {
    const files = execFileSync('find', ['.', '-type', 'f'], { cwd: pkgDir, encoding: 'utf8' }).split('\n');
    assert.ok(files.includes('./dist/index.js'));
    assert.ok(files.includes('./dist/index.d.ts'));
    assert.ok(files.includes('./docs/codes.md'));
    assert.ok(!files.some((f) => f.startsWith('./src/') || f.startsWith('./test/') || f.includes('.test.')), files.join('\n'));
    // docs/plans/ holds the engineers' notes between sessions, not user documentation.
    assert.ok(!files.some((f) => f.startsWith('./docs/plans/')), files.join('\n'));
  });

  test('the core has no runtime dependencies', () => {
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    assert.deepEqual(Object.keys(pkg.dependencies ?? {}), []);
  });

  test('imports as ESM and classifies', () => {
    const out = run(process.execPath, ['--input-type=module', '-e', `
      import { classify, RateLimitError, toError, FAILURE_CODES } from 'faultline';
      const f = classify({ status: 429, headers: { 'retry-after-ms': '250' }, body: { error: { code: 'rate_limit_exceeded' } } });
      const e = toError(f);
      console.log(JSON.stringify({ code: f.code, wait: f.retryAfterMs, rl: e instanceof RateLimitError, n: FAILURE_CODES.length }));
    `], join(dir, 'app'));
    assert.deepEqual(JSON.parse(out), { code: 'rate_limit_exceeded', wait: 250, rl: true, n: 23 });
  });

  test('every subpath loads from the package, and the root loads neither the mock nor node:sqlite nor a Redis client', () => {
    const out = run(process.execPath, ['--input-type=module', '-e', `
      const mock = await import('faultline/mock');
      const journal = await import('faultline/journal');
      const webhooks = await import('faultline/webhooks');
      const redis = await import('faultline/redis');
      // ioredis is an optional peer, not installed here: the subpath loads, and only a url needs it.
      let missing = '';
      try { redis.redisBudget({ url: 'redis://127.0.0.1:1', key: 'k' }); } catch (e) { missing = e.message; }
      const store = new redis.RedisJournalStore({ client: { call: async () => null } });
      console.log(JSON.stringify([typeof mock.createMock, typeof journal.openJournal, typeof webhooks.createWebhookHandler, typeof redis.redisBudget, typeof store.insert, missing]));
    `], join(dir, 'app'));
    assert.deepEqual(JSON.parse(out), ['function', 'function', 'function', 'function', 'function', 'redisBudget: options.url needs the optional peer dependency ioredis (npm install ioredis); or pass options.client']);
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { peerDependencies?: Record<string, string>; peerDependenciesMeta?: Record<string, { optional?: boolean }> };
    assert.deepEqual(Object.keys(pkg.peerDependencies ?? {}), ['ioredis', '@opentelemetry/api']);
    assert.equal(pkg.peerDependenciesMeta?.['ioredis']?.optional, true, 'the Redis client is an optional peer');
    assert.equal(pkg.peerDependenciesMeta?.['@opentelemetry/api']?.optional, true, 'the OpenTelemetry API is an optional peer');
    // The root entry's module graph, read from the built files: no mock, journal, webhooks or sqlite.
    const graph = new Set<string>();
    const visit = (file: string): void => {
      if (graph.has(file)) return;
      graph.add(file);
      const src = readFileSync(file, 'utf8');
      for (const m of src.matchAll(/(?:import|export)[^'"]*from\s*['"](\.[^'"]+)['"]/g)) visit(join(file, '..', m[1] as string));
      assert.doesNotMatch(src, /from\s*['"]node:sqlite['"]/, file);
      assert.doesNotMatch(src, /['"]ioredis['"]/, `${file} loads ioredis`);
    };
    visit(join(pkgDir, 'dist', 'index.js'));
    for (const f of graph) assert.doesNotMatch(f, /[\\/](mock|journal|webhooks|redis|cli)[\\/]/, `root entry pulls in ${f}`);
  });

  test('loads with require() from CommonJS (Node >= 22.13 require(esm))', () => {
    const out = run(process.execPath, ['-e', `const { classify } = require('faultline'); console.log(classify('insufficient_quota').name)`], join(dir, 'app'));
    assert.equal(out.trim(), 'QuotaExceededError');
  });

  test('the bin runs', () => {
    const out = run(join(dir, 'app', 'node_modules', '.bin', 'faultline'), ['explain', '--json', 'Request timed out.'], join(dir, 'app'));
    assert.equal(JSON.parse(out).code, 'timeout');
  });

  test('on a Node without node:sqlite the bin says which Node demo needs (exit 2); explain still works', (t) => {
    const old = olderNode();
    if (old === undefined) {
      // CI's machine ships Node 20, so there this test always runs.
      assert.notEqual(process.env.CI, 'true', 'CI must have a Node older than 22.13 on PATH for this test');
      t.skip('no Node older than 22.13 on PATH outside node_modules');
      return;
    }
    const bin = join(pkgDir, 'bin', 'faultline.js');
    const demo = spawnSync(old, [bin, 'demo'], { cwd: join(dir, 'app'), encoding: 'utf8' });
    assert.equal(demo.status, 2, demo.stderr);
    assert.match(demo.stderr, /needs Node >= 22\.13/);
    assert.doesNotMatch(demo.stderr, /at .*\(/, 'no stack trace');
    const explain = spawnSync(old, [bin, 'explain', '--json', 'Request timed out.'], { cwd: join(dir, 'app'), encoding: 'utf8' });
    assert.equal(explain.status, 0, explain.stderr);
    assert.equal(JSON.parse(explain.stdout).code, 'timeout');
  });

  test('a TypeScript consumer type-checks, including narrowing by instanceof', () => {
    const app = join(dir, 'app');
    writeFileSync(join(app, 'consumer.ts'), `
      import { classify, toError, RateLimitError, FaultlineError, RetryError, type Clock, type Failure, type FailureCode } from 'faultline';
      const f: Failure = classify(new Error('x'));
      const code: FailureCode = f.code;
      declare const e: unknown;
      if (e instanceof FaultlineError) { const c: FailureCode = e.code; const fl: Failure = e.failure; void c; void fl; }
      if (e instanceof RateLimitError) {
        // @ts-expect-error an SDK error can match too: faultline's fields need toError()
        void e.failure;
        const wait: number | undefined = toError(e).retryAfterMs; void wait;
      }
      // @ts-expect-error not a code
      const bad: FailureCode = 'rate_limit'; void bad; void code;
      // Every clock option takes one nameable Clock; a RetryError is a FaultlineError.
      const clock: Clock = { now: () => 0, sleep: async () => {} }; void clock;
      declare const given: RetryError<'rate_limit_exceeded'>;
      const base: FaultlineError<'rate_limit_exceeded'> = given; void base;
      const attempts: readonly Failure[] = given.attempts; void attempts;
    `);
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, exactOptionalPropertyTypes: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2023', lib: ['es2023', 'dom'], types: [], noEmit: true, skipLibCheck: false }, files: ['consumer.ts'] }));
    run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', app], app);
  });

  test("every TypeScript example in the README type-checks against the packed package", () => {
    const app = join(dir, 'app');
    // The examples import `openai`: lend the repository's copy to the clean folder.
    symlinkSync(join(root, 'node_modules', 'openai'), join(app, 'node_modules', 'openai'), 'dir');
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    assert.ok(blocks.length >= 3, 'the README has TypeScript examples');
    // Free names the examples use without declaring them.
    const free: Record<string, string> = {
      client: "declare const client: import('openai').OpenAI;",
      signal: 'declare const signal: AbortSignal;',
      save: 'declare function save(...args: unknown[]): void;',
    };
    const files = blocks.map((code, i) => {
      const prelude = Object.entries(free)
        .filter(([name]) => new RegExp(`\\b${name}\\b`).test(code) && !new RegExp(`(const|let|function)\\s+${name}\\b`).test(code))
        .map(([, decl]) => decl);
      const file = `readme-${i}.ts`;
      writeFileSync(join(app, file), `${prelude.join('\n')}\n${code}\nexport {};\n`);
      return file;
    });
    writeFileSync(join(app, 'tsconfig.readme.json'), JSON.stringify({ compilerOptions: { strict: true, exactOptionalPropertyTypes: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2023', lib: ['es2023', 'dom'], types: [], noEmit: true, skipLibCheck: true }, files }));
    run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(app, 'tsconfig.readme.json')], app);
  });

  test('the public API matches the reviewed reports in api/, and every type in a public signature is exported', () => {
    // `npm pack` has just built dist/; API Extractor reads its declarations (about 2 s per entry).
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'api.ts'), '--check'], { cwd: root, encoding: 'utf8' });
    const line = r.stdout.trim().split('\n').at(-1) ?? '';
    assert.ok(line.startsWith('{'), `scripts/api.ts --check printed no result:\n${r.stdout}\n${r.stderr}`);
    const { entries } = JSON.parse(line) as { entries: { entry: string; report: string; changed: boolean; warnings: string[] }[] };
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    assert.deepEqual(entries.map((e) => e.entry), Object.keys(pkg.exports).filter((k) => k !== './package.json'), 'one report per export');
    assert.deepEqual(readdirSync(join(root, 'api')).filter((f) => f.endsWith('.api.md')).sort(), entries.map((e) => e.report.slice('api/'.length)).sort(), 'no report without its export');
    for (const e of entries.filter((x) => x.changed)) {
      const name = e.report.slice('api/'.length);
      const diff = spawnSync('diff', ['-u', join(root, e.report), join(root, 'dist', '.api', name)], { encoding: 'utf8' }).stdout;
      assert.fail(`${e.report} differs from what the code produces (run npm run api, review and commit):\n${diff}`);
    }
    assert.equal(r.status, 0, r.stderr);
    const found = entries.flatMap((e) => e.warnings);
    assert.deepEqual(found.filter((w) => !KNOWN_API_FINDINGS.includes(w)), [], 'new API findings: export the type from the entry that uses it, or drop @internal');
    assert.deepEqual(KNOWN_API_FINDINGS.filter((w) => !found.includes(w)), [], 'fixed: delete these lines from KNOWN_API_FINDINGS');
  });

  test('publint finds no errors or warnings', async () => {
    const { publint } = (await import('publint')) as typeof import('publint');
    const { messages } = await publint({ pkgDir, level: 'warning', strict: true });
    assert.deepEqual(messages.map((m) => `${m.type}: ${m.code} ${JSON.stringify(m.args)}`), []);
  });
});

/** A `node` on PATH, outside node_modules, older than 22.13 (the machine's own Node 20 in CI). */
function olderNode(): string | undefined {
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    if (folder === '' || folder.includes('node_modules')) continue;
    const candidate = join(folder, process.platform === 'win32' ? 'node.exe' : 'node');
    const r = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    const [major = 0, minor = 0] = r.stdout.trim().split('.').map(Number);
    if (major < 22 || (major === 22 && minor < 13)) return candidate;
  }
  return undefined;
}
