/** The doctor's pure parts: configuration, environment checks, colour, headroom, the secret guard, the CLI wiring. */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveCredentials, resolveTarget, type Target } from '../../src/cli/doctor/config.ts';
import { checkNode, checkProxy, checkSdk, checkSqlite, findSdks, MIN_NODE, SUPPORTED_SDK_MAJORS } from '../../src/cli/doctor/environment.ts';
import { DOCTOR_EXIT, EXIT_HELP } from '../../src/cli/doctor/index.ts';
import { headroomOf } from '../../src/cli/doctor/network.ts';
import { useColour, withoutSecrets } from '../../src/cli/doctor/render.ts';
import { main, SQLITE_NODE, type CliIO } from '../../src/cli/main.ts';
import { emptyDir, fakeAzureKey, fakeKey } from './helpers.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string }; devDependencies: Record<string, string> };

function target(env: Record<string, string>, flag?: string): Target {
  const t = resolveTarget(env, flag);
  assert.ok(!('error' in t), JSON.stringify(t));
  return t;
}

test('the base URL: default, OPENAI_BASE_URL, --base-url over both, Azure endpoint, Azure v1, other providers', () => {
  assert.deepEqual(target({}), { provider: 'openai', base: 'https://api.openai.com/v1', shown: 'https://api.openai.com/v1', source: 'default', hadCredentials: false, azureV1: false });
  assert.equal(target({ OPENAI_BASE_URL: 'http://localhost:11434/v1/' }).base, 'http://localhost:11434/v1');
  assert.equal(target({ OPENAI_BASE_URL: 'http://localhost:11434/v1' }).provider, 'other');
  assert.equal(target({ OPENAI_BASE_URL: 'http://a/v1' }, 'http://b/v1').source, '--base-url');
  const azure = target({ AZURE_OPENAI_ENDPOINT: 'https://acme.openai.azure.com/', OPENAI_API_VERSION: '2024-10-21' });
  assert.deepEqual([azure.provider, azure.base, azure.azureApiVersion, azure.azureV1], ['azure', 'https://acme.openai.azure.com/openai', '2024-10-21', false]);
  const v1 = target({ OPENAI_BASE_URL: 'https://acme.openai.azure.com/openai/v1' });
  assert.deepEqual([v1.provider, v1.azureV1, v1.azureApiVersion], ['azure', true, undefined]);
  // A pasted deployment URL is cut back to the resource's /openai base.
  assert.equal(target({ OPENAI_BASE_URL: 'https://acme.cognitiveservices.azure.com/openai/deployments/x/chat/completions?api-version=2024-06-01' }).base, 'https://acme.cognitiveservices.azure.com/openai');
  assert.equal(target({ OPENAI_BASE_URL: 'https://acme.cognitiveservices.azure.com/openai/deployments/x?api-version=2024-06-01' }).azureApiVersion, '2024-06-01');
  // OPENAI_BASE_URL wins over AZURE_OPENAI_ENDPOINT, as `new OpenAI()` would.
  assert.equal(target({ OPENAI_BASE_URL: 'https://api.openai.com/v1', AZURE_OPENAI_ENDPOINT: 'https://acme.openai.azure.com' }).provider, 'openai');
});

test('a base URL that is not usable says why, without echoing it', () => {
  const key = fakeKey();
  const bad = resolveTarget({ OPENAI_BASE_URL: `not a url ${key}` }, undefined);
  assert.ok('error' in bad);
  assert.equal(bad.error, 'OPENAI_BASE_URL is not a URL');
  const ftp = resolveTarget({}, 'ftp://example.com');
  assert.ok('error' in ftp && /http: or https:/.test(ftp.error));
  const creds = target({}, `https://user:${key}@gateway.example/v1`);
  assert.equal(creds.hadCredentials, true);
  assert.equal(creds.base, 'https://gateway.example/v1');
});

test('key kinds from the shape only, and the headers the SDK would send', () => {
  const openai = target({});
  const azure = target({ AZURE_OPENAI_ENDPOINT: 'https://a.openai.azure.com', OPENAI_API_VERSION: 'v' });
  const kind = (key: string, t: Target = openai) => resolveCredentials({ OPENAI_API_KEY: key }, t).info.kind;
  assert.equal(kind(fakeKey('proj')), 'project');
  assert.equal(kind(fakeKey('svcacct')), 'service_account');
  assert.equal(kind(fakeKey('legacy')), 'legacy');
  assert.equal(kind(['sk', 'admin', 'x'.repeat(20)].join('-')), 'admin');
  assert.equal(kind('gsk_abcdefghijklmnop'), 'other');
  assert.equal(kind(fakeAzureKey(), azure), 'azure');
  const key = fakeKey();
  const c = resolveCredentials({ OPENAI_API_KEY: key, OPENAI_ORG_ID: 'org-1', OPENAI_PROJECT_ID: 'proj_1' }, openai);
  assert.deepEqual(c.headers, { authorization: `Bearer ${key}`, 'openai-organization': 'org-1', 'openai-project': 'proj_1' });
  const az = fakeAzureKey();
  const ca = resolveCredentials({ AZURE_OPENAI_API_KEY: az, OPENAI_API_KEY: key }, azure);
  assert.deepEqual([ca.info.source, ca.headers], ['AZURE_OPENAI_API_KEY', { 'api-key': az }]);
  assert.equal(resolveCredentials({ OPENAI_API_KEY: `"${key}"` }, openai).info.padded, true);
  assert.equal(resolveCredentials({ OPENAI_API_KEY: `"${key}"` }, openai).info.kind, 'project');
  assert.equal(resolveCredentials({ OPENAI_API_KEY: '  ' }, openai).info.source, undefined);
});

test('Node and node:sqlite: the exact fix for each Node', () => {
  assert.equal(`>=${MIN_NODE}`, pkg.engines.node);
  assert.equal(MIN_NODE, SQLITE_NODE);
  assert.equal(checkNode('v22.13.0').status, 'ok');
  assert.equal(checkNode('v22.12.9').status, 'fail');
  assert.equal(checkNode('v20.18.0').problem, 'environment');
  assert.equal(checkNode('v100.0.0').status, 'ok');
  assert.equal(checkSqlite('v24.0.0', true).status, 'ok');
  assert.match(checkSqlite('v20.18.0', false).fix ?? '', /does not exist before Node 22\.5: install Node 22\.13/);
  assert.match(checkSqlite('v22.9.0', false).fix ?? '', /NODE_OPTIONS=--experimental-sqlite/);
  assert.match(checkSqlite('v24.1.0', false).fix ?? '', /built without SQLite/);
  assert.equal(checkSqlite('v24.1.0', false).status, 'warn');
});

test('the supported SDK majors are the ones the test suite runs (the openai-vN devDependencies)', () => {
  const tested = Object.keys(pkg.devDependencies).flatMap((n) => /^openai-v(\d+)$/.exec(n)?.[1] ?? []).map(Number).sort((a, b) => a - b);
  assert.deepEqual(SUPPORTED_SDK_MAJORS, tested);
});

test('SDK copies are found walking up from the working directory, aliases included', () => {
  const root = emptyDir();
  const app = join(root, 'app', 'src');
  mkdirSync(app, { recursive: true });
  const put = (dir: string, name: string, version: string): void => {
    mkdirSync(join(dir, 'node_modules', name), { recursive: true });
    writeFileSync(join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name: 'openai', version }));
  };
  put(join(root, 'app'), 'openai', '5.23.2');
  put(root, 'openai', '3.3.0');
  put(root, 'legacy-openai', '4.104.0');
  writeFileSync(join(root, 'package.json'), JSON.stringify({ devDependencies: { 'legacy-openai': 'npm:openai@^4.104.0', other: '^1' } }));
  const copies = findSdks(app);
  assert.deepEqual(copies.map((c) => [c.name, c.version, c.supported]), [['openai', '5.23.2', true], ['openai', '3.3.0', false], ['legacy-openai', '4.104.0', true]]);
  const c = checkSdk(copies, app);
  assert.equal(c.status, 'warn');
  assert.match(c.summary, /5\.23\.2, 3\.3\.0 \(unsupported\), legacy-openai=4\.104\.0/);
  assert.equal(checkSdk([], app).status, 'skip');
  assert.equal(checkSdk(copies.filter((x) => x.supported), app).status, 'ok');
});

test('proxy variables: none, set but ignored by fetch (warn), in effect; credentials never shown', () => {
  const key = fakeKey();
  assert.equal(checkProxy({}).status, 'ok');
  const ignored = checkProxy({ HTTPS_PROXY: `http://ci:${key}@proxy.corp:3128`, NO_PROXY: 'localhost,.internal' });
  assert.equal(ignored.status, 'warn');
  assert.equal(ignored.summary, "HTTPS_PROXY=http://proxy.corp:3128 (credentials hidden); NO_PROXY=localhost,.internal: set, but Node's fetch ignores them");
  assert.ok(!JSON.stringify(ignored).includes(key.slice(8, 16)));
  assert.equal(checkProxy({ https_proxy: 'http://p:1', NODE_USE_ENV_PROXY: '1' }).status, 'ok');
  assert.equal(checkProxy({ https_proxy: 'http://p:1', NODE_OPTIONS: '--max-old-space-size=100 --use-env-proxy' }).status, 'ok');
  assert.equal(checkProxy({ HTTP_PROXY: `garbage ${key}` }).summary.includes(key), false);
});

test('colour: FORCE_COLOR decides when set, then NO_COLOR, then a terminal that is not dumb', () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };
  assert.equal(useColour(tty, {}), true);
  assert.equal(useColour(pipe, {}), false);
  assert.equal(useColour(tty, { NO_COLOR: '1' }), false);
  assert.equal(useColour(tty, { NO_COLOR: '' }), true);
  assert.equal(useColour(tty, { TERM: 'dumb' }), false);
  assert.equal(useColour(pipe, { FORCE_COLOR: '1' }), true);
  assert.equal(useColour(pipe, { FORCE_COLOR: '1', NO_COLOR: '1' }), true);
  assert.equal(useColour(tty, { FORCE_COLOR: '0' }), false);
  assert.equal(useColour(tty, { FORCE_COLOR: 'false' }), false);
});

test('headroom from x-ratelimit-* headers; garbage values are left out, not guessed', () => {
  const h = headroomOf(new Headers({ 'x-ratelimit-limit-requests': '10000', 'x-ratelimit-remaining-requests': '9999', 'x-ratelimit-reset-requests': '6ms', 'x-ratelimit-limit-tokens': 'lots', 'x-ratelimit-reset-tokens': '1h2m3.5s' }));
  assert.deepEqual(h, { limitRequests: 10000, remainingRequests: 9999, resetRequestsMs: 6, resetTokensMs: 3_723_500 });
  assert.deepEqual(headroomOf(new Headers({ 'x-org-tier': 'tier-3' })), { tier: 'tier-3' });
  assert.deepEqual(headroomOf(new Headers()), {});
});

test('the secret guard cuts every run of a secret around any eight of its characters, and nothing else', () => {
  const key = fakeKey();
  const body = key.slice('sk-proj-'.length);
  const text = `project key (sk-proj-…) · echoed ${key} · tail ${body.slice(-11)} · head ${body.slice(0, 9)}x · short ${body.slice(3, 9)}`;
  const out = withoutSecrets(text, [key]);
  assert.equal(out, `project key (sk-proj-…) · echoed [REDACTED] · tail [REDACTED] · head [REDACTED]x · short ${body.slice(3, 9)}`);
  // A secret that overlaps the marker itself still ends (each search resumes after the marker).
  assert.doesNotMatch(withoutSecrets('[REDACTED]xx', ['REDACTED]xx']), /xx/);
  assert.equal(withoutSecrets('password hunter2 here', ['hunter2']), 'password [REDACTED] here');
});

function io() {
  let out = '';
  let err = '';
  const value: CliIO = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, readStdin: async () => '' };
  return { io: value, out: () => out, err: () => err };
}

test('faultline doctor --help: every flag and every exit code; the top-level usage lists doctor', async () => {
  const t = io();
  assert.equal(await main(['doctor', '--help'], t.io), 0);
  for (const flag of ['--json', '--base-url URL', '--model NAME', '--probe', '--journal FILE', '--timeout-ms N', '-h, --help']) assert.ok(t.out().includes(flag), flag);
  assert.ok(t.out().endsWith(EXIT_HELP));
  for (const [name, code] of Object.entries(DOCTOR_EXIT)) {
    if (name === 'ok' || name === 'internal' || name === 'usage') continue;
    assert.match(EXIT_HELP, new RegExp(`^  ${code} +${name === 'quota' ? 'quota' : name}`, 'm'), name);
  }
  const top = io();
  await main(['--help'], top.io);
  assert.match(top.out(), /doctor \[--json\]/);
});

test('doctor usage errors exit 2 with the help: unknown flag, --probe without --model, a non-decimal --timeout-ms', async () => {
  for (const args of [['--bogus'], ['--probe'], ['--timeout-ms', '0x10'], ['--timeout-ms', '0'], ['--model', ' '], ['stray']]) {
    const t = io();
    assert.equal(await main(['doctor', ...args], t.io), 2, args.join(' '));
    assert.match(t.err(), /^faultline doctor: .+\n\nUsage: faultline doctor /, args.join(' '));
    assert.equal(t.out(), '');
  }
});

test('the README lists the doctor\'s exit codes as --help does', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const [name, code] of Object.entries(DOCTOR_EXIT)) {
    if (name === 'ok' || name === 'internal' || name === 'usage') continue;
    assert.match(readme, new RegExp(`\\| ${code} \\| ${name}`), name);
  }
});

test('proxyFor: only when fetch uses the variables, by scheme, and not for NO_PROXY hosts', async () => {
  const { proxyFor } = await import('../../src/cli/doctor/environment.ts');
  const api = new URL('https://api.openai.com/v1');
  const on = { NODE_USE_ENV_PROXY: '1', HTTPS_PROXY: `http://u:${fakeKey()}@proxy.corp:3128` };
  assert.equal(proxyFor({ HTTPS_PROXY: 'http://proxy.corp:3128' }, api), undefined);
  assert.equal(proxyFor(on, api), 'http://proxy.corp:3128 (credentials hidden)');
  assert.equal(proxyFor(on, new URL('http://api.openai.com/v1')), undefined);
  assert.equal(proxyFor({ ...on, HTTP_PROXY: 'http://p2:8080' }, new URL('http://api.openai.com/v1')), 'http://p2:8080');
  for (const noProxy of ['*', 'openai.com', '.openai.com', '*.openai.com', 'api.openai.com:443', 'localhost, api.openai.com']) assert.equal(proxyFor({ ...on, NO_PROXY: noProxy }, api), undefined, noProxy);
  for (const noProxy of ['notopenai.com', 'api.openai.com:8443', 'example.com']) assert.notEqual(proxyFor({ ...on, no_proxy: noProxy }, api), undefined, noProxy);
});
