import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CATALOG } from '../src/core/catalog.ts';
import { integerFlag, UsageError } from '../src/cli/args.ts';
import { EXIT, main, type CliIO } from '../src/cli/main.ts';
import { clean } from '../src/cli/render.ts';

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
  for (const argv of [['frobnicate'], ['explain'], ['codes', '--nope']]) {
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

test('a bare faultline, help and --help print the usage and exit 0; the usage lists every command and flag', async () => {
  for (const argv of [[], ['help'], ['--help'], ['-h']]) {
    const t = io();
    assert.equal(await main(argv, t.io), EXIT.ok, argv.join(' '));
    assert.match(t.out(), /^Usage: faultline <command>/);
    assert.equal(t.err(), '');
  }
  const usage = io();
  await main([], usage.io);
  for (const flag of ['--json', '--seed', '--requests', '--jobs', '--concurrency', '--port', '--host', '--scenario', '--rpm', '--tpm', '--burst-window-ms', '--max-body-bytes', '--log', '--azure', '--strip-headers', '--version']) {
    assert.ok(usage.out().includes(flag), `usage mentions ${flag}`);
  }
});

test('--version and -v print the package version', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  for (const flag of ['--version', '-v']) {
    const t = io();
    assert.equal(await main([flag], t.io), EXIT.ok);
    assert.equal(t.out(), `${pkg.version}\n`);
  }
});

test('every command has its own --help (exit 0)', async () => {
  for (const [command, needle] of [['explain', '--json'], ['codes', '--json'], ['demo', '--concurrency'], ['mock', '--burst-window-ms']] as const) {
    for (const flag of ['--help', '-h']) {
      const t = io();
      assert.equal(await main([command, flag], t.io), EXIT.ok, `${command} ${flag}: ${t.err()}`);
      assert.match(t.out(), new RegExp(`^Usage: faultline ${command}`));
      assert.ok(t.out().includes(needle), `${command} help lists ${needle}`);
    }
  }
});

test('a usage error shows the help of the command it concerns', async () => {
  const t = io();
  assert.equal(await main(['codes', '--nope'], t.io), EXIT.usage);
  assert.match(t.err(), /^faultline codes: /);
  assert.match(t.err(), /Usage: faultline codes/);
});

test('demo number flags are decimal integers in range, else a usage error (never an internal error)', async () => {
  for (const [flag, value] of [['--concurrency', '0'], ['--seed', '0x10'], ['--jobs', '1e2'], ['--requests', '-1'], ['--seed', ' 7'], ['--seed', '2.0'], ['--requests', '99999999999999999999']] as const) {
    const t = io();
    assert.equal(await main(['demo', `${flag}=${value}`], t.io), EXIT.usage, `${flag} ${value}: ${t.err()}`);
    assert.match(t.err(), new RegExp(`${flag} must be a whole decimal number`));
    assert.doesNotMatch(t.err(), /internal error/);
  }
});

test('integerFlag accepts decimal digits only', () => {
  assert.equal(integerFlag('port', '8081', 0, 65535), 8081);
  assert.equal(integerFlag('port', undefined, 0, 65535), undefined);
  for (const raw of ['0x1F91', '1e3', '+5', '', ' 1', '65536', '8081.0']) assert.throws(() => integerFlag('port', raw, 0, 65535), UsageError, raw);
});

test('explain never echoes terminal escape sequences or control characters from its input', async () => {
  const t = io();
  const hostile = '\u001b]0;owned\u0007\u001b[2J\u001b[31mRate limit reached.\u001b[0m\u0007\u009b1m';
  assert.equal(await main(['explain', JSON.stringify({ error: { code: 'rate_limit_exceeded', message: hostile } })], t.io), EXIT.ok);
  assert.match(t.out(), /Rate limit reached\./);
  assert.doesNotMatch(t.out(), /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/, 'no control character but tab and newline');
  assert.equal(clean('a\u001b[1;31mb\u001b[0m\tc\nd\u0000'), 'ab\tc\nd\ufffd');
});

test('the bin without arguments prints the usage and exits 0', () => {
  const bin = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const r = spawnSync(process.execPath, [bin], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Usage: faultline/);
});

test('`npx faultline` works in a clone right after npm ci (the package links itself; the launcher runs the sources)', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['exec', '--offline', '--no', '--', 'faultline', 'explain', '--json', 'Request timed out.'], { cwd: root, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).code, 'timeout');
});
