/**
 * `faultline doctor` against small independent servers written here from the wire protocol (node:http,
 * node:https), one per failure class: bad key, model not found, quota exhausted, slow, skewed clock,
 * Azure-shaped answers, an untrusted TLS certificate.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { DOCTOR_EXIT } from '../../src/cli/doctor/index.ts';
import { createManualClock } from '../../src/mock/index.ts';
import { check, doctorJson, emptyDir, envelope, fakeAzureKey, fakeKey, json, loopback, testDeps } from './helpers.ts';

const MODELS = { object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created: 0, owned_by: 'system' }] };

/** An OpenAI-shaped server that accepts `key` and lists MODELS; `extra` answers anything else. */
function openaiLike(key: string, extra: (req: { method?: string | undefined; url?: string | undefined; body: string }, res: import('node:http').ServerResponse) => boolean = () => false) {
  return loopback((req, res) => {
    if (req.headers.authorization !== `Bearer ${key}`) return json(res, 401, envelope('Incorrect API key provided: sk-proj-****wxyz. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key'));
    if (extra(req, res)) return;
    if (req.method === 'GET' && req.url === '/v1/models') return json(res, 200, MODELS);
    if (req.method === 'GET' && req.url?.startsWith('/v1/models/')) return json(res, 404, envelope(`The model '${decodeURIComponent(req.url.slice(11))}' does not exist`, 'invalid_request_error', 'model_not_found', 'model'));
    return json(res, 404, envelope('Invalid URL', 'invalid_request_error', null));
  });
}

test('a healthy server: exit 0, the key authenticates, a listed model is available, the probe reads x-ratelimit-*', async () => {
  const key = fakeKey();
  const server = await openaiLike(key, (req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return false;
    json(res, 200, { id: 'chatcmpl-1', object: 'chat.completion', choices: [{ index: 0, finish_reason: 'length', message: { role: 'assistant', content: 'OK' } }] }, {
      'x-ratelimit-limit-requests': '500',
      'x-ratelimit-remaining-requests': '499',
      'x-ratelimit-reset-requests': '120ms',
      'x-ratelimit-limit-tokens': '30000',
      'x-ratelimit-remaining-tokens': '29990',
      'x-ratelimit-reset-tokens': '1m30s',
    });
    return true;
  });
  try {
    const { code, report } = await doctorJson(['--base-url', server.url, '--model', 'gpt-4o-mini', '--probe'], testDeps({ env: { OPENAI_API_KEY: key } }));
    assert.equal(code, DOCTOR_EXIT.ok, JSON.stringify(report.checks, null, 1));
    assert.equal(report.ok, true);
    assert.equal(check(report, 'auth').status, 'ok');
    assert.equal(check(report, 'model').status, 'ok');
    const limits = check(report, 'rate-limits');
    assert.equal(limits.status, 'ok');
    assert.deepEqual(limits.data, { limitRequests: 500, remainingRequests: 499, resetRequestsMs: 120, limitTokens: 30000, remainingTokens: 29990, resetTokensMs: 90_000 });
    // The probe is one minimal request: one output token, one model.
    const probe = server.requests.find((r) => r.method === 'POST');
    assert.deepEqual(JSON.parse(probe?.body ?? '{}'), { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Reply with OK.' }], max_tokens: 1 });
    assert.equal(server.requests.filter((r) => r.method === 'POST').length, 1);
  } finally {
    await server.close();
  }
});

test('a bad key (401): exit 6 (credentials), authentication_error with its fix, no model request made', async () => {
  const server = await openaiLike(fakeKey());
  try {
    const { code, report } = await doctorJson(['--base-url', server.url, '--model', 'gpt-4o-mini'], testDeps({ env: { OPENAI_API_KEY: fakeKey() } }));
    assert.equal(code, DOCTOR_EXIT.credentials);
    assert.equal(report.problem, 'credentials');
    const auth = check(report, 'auth');
    assert.equal(auth.status, 'fail');
    assert.equal(auth.code, 'authentication_error');
    assert.equal(auth.fix, 'Set a valid key; check the organization and project headers.');
    assert.equal(auth.data.status, 401);
    assert.equal(server.requests.length, 1);
  } finally {
    await server.close();
  }
});

test('a model that is neither listed nor retrievable (404): exit 8 (access), model_not_found', async () => {
  const key = fakeKey();
  const server = await openaiLike(key);
  try {
    const { code, report } = await doctorJson(['--base-url', server.url, '--model', 'gpt-4o-mini', '--model', 'gpt-nope'], testDeps({ env: { OPENAI_API_KEY: key } }));
    assert.equal(code, DOCTOR_EXIT.access);
    const [listed, missing] = report.checks.filter((c: any) => c.id === 'model');
    assert.equal(listed.status, 'ok');
    assert.equal(missing.status, 'fail');
    assert.equal(missing.code, 'model_not_found');
    assert.equal(missing.title, 'model gpt-nope');
    // Listed models cost no request; the unlisted one is asked for by id.
    assert.deepEqual(server.requests.map((r) => r.url), ['/v1/models', '/v1/models/gpt-nope']);
  } finally {
    await server.close();
  }
});

test('a model that is not listed but retrievable is available', async () => {
  const key = fakeKey();
  const server = await openaiLike(key, (req, res) => {
    if (decodeURIComponent(req.url ?? '') !== '/v1/models/ft:gpt-4o-mini:acme') return false;
    json(res, 200, { id: 'ft:gpt-4o-mini:acme', object: 'model' });
    return true;
  });
  try {
    const { code, report } = await doctorJson(['--base-url', server.url, '--model', 'ft:gpt-4o-mini:acme', '--model', 'ft:gpt-4o-mini:acme'], testDeps({ env: { OPENAI_API_KEY: key } }));
    assert.equal(code, DOCTOR_EXIT.ok);
    assert.equal(check(report, 'model').data.listed, false);
    // A --model given twice is checked once.
    assert.equal(report.checks.filter((c: any) => c.id === 'model').length, 1);
    assert.equal(server.requests.length, 2);
  } finally {
    await server.close();
  }
});

test('quota exhausted (429 insufficient_quota on the probe): exit 9, insufficient_quota', async () => {
  const key = fakeKey();
  const server = await openaiLike(key, (req, res) => {
    if (req.method !== 'POST') return false;
    json(res, 429, envelope('You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota', 'insufficient_quota'), { 'x-ratelimit-limit-requests': '500', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '2s' });
    return true;
  });
  try {
    const { code, report } = await doctorJson(['--base-url', server.url, '--model', 'gpt-4o-mini', '--probe'], testDeps({ env: { OPENAI_API_KEY: key } }));
    assert.equal(code, DOCTOR_EXIT.quota);
    const probe = check(report, 'probe');
    assert.equal(probe.code, 'insufficient_quota');
    assert.equal(probe.problem, 'quota');
    // The headroom is still read from the 429's headers.
    const limits = check(report, 'rate-limits');
    assert.equal(limits.status, 'warn');
    assert.equal(limits.data.remainingRequests, 0);
  } finally {
    await server.close();
  }
});

test('a server that never answers: the --timeout-ms bound fires on the injected clock, exit 7, timeout', async () => {
  const clock = createManualClock();
  let arrived!: () => void;
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  const server = await loopback(() => arrived()); // holds every request, answers none
  try {
    const run = doctorJson(['--base-url', server.url, '--timeout-ms', '2500'], testDeps({ env: { OPENAI_API_KEY: fakeKey() }, clock }));
    await reached;
    await clock.advance(2499);
    assert.equal(server.requests.length, 1);
    await clock.advance(1);
    const { code, report } = await run;
    assert.equal(code, DOCTOR_EXIT.reachability);
    const connect = check(report, 'connect');
    assert.equal(connect.code, 'timeout');
    assert.equal(connect.problem, 'reachability');
    assert.equal(check(report, 'auth').status, 'skip');
    assert.equal(clock.pending, 0);
  } finally {
    await server.close();
  }
});

test('a skewed clock: the Date header 10 minutes ahead fails (exit 5), 2 minutes warns, in step is ok', async () => {
  const key = fakeKey();
  const at = createManualClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  let offsetMs = 0;
  const server = await loopback((req, res) => json(res, 200, MODELS, { date: new Date(at.now() + offsetMs).toUTCString() }));
  try {
    const deps = testDeps({ env: { OPENAI_API_KEY: key }, clock: at });
    offsetMs = 600_000;
    let r = await doctorJson(['--base-url', server.url], deps);
    assert.equal(r.code, DOCTOR_EXIT.environment);
    let clock = check(r.report, 'clock');
    assert.equal(clock.status, 'fail');
    assert.equal(clock.problem, 'environment');
    assert.equal(clock.data.skewMs, 600_500);
    assert.match(clock.summary, /behind the server by 600\.5 s/);
    offsetMs = -120_000;
    r = await doctorJson(['--base-url', server.url], deps);
    clock = check(r.report, 'clock');
    assert.equal(r.code, DOCTOR_EXIT.ok);
    assert.equal(clock.status, 'warn');
    assert.match(clock.summary, /ahead of the server by 119\.5 s/);
    offsetMs = 0;
    r = await doctorJson(['--base-url', server.url], deps);
    assert.equal(check(r.report, 'clock').status, 'ok');
    assert.match(check(r.report, 'clock').summary, /in step/);
  } finally {
    await server.close();
  }
});

/** An Azure-shaped server: `api-key` header, `?api-version=`, deployments under /openai/deployments. */
function azureLike(key: string, deployments: readonly string[]) {
  return loopback((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.searchParams.get('api-version') === null) return json(res, 404, { error: { code: '404', message: 'Resource not found' } });
    if (req.headers['api-key'] !== key) {
      return json(res, 401, { error: { code: '401', message: 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.' } });
    }
    if (req.method === 'GET' && url.pathname === '/openai/models') return json(res, 200, { data: [{ id: 'gpt-4o', object: 'model' }], object: 'list' }, { 'apim-request-id': 'a1b2' });
    const dep = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(url.pathname);
    if (req.method === 'POST' && dep !== null) {
      if (!deployments.includes(decodeURIComponent(dep[1] as string))) {
        return json(res, 404, { error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.' } });
      }
      const body = JSON.parse(req.body) as { messages?: unknown };
      if (body.messages === undefined) return json(res, 400, { error: { message: "'messages' is a required property", type: 'invalid_request_error', param: null, code: null } });
      return json(res, 200, { object: 'chat.completion', choices: [{ index: 0, finish_reason: 'length', message: { role: 'assistant', content: 'OK' } }] }, { 'x-ratelimit-remaining-requests': '99', 'x-ratelimit-remaining-tokens': '9990' });
    }
    return json(res, 404, { error: { code: '404', message: 'Resource not found' } });
  });
}

test('Azure: AZURE_OPENAI_ENDPOINT + OPENAI_API_VERSION, api-key header, deployments checked without a token spent', async () => {
  const key = fakeAzureKey();
  const server = await azureLike(key, ['prod-4o']);
  try {
    const env = { AZURE_OPENAI_ENDPOINT: server.origin, AZURE_OPENAI_API_KEY: key, OPENAI_API_VERSION: '2024-10-21' };
    let r = await doctorJson(['--model', 'prod-4o', '--probe'], testDeps({ env }));
    assert.equal(r.code, DOCTOR_EXIT.ok, JSON.stringify(r.report.checks, null, 1));
    assert.equal(check(r.report, 'base-url').data.provider, 'azure');
    assert.equal(check(r.report, 'api-key').data.kind, 'azure');
    assert.equal(check(r.report, 'model').summary, 'the deployment exists');
    assert.deepEqual(check(r.report, 'rate-limits').data, { remainingRequests: 99, remainingTokens: 9990 });
    // The deployment check sent no messages (a 400, no tokens); the probe sent one token's worth.
    const posts = server.requests.filter((q) => q.method === 'POST').map((q) => JSON.parse(q.body));
    assert.deepEqual(posts[0], {});
    assert.equal(posts[1].max_completion_tokens, 1);
    assert.equal(posts[1].model, undefined);

    r = await doctorJson(['--model', 'prod-5'], testDeps({ env }));
    assert.equal(r.code, DOCTOR_EXIT.access);
    assert.equal(check(r.report, 'model').code, 'model_not_found');
    assert.equal(check(r.report, 'model').data.wireCode, 'DeploymentNotFound');

    r = await doctorJson([], testDeps({ env: { ...env, AZURE_OPENAI_API_KEY: fakeAzureKey() } }));
    assert.equal(r.code, DOCTOR_EXIT.credentials);
    assert.equal(check(r.report, 'auth').code, 'authentication_error');

    r = await doctorJson([], testDeps({ env: { AZURE_OPENAI_ENDPOINT: server.origin, AZURE_OPENAI_API_KEY: key } }));
    assert.equal(r.code, DOCTOR_EXIT.credentials);
    assert.match(check(r.report, 'base-url').summary, /OPENAI_API_VERSION is not set/);
  } finally {
    await server.close();
  }
});

/** A self-signed certificate made at test time (openssl), or undefined when openssl is not installed. */
function selfSigned(): { key: string; cert: string } | undefined {
  const dir = emptyDir();
  const [keyPath, certPath] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', keyPath, '-out', certPath], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return undefined;
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
}

test('an untrusted TLS certificate (self-signed, made at test time): exit 7, the TLS code and the CA fix', async (t) => {
  const pair = selfSigned();
  if (pair === undefined) return t.skip('openssl is not installed');
  const server = await loopback((_req, res) => json(res, 200, MODELS), (h) => createHttpsServer(pair, h), 'https');
  try {
    const { code, report } = await doctorJson(['--base-url', server.url], testDeps({ env: { OPENAI_API_KEY: fakeKey() } }));
    assert.equal(code, DOCTOR_EXIT.reachability);
    const connect = check(report, 'connect');
    assert.equal(connect.data.tlsCode, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    // classify() leaves a trust failure `unknown` (never retried: no retry can fix a certificate).
    assert.equal(connect.code, 'unknown');
    assert.match(connect.fix, /NODE_EXTRA_CA_CERTS/);
    assert.equal(server.requests.length, 0);
  } finally {
    await server.close();
  }
});

test('TLS through an injected fetch that throws undici\'s shape: TypeError("fetch failed") caused by the TLS error', async () => {
  // undici's fetch rejects with `new TypeError('fetch failed', { cause })` (lib/web/fetch/index.js), the
  // cause being Node's TLS socket error with its OpenSSL-derived `code`.
  const fetch = async (): Promise<Response> => {
    throw new TypeError('fetch failed', { cause: Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }) });
  };
  const { code, report } = await doctorJson(['--base-url', 'https://llm.internal.example/v1'], testDeps({ env: { OPENAI_API_KEY: fakeKey() }, fetch }));
  assert.equal(code, DOCTOR_EXIT.reachability);
  assert.equal(check(report, 'connect').data.tlsCode, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  assert.equal(check(report, 'dns').status, 'ok');
});

test('DNS: a host that does not resolve is exit 7 with connection_error, and nothing is fetched', async () => {
  let fetched = 0;
  const lookup = async (host: string): Promise<never> => {
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', hostname: host });
  };
  const fetch = async (): Promise<Response> => {
    fetched++;
    return new Response('{}');
  };
  const { code, report } = await doctorJson([], testDeps({ env: { OPENAI_API_KEY: fakeKey() }, lookup, fetch }));
  assert.equal(code, DOCTOR_EXIT.reachability);
  const dns = check(report, 'dns');
  assert.equal(dns.code, 'connection_error');
  assert.equal(dns.data.transportCode, 'ENOTFOUND');
  assert.equal(dns.data.host, 'api.openai.com');
  assert.equal(fetched, 0);
});

test('a connection refused is exit 7 with connection_error', async () => {
  const server = await loopback(() => undefined);
  const url = server.url;
  await server.close();
  const { code, report } = await doctorJson(['--base-url', url], testDeps({ env: { OPENAI_API_KEY: fakeKey() } }));
  assert.equal(code, DOCTOR_EXIT.reachability);
  assert.equal(check(report, 'connect').code, 'connection_error');
  assert.equal(check(report, 'connect').data.transportCode, 'ECONNREFUSED');
});

test('DNS that never answers is bounded by --timeout-ms on the injected clock; a proxy in effect skips local DNS', async () => {
  const clock = createManualClock();
  let asked = 0;
  const lookup = (): Promise<never> => {
    asked++;
    return new Promise<never>(() => undefined);
  };
  const run = doctorJson(['--timeout-ms', '3000'], testDeps({ env: { OPENAI_API_KEY: fakeKey() }, clock, lookup }));
  for (let turns = 0; clock.pending < 1; turns++) {
    assert.ok(turns < 10_000, 'the DNS bound was never armed');
    await new Promise((resolve) => setImmediate(resolve));
  }
  await clock.advance(3000);
  const { code, report } = await run;
  assert.equal(code, DOCTOR_EXIT.reachability);
  assert.equal(check(report, 'dns').code, 'connection_error');
  assert.equal(check(report, 'dns').data.transportCode, 'EAI_AGAIN');
  assert.equal(clock.pending, 0);

  const key = fakeKey();
  const server = await openaiLike(key);
  try {
    // The request goes to the server (the injected fetch stands in for the proxy); DNS is the proxy's job.
    const proxied = await doctorJson(['--base-url', 'https://api.openai.com/v1'], testDeps({ env: { OPENAI_API_KEY: key, NODE_USE_ENV_PROXY: '1', HTTPS_PROXY: 'http://proxy.corp:3128' }, lookup, fetch: (_url, init) => globalThis.fetch(`${server.url}/models`, init) }));
    assert.equal(proxied.code, DOCTOR_EXIT.ok, JSON.stringify(proxied.report.checks, null, 1));
    assert.match(check(proxied.report, 'dns').summary, /resolved by the proxy \(http:\/\/proxy\.corp:3128\)/);
    assert.equal(asked, 1);
  } finally {
    await server.close();
  }
});

test('a base URL that redirects is a credentials problem (exit 6) naming where it goes, never followed', async () => {
  const server = await loopback((_req, res) => {
    res.writeHead(301, { location: 'https://user:pw@elsewhere.example/v1/models?token=abc' });
    res.end();
  });
  try {
    const { code, report } = await doctorJson(['--base-url', server.url, '--model', 'gpt-4o-mini', '--model', 'gpt-4o-mini'], testDeps({ env: { OPENAI_API_KEY: fakeKey() } }));
    assert.equal(code, DOCTOR_EXIT.credentials);
    assert.equal(check(report, 'auth').summary, 'the base URL redirects (HTTP 301 to https://elsewhere.example/v1/models (credentials hidden))');
    assert.equal(server.requests.length, 1);
  } finally {
    await server.close();
  }
});

test('the real command (bin/faultline.js) in a child process: env read, clean --json on stdout, the exit code', async () => {
  const { execFile } = await import('node:child_process');
  const key = fakeKey();
  const server = await openaiLike(key);
  try {
    const bin = new URL('../../bin/faultline.js', import.meta.url).pathname;
    const run = (args: string[], env: Record<string, string>) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(process.execPath, [bin, 'doctor', ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 20_000 }, (error, stdout, stderr) => {
          resolve({ code: typeof error?.code === 'number' ? error.code : child.exitCode ?? 0, stdout, stderr });
        });
      });
    const good = await run(['--json', '--model', 'gpt-4o-mini'], { OPENAI_API_KEY: key, OPENAI_BASE_URL: server.url });
    assert.equal(good.code, DOCTOR_EXIT.ok, good.stdout + good.stderr);
    assert.equal(JSON.parse(good.stdout).ok, true);
    assert.equal(good.stderr, '');
    const bad = await run([], { OPENAI_API_KEY: fakeKey(), OPENAI_BASE_URL: server.url, NO_COLOR: '1' });
    assert.equal(bad.code, DOCTOR_EXIT.credentials);
    assert.match(bad.stdout, /authentication_error/);
  } finally {
    await server.close();
  }
});

test('a 403 (region not supported) is exit 8 with permission_denied; a 500 is exit 7 with server_error', async () => {
  let status = 403;
  const server = await loopback((_req, res) => {
    if (status === 403) return json(res, 403, envelope('Country, region, or territory not supported', 'request_forbidden', 'unsupported_country_region_territory'));
    return json(res, 500, envelope('The server had an error while processing your request. Sorry about that!', 'server_error', null), { 'x-request-id': 'req_abc' });
  });
  try {
    const deps = testDeps({ env: { OPENAI_API_KEY: fakeKey() } });
    let r = await doctorJson(['--base-url', server.url], deps);
    assert.equal(r.code, DOCTOR_EXIT.access);
    assert.equal(check(r.report, 'auth').code, 'permission_denied');
    status = 500;
    r = await doctorJson(['--base-url', server.url], deps);
    assert.equal(r.code, DOCTOR_EXIT.reachability);
    assert.equal(check(r.report, 'auth').code, 'server_error');
    assert.equal(check(r.report, 'auth').data.requestId, 'req_abc');
    assert.equal(check(r.report, 'connect').status, 'ok');
  } finally {
    await server.close();
  }
});

test('Azure v1 (/openai/v1): no api-version, the deployment named in the body', async () => {
  const key = fakeAzureKey();
  const server = await loopback((req, res) => {
    if (req.headers['api-key'] !== key) return json(res, 401, { error: { code: '401', message: 'Access denied' } });
    if (req.method === 'GET' && req.url === '/openai/v1/models') return json(res, 200, { object: 'list', data: [] });
    if (req.method === 'POST' && req.url === '/openai/v1/chat/completions') {
      const { model } = JSON.parse(req.body) as { model?: string };
      if (model !== 'prod') return json(res, 404, { error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist.' } });
      return json(res, 400, { error: { message: "'messages' is a required property", type: 'invalid_request_error', param: null, code: null } });
    }
    return json(res, 404, { error: { code: '404', message: 'Resource not found' } });
  });
  try {
    // A loopback host is not an Azure host name: AZURE_OPENAI_ENDPOINT is what says Azure here.
    const env = { AZURE_OPENAI_ENDPOINT: `${server.origin}/openai/v1`, AZURE_OPENAI_API_KEY: key };
    const r = await doctorJson(['--model', 'prod', '--model', 'dev'], testDeps({ env }));
    assert.equal(check(r.report, 'base-url').data.azureV1, true);
    const [prod, dev] = r.report.checks.filter((c: any) => c.id === 'model');
    assert.equal(prod.status, 'ok');
    assert.equal(dev.code, 'model_not_found');
    assert.equal(r.code, DOCTOR_EXIT.access);
    assert.ok(server.requests.every((q) => !q.url.includes('api-version')));
  } finally {
    await server.close();
  }
});
