import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMock, parseScenario } from '../../src/mock/index.ts';

test('bad scenario rules are rejected with an error naming the field', () => {
  const cases: Array<[unknown, RegExp, typeof TypeError | typeof RangeError]> = [
    [[{ fault: { type: 'outcome', status: 'bogus' } }], /rules\[0\]\.fault\.status/, TypeError],
    [[{ fault: { type: 'outcome' } }], /rules\[0\]\.fault\.status/, TypeError],
    [[{ fault: { type: 'stream', action: 'explode' } }], /rules\[0\]\.fault\.action/, TypeError],
    [[{ fault: { type: 'stream', action: 'error', shape: 'round' } }], /fault\.shape/, TypeError],
    [[{ fault: { type: 'reset', when: 'later' } }], /fault\.when/, TypeError],
    [[{ fault: { type: 'reset', afterBytes: -5 } }], /fault\.afterBytes/, RangeError],
    [[{ fault: { type: 'stream', action: 'reset', afterEvents: 1.5 } }], /fault\.afterEvents/, RangeError],
    [[{ fault: { type: 'batch', status: 'melted' } }], /fault\.status/, TypeError],
    [[{ match: { nth: 'x' }, fault: { type: 'reset' } }], /rules\[0\]\.match\.nth/, RangeError],
    [[{ match: { nth: [1, 0] }, fault: { type: 'reset' } }], /match\.nth/, RangeError],
    [[{ times: -1, fault: { type: 'reset' } }], /rules\[0\]\.times/, RangeError],
    [[{ fault: { type: 'reset' } }, { fault: { type: 'outcome', status: 'done' } }], /rules\[1\]\.fault\.status/, TypeError],
  ];
  for (const [rules, message, Kind] of cases) {
    assert.throws(() => parseScenario(rules), (e: unknown) => e instanceof Kind && message.test(e.message), JSON.stringify(rules));
  }
});

test('good rules still parse', () => {
  const rules = [
    { fault: { type: 'outcome', status: 'incomplete', reason: null } },
    { match: { nth: [1, 2], from: 1 }, times: 3, fault: [{ type: 'delay', ms: 5 }, { type: 'reset', when: 'mid_body', afterBytes: 0 }] },
    { fault: { type: 'stream', action: 'error', shape: 'azure', afterEvents: 0 } },
  ];
  assert.equal(parseScenario(rules).rules.length, 3);
});

test('createMock rejects a bad scenario before serving anything', () => {
  assert.throws(() => createMock({ scenario: [{ fault: { type: 'outcome', status: 'bogus' } }] as never }), /fault\.status/);
});

test('a non-positive token limit gets the real 400 (integer_below_min_value, param named)', async () => {
  const mock = createMock();
  try {
    for (const [path, body, param] of [
      ['/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: -100000 }, 'max_tokens'],
      ['/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 0 }, 'max_completion_tokens'],
      ['/v1/responses', { model: 'gpt-4o-mini', input: 'hi', max_output_tokens: 0 }, 'max_output_tokens'],
    ] as const) {
      const res = await mock.fetch(`http://mock.local${path}`, { method: 'POST', headers: { authorization: 'Bearer sk-test', 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(res.status, 400, path);
      const err = ((await res.json()) as { error: { code: string; param: string; type: string } }).error;
      assert.deepEqual([err.code, err.param, err.type], ['integer_below_min_value', param, 'invalid_request_error']);
    }
  } finally {
    await mock.close();
  }
});

test('webhook delivery to a receiver that never answers ends after 1 + retries timeouts (mock clock)', { timeout: 20_000 }, async () => {
  const { createManualClock } = await import('../../src/mock/index.ts');
  const { generateWebhookSecret } = await import('../../src/webhooks/standard-webhooks.ts');
  const clock = createManualClock();
  let calls = 0;
  const mock = createMock({
    clock,
    background: { queuedMs: 0, runMs: 10 },
    webhooks: { url: 'http://127.0.0.1:1/hook', secret: generateWebhookSecret(), retries: 1, retryDelaysMs: [100], attemptTimeoutMs: 1000, fetch: () => (calls++, new Promise<Response>(() => {})) },
  });
  try {
    const res = await mock.fetch('http://mock.local/v1/responses', { method: 'POST', headers: { authorization: 'Bearer sk-test', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', input: 'x', background: true }) });
    assert.equal(res.status, 200);
    await mock.advance(20); // the run ends: its response.completed delivery starts
    assert.equal(calls, 1);
    let idle = false;
    const done = mock.webhooksIdle().then(() => (idle = true));
    for (let i = 0; i < 20 && !idle; i++) await mock.advance(500);
    await done;
    assert.equal(calls, 2);
    const hooks = mock.log.filter((e) => e.kind === 'webhook');
    assert.deepEqual(hooks.map((h) => (h.kind === 'webhook' ? [h.attempt, h.status] : [])), [[1, null], [2, null]]);
  } finally {
    await mock.close();
  }
});

test('webhook options are validated', () => {
  const secret = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
  const cases = [[{ retries: Infinity }, 'retries'], [{ retries: -1 }, 'retries'], [{ retries: 100 }, 'retries'], [{ retries: 1.5 }, 'retries'], [{ retryDelaysMs: [-1] }, 'retryDelaysMs'], [{ attemptTimeoutMs: 0 }, 'attemptTimeoutMs']] as const;
  for (const [bad, name] of cases) {
    assert.throws(
      () => createMock({ webhooks: { url: 'http://127.0.0.1:1/hook', secret, ...bad } }),
      (e: unknown) => e instanceof RangeError && e.message.startsWith(`createMock: options.webhooks.${name} must be `) && /, got /.test(e.message),
    );
  }
  // The names used before 0.2.0 fail at once, naming the new one (never read as something else).
  for (const [old, now] of [['maxAttempts', 'retries'], ['timeoutMs', 'attemptTimeoutMs']] as const) {
    assert.throws(
      () => createMock({ webhooks: { url: 'http://127.0.0.1:1/hook', secret, [old]: 3 } as never }),
      (e: unknown) => e instanceof TypeError && e.message.startsWith(`createMock: options.webhooks.${old} was renamed to options.webhooks.${now}`),
    );
  }
  assert.throws(() => createMock({ webhooks: { url: 'ftp://x', secret } }), /^TypeError: createMock: options\.webhooks\.url must be an http\(s\) URL, got "ftp:\/\/x"$/);
  const planted = 'whsec_' + 'A'.repeat(5) + '!';
  assert.throws(() => createMock({ webhooks: { url: 'http://127.0.0.1:1/hook', secret: planted } }), (e: unknown) => e instanceof TypeError && /options\.webhooks\.secret must be/.test(e.message) && !e.message.includes(planted));
});
