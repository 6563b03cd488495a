/** redact() and redactHeaders(): every secret shape faultline promises to scrub, and what it leaves alone. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isSecretHeader, redact, redactHeaders } from '../src/redact.ts';

// Fake keys are built at run time so no key-shaped literal sits in the repository.
const PROJ_KEY = ['sk', 'proj', 'Zq9vR2mX7tL4pW8nK3jH6fD1sA5gB0cE'].join('-');

describe('redact', () => {
  const secrets = [
    PROJ_KEY,
    ['sk', 'svcacct', 'AbCdEfGhIjKlMnOpQrSt_1234'].join('-'),
    'sk-admin-0123456789abcdefABCDEF',
    ['sk', 'abcdefghijklmnopqrstuvwxyz012345'].join('-'),
    'whsec_c2VjcmV0LXNpZ25pbmcta2V5LWJhc2U2NA==',
  ];
  for (const secret of secrets) {
    test(`scrubs ${secret.slice(0, 9)}…`, () => {
      for (const text of [secret, `key: ${secret}.`, `"${secret}"`, `(${secret})`, `a\n${secret}\nb`, `url?k=${secret}&x=1`]) {
        const out = redact(text);
        assert.ok(!out.includes(secret), out);
        assert.match(out, /\[REDACTED\]/);
      }
    });
  }

  test('Bearer and Basic credentials keep the scheme', () => {
    assert.equal(redact('Authorization: Bearer abc.def-ghi_jkl'), 'Authorization: Bearer [REDACTED]');
    assert.equal(redact('basic dXNlcjpwYXNzd29yZA=='), 'basic [REDACTED]');
  });

  test('api-key pairs as Azure and proxies print them', () => {
    for (const [input, leak] of [
      ['api-key: 8f14e45fceea167a5a36dedd4bea2543', '8f14e45fceea'],
      ['{"api-key": "8f14e45fceea167a5a36dedd4bea2543"}', '8f14e45fceea'],
      ['?api_key=8f14e45fceea167a5a36dedd4bea2543&v=1', '8f14e45fceea'],
      ["'x-api-key'='abcdef0123456789'", 'abcdef0123'],
      ['OpenAI-API-Key=abcdef0123456789', 'abcdef0123'],
    ] as const) {
      const out = redact(input);
      assert.ok(!out.includes(leak), `${input} → ${out}`);
    }
  });

  test('leaves ordinary text, masked keys and short sk- words alone', () => {
    for (const text of [
      'Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM).',
      'Incorrect API key provided: sk-proj-****************************abcd.',
      'task-management and risk-free sk-1',
      'The model `gpt-4o-mini` does not exist',
      '',
    ]) {
      assert.equal(redact(text), text);
    }
  });

  test('is idempotent', () => {
    const once = redact(`Bearer ${PROJ_KEY} and whsec_c2VjcmV0LXNpZ25pbmc=`);
    assert.equal(redact(once), once);
  });
});

describe('redactHeaders', () => {
  const expected = { authorization: '[REDACTED]', 'api-key': '[REDACTED]', 'x-request-id': 'req_1', 'content-type': 'application/json' };
  const pairs: Array<[string, string]> = [
    ['Authorization', `Bearer ${PROJ_KEY}`],
    ['api-key', '8f14e45fceea167a5a36dedd4bea2543'],
    ['X-Request-Id', 'req_1'],
    ['Content-Type', 'application/json'],
  ];

  test('Headers, Map, pairs and plain objects', () => {
    assert.deepEqual(redactHeaders(new Headers(pairs)), expected);
    assert.deepEqual(redactHeaders(new Map(pairs.map(([k, v]) => [k.toLowerCase(), v]))), expected);
    assert.deepEqual(redactHeaders(pairs), expected);
    assert.deepEqual(redactHeaders(Object.fromEntries(pairs)), expected);
  });

  test('secret header names, whatever their value looks like; other values still redacted', () => {
    for (const name of ['Authorization', 'proxy-authorization', 'API-KEY', 'x-api-key', 'openai-api-key', 'cookie', 'set-cookie', 'Ocp-Apim-Subscription-Key']) {
      assert.ok(isSecretHeader(name), name);
    }
    assert.equal(isSecretHeader('x-request-id'), false);
    assert.deepEqual(redactHeaders({ 'x-debug': `sent Bearer ${PROJ_KEY}` }), { 'x-debug': 'sent Bearer [REDACTED]' });
    assert.deepEqual(redactHeaders({ 'set-cookie': ['a=1', 'b=2'] }), { 'set-cookie': '[REDACTED]' });
  });

  test('hostile or empty bags never throw', () => {
    const hostile = new Proxy({}, { ownKeys() { throw new Error('trap'); }, get() { throw new Error('trap'); } });
    for (const h of [null, undefined, 'x', 42, hostile, [['only-one']], [[1, 2]]]) {
      assert.doesNotThrow(() => redactHeaders(h));
    }
    assert.deepEqual(redactHeaders(null), {});
  });
});
