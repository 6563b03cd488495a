/**
 * No output of `faultline doctor` holds any part of a key: the table and the JSON, with the key in
 * OPENAI_API_KEY, in a proxy URL, in the base URL's userinfo, and echoed back by a hostile server.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listen } from '../../src/mock/index.ts';
import { doctor, fakeAzureKey, fakeKey, json, loopback, testDeps } from './helpers.ts';

/** Every run of `n` characters of the key's secret part (the public `sk-proj-` prefix names a kind, not a key). */
function assertNoPart(text: string, key: string, where: string, n = 5): void {
  const body = key.replace(/^sk-(?:proj-)?/, '');
  for (let i = 0; i + n <= body.length; i++) {
    const part = body.slice(i, i + n);
    assert.ok(!text.includes(part), `${where} shows part of the key (${i}…${i + n})`);
  }
}

async function both(args: readonly string[], deps: ReturnType<typeof testDeps>): Promise<string[]> {
  const table = await doctor(args, deps, true);
  const machine = await doctor(['--json', ...args], deps);
  JSON.parse(machine.out);
  return [table.out + table.err, machine.out + machine.err];
}

test('a rejected key: neither the table nor the JSON shows any five characters of it', async () => {
  const key = fakeKey();
  const server = await listen({ mock: { apiKeys: [fakeKey()] } });
  try {
    for (const out of await both(['--base-url', server.url, '--model', 'gpt-4o-mini', '--probe'], testDeps({ env: { OPENAI_API_KEY: key, FORCE_COLOR: '1' } }))) {
      assert.match(out, /authentication_error/);
      assertNoPart(out, key, 'doctor');
    }
  } finally {
    await server.close();
  }
});

test('an accepted key, padded with a newline, with a probe and an Azure key beside it: nothing of either', async () => {
  const key = fakeKey('svcacct');
  const azure = fakeAzureKey();
  const server = await listen({ mock: { apiKeys: [`${key}\n`], rateLimit: { rpm: 60, tpm: 1000 } } });
  try {
    for (const out of await both(['--base-url', server.url, '--model', 'gpt-4o-mini', '--probe'], testDeps({ env: { OPENAI_API_KEY: `${key}\n`, AZURE_OPENAI_API_KEY: azure } }))) {
      assert.match(out, /service account key/);
      assert.match(out, /white space or quotes/);
      assertNoPart(out, key, 'doctor');
      assertNoPart(out, azure, 'doctor');
    }
  } finally {
    await server.close();
  }
});

test('a key as the password of a proxy URL and of the base URL: shown as "credentials hidden", never the key', async () => {
  const key = fakeKey();
  const server = await loopback((_req, res) => json(res, 200, { object: 'list', data: [] }));
  try {
    const base = new URL(server.url);
    base.username = 'ci';
    base.password = key;
    const env = { OPENAI_API_KEY: fakeKey(), HTTPS_PROXY: `http://ci:${encodeURIComponent(key)}@proxy.example:3128`, http_proxy: `http://${key}@proxy.example:3128` };
    for (const out of await both(['--base-url', base.href], testDeps({ env }))) {
      assert.match(out, /credentials hidden/);
      assertNoPart(out, key, 'doctor');
      assertNoPart(out, env.OPENAI_API_KEY, 'doctor');
    }
    // The request itself went without the userinfo (fetch refuses a URL that has one).
    assert.equal(server.requests[0]?.headers.authorization?.startsWith('Basic'), false);
  } finally {
    await server.close();
  }
});

test('a hostile server that echoes the key in its error code, type, request id and headers', async () => {
  const key = fakeKey();
  const server = await loopback((req, res) => {
    const sent = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    json(res, 401, { error: { message: `Incorrect API key provided: ${sent}`, type: sent, code: `bad_${sent}`, param: sent } }, { 'x-request-id': sent, 'x-ratelimit-tier': sent });
  });
  try {
    for (const out of await both(['--base-url', server.url, '--model', 'gpt-4o-mini'], testDeps({ env: { OPENAI_API_KEY: key } }))) {
      assert.match(out, /authentication_error|unknown/);
      assertNoPart(out, key, 'doctor');
    }
  } finally {
    await server.close();
  }
});
