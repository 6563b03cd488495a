/**
 * `faultline doctor` end to end against faultline's mock (over HTTP with `listen()`, or in-process
 * through `mock.fetch`): a healthy key, a bad key, a model the mock does not list, quota exhausted, a
 * slow answer, Azure mode, a skewed clock (the mock's `Date` header from its clock), per-key model access;
 * and the `--json` report's schema version.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DOCTOR_EXIT, DOCTOR_REPORT_SCHEMA } from '../../src/cli/doctor/index.ts';
import { createManualClock, createMock, listen } from '../../src/mock/index.ts';
import { check, doctor, doctorJson, fakeAzureKey, fakeKey, testDeps } from './helpers.ts';

test('mock, healthy: exit 0 with --model and --probe; the headroom comes from the mock\'s x-ratelimit-* headers', async () => {
  const key = fakeKey();
  const server = await listen({ mock: { apiKeys: [key], rateLimit: { rpm: 120, tpm: 40_000 } } });
  try {
    const { code, report } = await doctorJson(['--base-url', server.url, '--model', 'gpt-4o-mini', '--model', 'o4-mini', '--probe'], testDeps({ env: { OPENAI_API_KEY: key } }));
    assert.equal(code, DOCTOR_EXIT.ok, JSON.stringify(report.checks, null, 1));
    assert.equal(check(report, 'auth').data.listed, 5);
    const limits = check(report, 'rate-limits');
    assert.equal(limits.data.limitRequests, 120);
    assert.equal(limits.data.limitTokens, 40_000);
    assert.equal(limits.data.remainingRequests, 119);
    assert.ok(limits.data.remainingTokens < 40_000);
    // Exactly one inference request reached the mock.
    assert.equal(server.mock.log.filter((e: any) => e.path === '/v1/chat/completions').length, 1);
  } finally {
    await server.close();
  }
});

test('mock, bad key: exit 6, authentication_error (the mock\'s real 401 body)', async () => {
  const server = await listen({ mock: { apiKeys: [fakeKey()] } });
  try {
    const { code, report } = await doctorJson(['--base-url', server.url], testDeps({ env: { OPENAI_API_KEY: fakeKey() } }));
    assert.equal(code, DOCTOR_EXIT.credentials);
    assert.equal(check(report, 'auth').code, 'authentication_error');
    assert.equal(check(report, 'auth').data.wireCode, 'invalid_api_key');
  } finally {
    await server.close();
  }
});

test('mock, no key at all: exit 6 from the key check, and the 401 is not reported twice', async () => {
  const server = await listen({ mock: {} });
  try {
    const { code, report } = await doctorJson([], testDeps({ env: {}, fetch: server.mock.fetch as never }));
    assert.equal(code, DOCTOR_EXIT.credentials);
    assert.equal(check(report, 'api-key').code, 'authentication_error');
    assert.equal(check(report, 'auth').status, 'skip');
  } finally {
    await server.close();
  }
});

test('mock, a model it does not list: exit 8, model_not_found', async () => {
  const key = fakeKey();
  const server = await listen({ mock: { models: ['gpt-4o-mini'] } });
  try {
    const { code, report } = await doctorJson(['--base-url', server.url, '--model', 'gpt-4.1'], testDeps({ env: { OPENAI_API_KEY: key } }));
    assert.equal(code, DOCTOR_EXIT.access);
    assert.equal(check(report, 'model').code, 'model_not_found');
  } finally {
    await server.close();
  }
});

test('mock, quota exhausted (preset insufficient_quota on inference): exit 9 from --probe', async () => {
  const server = await listen({ mock: { scenario: [{ match: { path: '/v1/chat/completions' }, fault: { type: 'http', preset: 'insufficient_quota' } }] } });
  try {
    const { code, report } = await doctorJson(['--base-url', server.url, '--model', 'gpt-4o-mini', '--probe'], testDeps({ env: { OPENAI_API_KEY: fakeKey() } }));
    assert.equal(code, DOCTOR_EXIT.quota);
    assert.equal(check(report, 'probe').code, 'insufficient_quota');
    // Without --probe the same key passes: listing models is free and not subject to quota.
    const free = await doctorJson(['--base-url', server.url, '--model', 'gpt-4o-mini'], testDeps({ env: { OPENAI_API_KEY: fakeKey() } }));
    assert.equal(free.code, DOCTOR_EXIT.ok);
  } finally {
    await server.close();
  }
});

test('mock, rate limited (preset rate_limit_requests): exit 9, rate_limit_exceeded', async () => {
  const server = await listen({ mock: { scenario: [{ match: { path: '/v1/chat/completions' }, fault: { type: 'http', preset: 'rate_limit_requests' } }] } });
  try {
    const { code, report } = await doctorJson(['--base-url', server.url, '--model', 'gpt-4o-mini', '--probe'], testDeps({ env: { OPENAI_API_KEY: fakeKey() } }));
    assert.equal(code, DOCTOR_EXIT.quota);
    assert.equal(check(report, 'probe').code, 'rate_limit_exceeded');
  } finally {
    await server.close();
  }
});

test('mock, slow (a delay rule on the mock\'s manual clock): the doctor\'s timeout on the same clock fires first, exit 7', async () => {
  const clock = createManualClock();
  const mock = createMock({ clock, scenario: [{ match: { path: '/v1/models' }, fault: { type: 'delay', ms: 60_000 } }] });
  try {
    const run = doctorJson(['--base-url', 'https://api.openai.com/v1', '--timeout-ms', '5000'], testDeps({ env: { OPENAI_API_KEY: fakeKey() }, clock, fetch: mock.fetch as never }));
    // Both sleepers armed: the doctor's 5 s bound and the mock's 60 s delay.
    for (let turns = 0; clock.pending < 2; turns++) {
      assert.ok(turns < 10_000, 'the two sleepers were never armed');
      await new Promise((resolve) => setImmediate(resolve));
    }
    await clock.advance(5000);
    const { code, report } = await run;
    assert.equal(code, DOCTOR_EXIT.reachability, JSON.stringify(report.checks, null, 1));
    assert.equal(check(report, 'connect').code, 'timeout');
    assert.equal(clock.now() - 1_767_225_600_000, 5000);
  } finally {
    await mock.close();
  }
});

test('mock, Azure mode: /openai paths with api-version and an api-key header, deployment check and probe', async () => {
  const key = fakeAzureKey();
  const server = await listen({ mock: { azure: true, apiKeys: [key], rateLimit: { rpm: 60, tpm: 10_000 } } });
  try {
    const origin = new URL(server.url).origin;
    const env = { AZURE_OPENAI_ENDPOINT: origin, AZURE_OPENAI_API_KEY: key, OPENAI_API_VERSION: '2024-10-21' };
    const { code, report } = await doctorJson(['--model', 'gpt-4o-mini', '--probe'], testDeps({ env }));
    assert.equal(code, DOCTOR_EXIT.ok, JSON.stringify(report.checks, null, 1));
    assert.equal(check(report, 'base-url').data.provider, 'azure');
    assert.equal(check(report, 'model').summary, 'the deployment exists');
    assert.equal(check(report, 'rate-limits').status, 'ok');
    const bad = await doctorJson([], testDeps({ env: { ...env, AZURE_OPENAI_API_KEY: fakeAzureKey() } }));
    assert.equal(bad.code, DOCTOR_EXIT.credentials);
    assert.equal(check(bad.report, 'auth').code, 'authentication_error');
  } finally {
    await server.close();
  }
});

test('the table on a terminal: coloured, one line per check, the failed one with its code, fix and explain hint', async () => {
  const server = await listen({ mock: { apiKeys: [fakeKey()] } });
  try {
    const deps = testDeps({ env: { OPENAI_API_KEY: fakeKey() } });
    const tty = await doctor(['--base-url', server.url], deps, true);
    assert.equal(tty.code, DOCTOR_EXIT.credentials);
    assert.match(tty.out, /\u001b\[1;31mFAIL\u001b\[0m\s+key accepted\s+HTTP 401 · invalid_api_key/);
    assert.match(tty.out, /authentication_error.*: Set a valid key; check the organization and project headers\..*\(faultline explain authentication_error\)/);
    assert.match(tty.out, /first problem: credentials\. Exit 6\./);
    const piped = await doctor(['--base-url', server.url], deps, false);
    assert.doesNotMatch(piped.out, /\u001b/);
    const plain = (text: string): string => text.replace(/\u001b\[[0-9;]*m/g, '').replace(/req_[0-9a-f]+/g, 'req_').replace(/in \d+ ms/g, 'in N ms');
    assert.equal(plain(piped.out), plain(tty.out));
    const noColour = await doctor(['--base-url', server.url], testDeps({ env: { OPENAI_API_KEY: fakeKey(), NO_COLOR: '1' } }), true);
    assert.doesNotMatch(noColour.out, /\u001b/);
  } finally {
    await server.close();
  }
});

test('mock, a skewed clock: the mock\'s Date header follows its manual clock; 10 minutes ahead of real time fails (exit 5), 2 minutes warns', async () => {
  const key = fakeKey();
  // The doctor reads the real clock (testDeps' default); each mock's clock is set off it and never moves.
  for (const [offsetMs, status, code] of [
    [600_000, 'fail', DOCTOR_EXIT.environment],
    [-120_000, 'warn', DOCTOR_EXIT.ok],
  ] as const) {
    const server = await listen({ mock: { clock: createManualClock(Date.now() + offsetMs) } });
    try {
      const { code: exit, report } = await doctorJson(['--base-url', server.url], testDeps({ env: { OPENAI_API_KEY: key } }));
      const clock = check(report, 'clock');
      assert.equal(exit, code, JSON.stringify(clock));
      assert.equal(clock.status, status);
      // The Date header is whole seconds and the test runs on real time: within a few seconds of the offset.
      assert.ok(Math.abs(clock.data.skewMs - offsetMs) < 5_000, `skewMs ${clock.data.skewMs} for an offset of ${offsetMs}`);
      assert.match(clock.summary, offsetMs > 0 ? /behind the server by \d+\.\d s/ : /ahead of the server by \d+\.\d s/);
      if (status === 'fail') assert.equal(clock.problem, 'environment');
    } finally {
      await server.close();
    }
  }
  // The mock on the real clock (its default) is in step.
  const server = await listen({ mock: {} });
  try {
    const { report } = await doctorJson(['--base-url', server.url], testDeps({ env: { OPENAI_API_KEY: key } }));
    assert.equal(check(report, 'clock').status, 'ok');
    assert.match(check(report, 'clock').summary, /in step/);
  } finally {
    await server.close();
  }
});

test('mock, modelAccess per key: a key limited to one model lists one and fails the other (exit 8); another key has every model', async () => {
  const limited = fakeKey();
  const full = fakeKey('svcacct');
  const server = await listen({ mock: { apiKeys: [limited, full], modelAccess: { [limited]: ['gpt-4o-mini'] } } });
  try {
    const args = ['--base-url', server.url, '--model', 'gpt-4o-mini', '--model', 'gpt-4o'];
    let r = await doctorJson(args, testDeps({ env: { OPENAI_API_KEY: limited } }));
    assert.equal(r.code, DOCTOR_EXIT.access, JSON.stringify(r.report.checks, null, 1));
    assert.equal(check(r.report, 'auth').data.listed, 1);
    assert.equal(check(r.report, 'model', 'model gpt-4o-mini').status, 'ok');
    const denied = check(r.report, 'model', 'model gpt-4o');
    assert.equal(denied.status, 'fail');
    assert.equal(denied.code, 'model_not_found');
    assert.equal(denied.problem, 'access');
    assert.ok(!r.out.includes(limited) && !r.out.includes(full), 'no key in the output');

    r = await doctorJson(args, testDeps({ env: { OPENAI_API_KEY: full } }));
    assert.equal(r.code, DOCTOR_EXIT.ok, JSON.stringify(r.report.checks, null, 1));
    assert.equal(check(r.report, 'auth').data.listed, 5);
    assert.equal(check(r.report, 'model', 'model gpt-4o').status, 'ok');
  } finally {
    await server.close();
  }
});

test('--json: the report starts with its shape\'s version, schema 1 (documented on DoctorReport.schema)', async () => {
  const server = await listen({ mock: {} });
  try {
    for (const env of [{ OPENAI_API_KEY: fakeKey() }, {}]) {
      const { report, out } = await doctorJson(['--base-url', server.url], testDeps({ env }));
      assert.equal(report.schema, 1);
      assert.equal(DOCTOR_REPORT_SCHEMA, 1);
      assert.equal(Object.keys(report)[0], 'schema');
      assert.match(out, /^\{\n  "schema": 1,\n/);
    }
  } finally {
    await server.close();
  }
});
