/** redact() and redactHeaders(): every secret shape faultline promises to scrub, and what it leaves alone. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAY_HOLD_SECRET, isSecretHeader, redact, redactCost, redactHeaders, redactScanned, redactedView } from '../../src/core/redact.ts';

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

// ---------------------------------------------------------------------------------------------------
// Issue 10: keys after a word character or an encoded separator, provider formats, huge inputs
// ---------------------------------------------------------------------------------------------------

/** `n` key characters, varied but deterministic (never a real key). */
function body(n: number, alphabet = 'aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xYz_-'): string {
  let out = '';
  for (let i = 0; i < n; i++) out += alphabet[(i * 7 + 3) % alphabet.length];
  return out;
}
const ALNUM = 'aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xYz';
const HEX32 = body(32, '0123456789abcdef');
// What each provider really issues, in shape (built here, at run time).
const PROVIDER_KEYS: ReadonlyArray<readonly [string, string]> = [
  ['OpenAI project key', ['sk', 'proj', body(120)].join('-')],
  ['OpenAI service-account key', ['sk', 'svcacct', body(120)].join('-')],
  ['OpenAI admin key', ['sk', 'admin', body(60)].join('-')],
  ['OpenAI legacy key', ['sk', body(48, ALNUM)].join('-')],
  ['Anthropic key', ['sk', 'ant', 'api03', body(95)].join('-')],
  ['OpenRouter key', ['sk', 'or', 'v1', body(64, '0123456789abcdef')].join('-')],
  ['Standard Webhooks secret', `whsec_${Buffer.from(body(32)).toString('base64')}`],
];
// Other providers' shapes are caught where they are used, not alone.
const USED_KEYS: ReadonlyArray<readonly [string, string]> = [
  ['Google AI key', `AIza${body(35)}`],
  ['Groq key', `gsk_${body(52, ALNUM)}`],
  ['xAI key', `xai-${body(80, ALNUM)}`],
];

describe('redact: where keys sit', () => {
  for (const [what, key] of PROVIDER_KEYS) {
    test(`${what}: alone, quoted, after a word character, an encoded separator or an escape`, () => {
      for (const text of [
        key,
        `"${key}"`,
        `token_${key}`,
        `api-key%3D${key}`,
        `api_key%3d${key}&v=1`,
        `%22${key}%22`,
        `{\\"message\\": \\"bad key\\n${key}\\"}`,
        `\\u0022${key}\\u0022`,
        `Authorization: Bearer ${key}`,
        `authorization=Bearer%20${key}`,
        `https://host/v1?key=${key}&alt=json`,
      ]) {
        const out = redact(text);
        assert.ok(!out.includes(key.slice(-12)), `${text} → ${out}`);
        assert.match(out, /\[REDACTED\]/);
        // classify() scans once with MAY_HOLD_SECRET and passes the verdict on: it must agree.
        assert.equal(redactScanned(text, MAY_HOLD_SECRET.test(text)), out);
      }
    });
  }

  for (const [what, key] of USED_KEYS) {
    test(`${what}: as a bearer token, a query key, an api-key or x-goog-api-key pair`, () => {
      for (const text of [`Authorization: Bearer ${key}`, `https://host/v1?key=${key}`, `x-goog-api-key: ${key}`, `{"api_key":"${key}"}`]) {
        const out = redact(text);
        assert.ok(!out.includes(key.slice(-12)), `${text} → ${out}`);
      }
    });
  }

  test('Azure 32-hex keys in api-key headers, JSON, query strings, URL-encoded and escaped forms', () => {
    assert.deepEqual(redactHeaders({ 'api-key': HEX32, 'Ocp-Apim-Subscription-Key': HEX32 }), { 'api-key': '[REDACTED]', 'ocp-apim-subscription-key': '[REDACTED]' });
    for (const [text, want] of [
      [`api-key: ${HEX32}`, 'api-key: [REDACTED]'],
      [`?api-key=${HEX32}&api-version=2024-10-21`, '?api-key=[REDACTED]&api-version=2024-10-21'],
      [`/openai/deployments/d/chat/completions?api-version=2024-10-21&api-key=${HEX32}`, '/openai/deployments/d/chat/completions?api-version=2024-10-21&api-key=[REDACTED]'],
      [`&key=${HEX32}`, '&key=[REDACTED]'],
      [`?key=${HEX32}`, '?key=[REDACTED]'],
      [`url=%3Fkey%3D${HEX32}`, 'url=%3Fkey%3D[REDACTED]'],
      [`api-key%3D${HEX32}`, 'api-key%3D[REDACTED]'],
      [`%22api-key%22%3A%20%22${HEX32}%22`, '%22api-key%22%3A%20%22[REDACTED]%22'],
      [`{\\"api-key\\": \\"${HEX32}\\"}`, '{\\"api-key\\": \\"[REDACTED]\\"}'],
      [`Ocp-Apim-Subscription-Key: ${HEX32}`, 'Ocp-Apim-Subscription-Key: [REDACTED]'],
      [`access_token=${HEX32}`, 'access_token=[REDACTED]'],
      [`:api_key => '${HEX32}'`, ":api_key => '[REDACTED]'"],
    ] as const) {
      assert.equal(redact(text), want, text);
    }
  });

  test('a pair is a name, an optional quote, up to 32 spaces and a separator (the pre-scan says the same)', () => {
    const near = `api-key${' '.repeat(33)}: ${HEX32}`;
    assert.equal(MAY_HOLD_SECRET.test(near), false);
    assert.equal(redactScanned(near, true), near, 'the scan agrees with the pre-scan');
    assert.equal(redact(`api-key${' '.repeat(32)}: ${HEX32}`), `api-key${' '.repeat(32)}: [REDACTED]`);
    for (const text of ['invalid_api_key', 'You can find your API key at https://platform.openai.com/account/api-keys.', 'Missing authorization header']) {
      assert.equal(MAY_HOLD_SECRET.test(text), false, text);
    }
  });

  test('an Authorization value keeps any scheme and loses the credential', () => {
    const tok = body(40);
    for (const [text, want] of [
      [`Authorization: Token ${tok}`, 'Authorization: Token [REDACTED]'],
      [`authorization: bearer ${tok}`, 'authorization: bearer [REDACTED]'],
      [`"Authorization":"Basic ${tok}"`, '"Authorization":"Basic [REDACTED]"'],
      [`Authorization: ${tok}`, 'Authorization: [REDACTED]'],
      [`Bearer+${tok}`, 'Bearer+[REDACTED]'],
      [`Bearer%20${tok}`, 'Bearer%20[REDACTED]'],
    ] as const) {
      assert.equal(redact(text), want, text);
    }
  });

  test('still leaves alone what only looks close', () => {
    for (const text of [
      'task-management and risk-free desk-organizer-2000',
      `x-request-id: req_${HEX32}`,
      'monkey=bananas and the key=value form, ?key=short',
      'Basic usage: send a Bearer token in the Authorization header.',
      'Incorrect API key provided: sk-proj-****************************abcd.',
      'whsec_ is the prefix of a Standard Webhooks secret',
    ]) {
      assert.equal(redact(text), text);
    }
  });
});

describe('redact: total and linear', () => {
  const MB5 = 5 * 1024 * 1024;
  const fill = (unit: string): string => unit.repeat(Math.ceil(MB5 / unit.length));

  test('5 MB key-like runs are redacted whole, without a RangeError', () => {
    for (const [text, want] of [
      [fill('sk-'), '[REDACTED]'],
      [`sk-${fill('a')}`, '[REDACTED]'],
      [fill('api-key='), 'api-key=[REDACTED]'],
      [`Bearer ${fill('Ab0.')}`, 'Bearer [REDACTED]'],
      [`whsec_${fill('QUJD')}`, '[REDACTED]'],
      [`token_sk-proj-${fill('x_')}`, 'token_[REDACTED]'],
    ] as const) {
      assert.equal(redact(text), want, `${text.slice(0, 20)}…`);
    }
  });

  test('5 MB of near misses come back unchanged', () => {
    for (const unit of ['sk-abcdefg ', 'task-management ', 'api-key: "ab" ', 'Bearer short ', 'whsec_', 'Bearer ', '%3D', 'authorization: "" ', 'api-key ', '?key=abc&', 'ask-']) {
      const text = fill(unit);
      assert.equal(redact(text), text, unit);
    }
    for (const text of [`api-key${' '.repeat(MB5)}x`, `authorization:${' '.repeat(MB5)}`, `Bearer${' '.repeat(MB5)}abc`]) {
      assert.equal(redact(text), text);
    }
  });

  test('the scan reads each character a bounded number of times (operation count, not time)', () => {
    const families: Record<string, (n: number) => string> = {
      keyRun: (n) => 'sk-'.repeat(n / 3),
      shortKeys: (n) => 'sk-abcdefg '.repeat(n / 11),
      glued: (n) => 'ask-'.repeat(n / 4),
      pairs: (n) => 'api-key: "ab" '.repeat(n / 14),
      spaces: (n) => `api-key${' '.repeat(n)}x`,
      authSpaces: (n) => `authorization:${' '.repeat(n)}Bearer${' '.repeat(n)}`,
      bearers: (n) => 'Bearer '.repeat(n / 7),
      escapes: (n) => '%3D\\n'.repeat(n / 5),
      quotes: (n) => `api-key${'\\'.repeat(n)}"`,
    };
    for (const [name, make] of Object.entries(families)) {
      const small = make(1 << 16);
      const large = make(1 << 19);
      const perChar = redactCost(large) / large.length;
      assert.ok(perChar <= 8, `${name}: ${perChar.toFixed(2)} reads per character`);
      // Eight times the input, about eight times the work (a quadratic scan would be 64 times).
      assert.ok(redactCost(large) <= 9 * redactCost(small), `${name}: ${redactCost(small)} → ${redactCost(large)}`);
    }
  });

  test('the pre-scan regex has no unbounded quantifier (no backtracking to blow up)', () => {
    const unescaped = MAY_HOLD_SECRET.source.replace(/\\./g, '');
    assert.doesNotMatch(unescaped, /[*+]|\{\d*,\}/); // `*`, `+` and `{n,}`; `{m,n}` is bounded
    assert.equal(MAY_HOLD_SECRET.global, false); // test() must keep no lastIndex state
  });

  test('property: the pre-scan holds for everything the scan would change (classify skips the scan on its word)', () => {
    const frags = ['api-key', 'API_KEY', 'apikey', 'authorization', 'Subscription-Key', 'access_token', 'key', '?', '&', ';', '%3F', '%26', '%3D', '%3d', '%3A', '=', ':', '=>', '"', "'", '\\"', '%22', ' ', '+', '%20', '\t', '\n', 'Bearer', 'basic', 'token', 'sk-', 'proj-', 'abcdefgh', '0123456789abcdef', 'whsec_', 'QUJD', 'x', '_', '-', '\\n', '[REDACTED]', 'a', 'k', '\\u0022', '%', 'é'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...frags), { minLength: 1, maxLength: 14 }), (parts) => {
        const text = parts.join('');
        const scrubbed = redactScanned(text, true);
        assert.ok(scrubbed === text || MAY_HOLD_SECRET.test(text), `pre-scan misses ${JSON.stringify(text)} → ${JSON.stringify(scrubbed)}`);
        assert.equal(redact(redact(text)), redact(text));
      }),
      { numRuns: 3000, seed: 10 },
    );
  });

  test('property: never throws, idempotent, a planted key never survives', () => {
    const key = PROVIDER_KEYS[0]![1];
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 }), (a, b) => {
        const out = redact(`${a} ${key} ${b}`);
        assert.ok(!out.includes(key));
        assert.equal(redact(out), out);
      }),
      { numRuns: 300 },
    );
  });
});

describe('redactedView', () => {
  test('a redacted copy for display; the original untouched; cycles and depth cut; hostile values read safely', () => {
    const original = {
      message: `sent ${PROJ_KEY}`,
      headers: new Headers({ authorization: `Bearer ${PROJ_KEY}`, 'x-request-id': 'req_1' }),
      nested: { apiKey: 'plain-looking-secret', list: [`Bearer ${PROJ_KEY}`, 7], map: new Map([['api-key', 'abc']]) },
      self: undefined as unknown,
      trap: new Proxy({}, { ownKeys() { throw new Error('trap'); } }),
    };
    original.self = original;
    const view = redactedView(original) as Record<string, any>;
    const text = JSON.stringify(view, (k, v) => (k === 'self' ? '[cycle]' : v));
    assert.ok(!text.includes(PROJ_KEY) && !text.includes('plain-looking-secret'), text);
    assert.deepEqual(view.headers, { authorization: '[REDACTED]', 'x-request-id': 'req_1' });
    assert.equal(view.nested.apiKey, '[REDACTED]');
    assert.equal(view.nested.list[1], 7);
    assert.equal(view.self, view, 'a cycle points back into the view');
    assert.equal(view.trap, '[unreadable]');
    assert.equal(original.message, `sent ${PROJ_KEY}`);
    assert.equal(original.headers.get('authorization'), `Bearer ${PROJ_KEY}`);
    assert.equal((redactedView({ a: { b: { c: 1 } } }, 1) as any).a.b, '[…]');
  });
});
