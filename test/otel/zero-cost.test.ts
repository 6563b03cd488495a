/**
 * The instrumentation port costs nothing until someone listens, is shared by duplicate installs, and
 * never lets an observer's bug break a request.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createFetch } from '../../src/retry/index.ts';
import { attachSink, telemetry, type RequestStart, type TelemetrySink } from '../../src/internal/telemetry.ts';
import { json, scriptedFetch } from '../retry/helpers.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every specifier resolved while importing `entry` in a fresh process (module.registerHooks sees them all). */
function loaded(entry: string): string[] {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(spec, ctx, next) { const r = next(spec, ctx); seen.push(r.url); return r; } });
    await import(${JSON.stringify(pathToFileURL(join(root, entry)).href)});
    console.log(JSON.stringify(seen));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

test('the root entry never loads @opentelemetry/api or src/otel/ (checked at run time)', () => {
  const urls = loaded('src/index.ts');
  assert.deepEqual(urls.filter((u) => u.includes('opentelemetry') || u.includes('/src/otel/')), []);
  assert.ok(urls.some((u) => u.endsWith('/src/internal/telemetry.ts')), 'the port itself is in the core');
});

test('faultline/otel loads @opentelemetry/api and no other package', () => {
  const pkgs = new Set(loaded('src/otel/index.ts').filter((u) => u.includes('/node_modules/')).map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)![1]));
  assert.deepEqual([...pkgs], ['@opentelemetry/api']);
});

function countingSink() {
  const starts: RequestStart[] = [];
  const sink: TelemetrySink = {
    request(start) {
      starts.push(start);
      return undefined;
    },
    wait: (_start, run) => run(),
  };
  return { sink, starts };
}

test('no sink: the port is inactive and nothing is observed; attached, each request is; detached, none again', async () => {
  assert.equal(telemetry.active, false);
  const { fetch } = scriptedFetch([json(200, { ok: true })]);
  const f = createFetch({ fetch, pacing: false });
  const { sink, starts } = countingSink();
  await f('http://api.test/v1/models');
  const detach = attachSink(sink);
  assert.equal(telemetry.active, true);
  await f('http://api.test/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'gpt-4o-mini', stream: true }) });
  detach();
  detach(); // idempotent
  assert.equal(telemetry.active, false);
  await f('http://api.test/v1/models');
  assert.equal(starts.length, 1);
  assert.equal(starts[0]!.method, 'POST');
  assert.equal(starts[0]!.model, 'gpt-4o-mini');
  assert.equal(starts[0]!.stream, true);
});

test('a sink that throws never breaks the request it watches', async () => {
  const { fetch } = scriptedFetch([json(200, { ok: true })]);
  const detach = attachSink({
    request: () => ({
      paced: (t) => t,
      retried: () => {
        throw new Error('observer bug');
      },
      succeeded: () => {
        throw new Error('observer bug');
      },
      failed: () => {
        throw new Error('observer bug');
      },
    }),
    wait: (_s, run) => run(),
  });
  try {
    const res = await createFetch({ fetch, pacing: false })('http://api.test/v1/models');
    assert.equal(res.status, 200);
  } finally {
    detach();
  }
});

test('a duplicate install (a second copy of the module) shares the one registry on globalThis', async () => {
  const copy = (await import(`../../src/internal/telemetry.ts?copy=${Date.now()}`)) as typeof import('../../src/internal/telemetry.ts');
  assert.notEqual(copy.attachSink, attachSink, 'a separate module instance');
  assert.equal(copy.telemetry, telemetry);
  const { sink, starts } = countingSink();
  const detach = copy.attachSink(sink);
  try {
    const { fetch } = scriptedFetch([json(200, { ok: true })]);
    await createFetch({ fetch, pacing: false })('http://api.test/v1/models');
  } finally {
    detach();
  }
  assert.equal(starts.length, 1, 'the first copy\'s fetch reported to the second copy\'s sink');
  assert.equal((globalThis as Record<symbol, unknown>)[Symbol.for('faultline.telemetry.v1')], telemetry);
});
