import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CATALOG } from '../src/catalog.ts';
import { EXIT, main, type CliIO } from '../src/cli/main.ts';

function io(stdin = '') {
  let out = '';
  let err = '';
  const value: CliIO = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    readStdin: async () => stdin,
  };
  return { io: value, out: () => out, err: () => err };
}

test('explain <code> prints the class, retry advice and the four troubleshooting parts', async () => {
  const t = io();
  assert.equal(await main(['explain', 'insufficient_quota'], t.io), EXIT.ok);
  const out = t.out();
  assert.match(out, /QuotaExceededError/);
  assert.match(out, /Retry: no/);
  for (const h of ['What it means', 'Common causes', 'How to fix it', 'How to know the fix worked']) assert.ok(out.includes(h), h);
});

test('explain <JSON payload> classifies it and reports the wait from the message', async () => {
  const t = io();
  const payload = JSON.stringify({ status: 429, body: { error: { message: 'Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.', type: 'requests', code: 'rate_limit_exceeded' } } });
  assert.equal(await main(['explain', payload], t.io), EXIT.ok);
  assert.match(t.out(), /RateLimitError/);
  assert.match(t.out(), /after 20 s/);
  assert.match(t.out(), /status 429/);
});

test('explain - reads standard input; --json prints the Failure', async () => {
  const t = io("This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.");
  assert.equal(await main(['explain', '--json', '-'], t.io), EXIT.ok);
  const f = JSON.parse(t.out());
  assert.equal(f.code, 'context_length_exceeded');
  assert.equal(f.name, 'ContextLengthExceededError');
});

test('explain of something unrecognised exits 3 and says unknown', async () => {
  const t = io();
  assert.equal(await main(['explain', 'the flux capacitor sneezed'], t.io), EXIT.unknown);
  assert.match(t.out(), /^unknown/);
});

test('explain never echoes an API key', async () => {
  const t = io();
  // A fake key, built at run time so no key-shaped literal sits in the repository.
  const key = `sk-proj-${'A'.repeat(40)}`;
  await main(['explain', `{"error":{"message":"Incorrect API key provided: ${key}.","code":"invalid_api_key","type":"invalid_request_error"}}`], t.io);
  assert.match(t.out(), /AuthenticationError/);
  assert.doesNotMatch(t.out(), /sk-proj-A/);
});

test('codes lists every code; --json is the catalog', async () => {
  const t = io();
  assert.equal(await main(['codes'], t.io), EXIT.ok);
  for (const e of CATALOG) assert.ok(t.out().includes(e.code));
  const j = io();
  assert.equal(await main(['codes', '--json'], j.io), EXIT.ok);
  assert.deepEqual(JSON.parse(j.out()), JSON.parse(JSON.stringify(CATALOG)));
});

test('usage errors exit 2 with a message', async () => {
  for (const argv of [['frobnicate'], ['explain'], ['codes', '--nope'], []]) {
    const t = io();
    assert.equal(await main(argv, t.io), EXIT.usage, argv.join(' '));
    assert.match(t.err() + t.out(), /Usage: faultline/);
  }
});

test('the bin runs as a program', () => {
  const bin = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const r = spawnSync(process.execPath, [bin, 'explain', '--json', 'server_is_overloaded'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).code, 'overloaded');
});
