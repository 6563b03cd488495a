/** Scenario faults, bad input, background outcomes, determinism and the log, through the in-process fetch. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { classify } from '../../src/core/classify/index.ts';
import { createManualClock, createMock, parseScenario, type Mock, type MockLogEntry, type Rule } from '../../src/mock/index.ts';
import { MAJORS, collect, rejection } from './helpers.ts';

const v7 = MAJORS.find((m) => m.name === 'v7')!;

function call(mock: Mock, path: string, body?: unknown, init: RequestInit = {}): Promise<Response> {
  return mock.fetch(`http://mock${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: 'Bearer sk-test', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    ...init,
  });
}

describe('maxLogEntries', () => {
  test('the in-memory log keeps at most that many entries, the newest, dropping the oldest in batches', async () => {
    const mock = createMock({ maxLogEntries: 16 });
    const lengths: number[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await call(mock, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `hi ${i}` }] });
      await res.arrayBuffer();
      lengths.push(mock.log.length);
    }
    assert.ok(Math.max(...lengths) <= 16, `max ${Math.max(...lengths)}`);
    assert.ok(Math.min(...lengths.slice(16)) >= 14, `min ${Math.min(...lengths.slice(16))}`);
    const seqs = mock.log.map((e) => e.seq);
    assert.equal(seqs.at(-1), 60, 'the newest entry is kept');
    assert.deepEqual(seqs, seqs.map((_, i) => seqs[0]! + i), 'a contiguous run of the newest');
    assert.throws(() => createMock({ maxLogEntries: -1 }), /maxLogEntries/);
    const none = createMock({ maxLogEntries: 0 });
    await (await call(none, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [] })).arrayBuffer();
    assert.equal(none.log.length, 0);
    const frac = createMock({ maxLogEntries: 2.5 });
    for (let i = 0; i < 5; i++) await (await call(frac, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [] })).arrayBuffer();
    assert.ok(frac.log.length >= 1 && frac.log.length <= 2, String(frac.log.length));
  });
});

describe('bad input never crashes the mock', () => {
  test('malformed JSON, missing model, wrong types, unknown routes, missing key', async () => {
    const mock = createMock();
    const bad = await call(mock, '/v1/responses', '{"model": "gpt-4o-mini",');
    assert.equal(bad.status, 400);
    const badBody = (await bad.json()) as { error: Record<string, unknown> };
    assert.match(String(badBody.error['message']), /^We could not parse the JSON body of your request\./);
    assert.equal(badBody.error['type'], 'invalid_request_error');
    assert.equal(badBody.error['param'], null);

    const noModel = await call(mock, '/v1/chat/completions', { messages: [] });
    assert.equal(noModel.status, 400);
    assert.deepEqual(((await noModel.json()) as { error: unknown }).error, {
      message: "Missing required parameter: 'model'.",
      type: 'invalid_request_error',
      param: 'model',
      code: 'missing_required_parameter',
    });

    const wrongType = await call(mock, '/v1/responses', { model: 'gpt-4o-mini', input: 'x', stream: 'yes' });
    assert.equal(wrongType.status, 400);
    assert.equal(((await wrongType.json()) as { error: { param: string } }).error.param, 'stream');

    for (const body of ['[]', 'null', '42', '"x"', '']) {
      const r = await call(mock, '/v1/chat/completions', body);
      assert.equal(r.status, 400, body);
      await r.text();
    }

    const unknown = await call(mock, '/v1/nope', {});
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { message: string } }).error.message, 'Invalid URL (POST /v1/nope)');

    const noKey = await mock.fetch('http://mock/v1/models');
    assert.equal(noKey.status, 401);
    await noKey.text();
    assert.ok(mock.log.every((e) => e.kind === 'request' && e.requestId.startsWith('req_')));
    await mock.close();
  });

  test('every reply carries x-request-id; apiKeys restricts keys with the real 401', async () => {
    const mock = createMock({ apiKeys: ['sk-good'] });
    const res = await mock.fetch('http://mock/v1/models', { headers: { authorization: 'Bearer sk-bad' } });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('x-request-id')!, /^req_[0-9a-f]{32}$/);
    const text = await res.text();
    assert.ok(!text.includes('sk-bad'));
    const ok = await mock.fetch('http://mock/v1/models', { headers: { authorization: 'Bearer sk-good' } });
    assert.equal(ok.status, 200);
    await ok.text();
    assert.ok(!JSON.stringify(mock.log).includes('sk-good'), 'the log never holds a key');
  });

  test('misuse throws precise errors', () => {
    assert.throws(() => createMock({ seed: 1.5 }), /^TypeError: createMock: options\.seed must be an integer, got 1\.5$/);
    assert.throws(() => createMock({ rateLimit: { rpm: 0 } }), /rateLimit\.rpm/);
    assert.throws(() => createMock({ scenario: [{ fault: { type: 'nope' } } as unknown as Rule] }), /fault\.type/);
    assert.throws(() => parseScenario({ rules: [{ fault: { type: 'http', preset: 'nope' } }] }), /preset/);
    assert.throws(() => parseScenario([{ match: { probability: 2 }, fault: { type: 'reset' } }]), RangeError);
  });
});

describe('faults', () => {
  test('x-should-retry, extra headers and custom bodies', async () => {
    const mock = createMock({
      scenario: [{ fault: { type: 'http', status: 418, body: 'teapot', headers: { 'x-extra': '1' }, shouldRetry: false } }],
    });
    const res = await call(mock, '/v1/models');
    assert.equal(res.status, 418);
    assert.equal(res.headers.get('x-should-retry'), 'false');
    assert.equal(res.headers.get('x-extra'), '1');
    assert.equal(await res.text(), 'teapot');
  });

  test('nth, every, times and model/path matching', async () => {
    const mock = createMock({
      scenario: [
        { id: 'third', match: { path: '/v1/chat/completions', nth: 3 }, fault: { type: 'http', preset: 'server_error' } },
        { id: 'every2', match: { model: 'gpt-4o', every: 2 }, fault: { type: 'http', preset: 'overloaded' }, times: 1 },
      ],
    });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await call(mock, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [] });
      statuses.push(r.status);
      await r.text();
    }
    for (let i = 0; i < 6; i++) {
      const r = await call(mock, '/v1/responses', { model: 'gpt-4o', input: 'x' });
      statuses.push(r.status);
      await r.text();
    }
    assert.deepEqual(statuses, [200, 200, 500, 200, 200, 503, 200, 200, 200, 200]);
  });

  test('mid-body reset on a JSON reply', async () => {
    const mock = createMock({ scenario: [{ fault: { type: 'reset', when: 'mid_body', afterBytes: 10 } }] });
    const res = await call(mock, '/v1/responses', { model: 'gpt-4o-mini', input: 'x' });
    assert.equal(res.status, 200);
    const err = await rejection(() => res.text());
    assert.equal(classify(err).code, 'connection_error');
  });

  test('truncated SSE ends without the terminal event', async () => {
    const mock = createMock({ scenario: [{ fault: { type: 'stream', action: 'truncate', afterEvents: 5 } }] });
    const events = await collect(await v7.client(mock).responses.create({ model: 'gpt-4o-mini', input: 'x', stream: true }));
    assert.equal(events.length, 5);
    assert.ok(!events.some((e) => e.type === 'response.completed'));
  });

  test("Azure's failed pair ends the stored run too: a retrieve says failed, not the original outcome", async () => {
    const mock = createMock({ scenario: [{ fault: { type: 'stream', action: 'error', shape: 'azure', afterEvents: 2, code: 'rate_limit_exceeded', message: 'Rate limit reached.' } }] });
    const res = await call(mock, '/v1/responses', { model: 'gpt-4o-mini', input: 'x', stream: true, store: true });
    const datas = (await res.text())
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as { type: string; response?: { id: string; status: string; error: unknown } });
    assert.deepEqual(datas.map((d) => d.type).slice(-2), ['response.failed', 'error']);
    const id = datas[0]!.response!.id;
    const stored = (await (await call(mock, `/v1/responses/${id}`)).json()) as { status: string; error: unknown };
    assert.equal(stored.status, 'failed');
    assert.equal(stored.error, null);
  });

  test('proxy mode strips headers from every reply, 429s included', async () => {
    const mock = createMock({ rateLimit: { rpm: 1 }, stripHeaders: true });
    await (await call(mock, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [] })).text();
    const limited = await call(mock, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [] });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), null);
    assert.equal(limited.headers.get('retry-after-ms'), null);
    assert.equal(limited.headers.get('x-ratelimit-reset-requests'), null);
    assert.equal(classify({ status: 429, body: await limited.json() }).code, 'rate_limit_exceeded');
    const some = createMock({ rateLimit: { rpm: 5 }, stripHeaders: ['x-ratelimit-reset-*'] });
    const r = await call(some, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [] });
    await r.text();
    assert.equal(r.headers.get('x-ratelimit-reset-tokens'), null);
    assert.equal(r.headers.get('x-ratelimit-remaining-requests'), '4');
  });

  test('header stripping by rule', async () => {
    const mock = createMock({ rateLimit: { rpm: 100 }, scenario: [{ fault: { type: 'strip_headers' } }] });
    const res = await call(mock, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [] });
    await res.text();
    assert.equal(res.headers.get('x-request-id'), null);
    assert.equal(res.headers.get('x-ratelimit-limit-requests'), null);
  });

  test('sync outcomes: incomplete with each reason or none; chat finish reasons', async () => {
    const client = (rules: Rule[]) => v7.client(createMock({ scenario: rules }));
    for (const reason of ['max_output_tokens', 'content_filter', null]) {
      const r = await client([{ fault: { type: 'outcome', status: 'incomplete', reason } }]).responses.create({ model: 'gpt-4o-mini', input: 'x' });
      assert.equal(r.status, 'incomplete');
      assert.deepEqual(r.incomplete_details, reason === null ? null : { reason });
      const code = classify(r).code;
      assert.equal(code, reason === 'content_filter' ? 'content_filtered' : reason === null ? 'incomplete' : 'max_output_tokens');
    }
    const cut = await v7.client(createMock()).responses.create({ model: 'gpt-4o-mini', input: 'x', max_output_tokens: 2 });
    assert.equal(cut.status, 'incomplete');
    const chat = await client([{ fault: { type: 'outcome', status: 'incomplete', reason: 'content_filter' } }]).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
    });
    assert.equal(chat.choices[0].finish_reason, 'content_filter');
    assert.equal(classify(chat).code, 'content_filtered');
  });

  test('Azure mode: deployment paths, api-key header, Azure 429 body and headers', async () => {
    const mock = createMock({ azure: true, rateLimit: { rpm: 1 } });
    const url = 'http://mock/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21';
    const init = { method: 'POST', headers: { 'api-key': 'azure-key', 'content-type': 'application/json' }, body: JSON.stringify({ messages: [] }) };
    const ok = await mock.fetch(url, init);
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { model: string }).model, 'my-gpt');
    assert.ok(ok.headers.get('apim-request-id'));
    const limited = await mock.fetch(url, init);
    assert.equal(limited.status, 429);
    const body = (await limited.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, '429');
    assert.match(body.error.message, /Please retry after \d+ seconds/);
    assert.equal(classify({ status: 429, headers: limited.headers, body }).code, 'rate_limit_exceeded');
  });
});

describe('background outcomes', () => {
  async function run(rules: Rule[], extra: Partial<Parameters<typeof createMock>[0]> = {}) {
    const clock = createManualClock();
    const mock = createMock({ clock, scenario: rules, ...extra });
    const client = v7.client(mock);
    const created = await client.responses.create({ model: 'gpt-4o-mini', input: 'x', background: true });
    return { mock, client, created, clock };
  }

  test('failed with each ResponseError.code, and with error: null', async () => {
    for (const code of ['server_error', 'rate_limit_exceeded', 'invalid_prompt', 'vector_store_timeout', null]) {
      const { mock, client, created } = await run([{ fault: { type: 'outcome', status: 'failed', code } }]);
      await mock.advance(5000);
      const r = await client.responses.retrieve(created.id);
      assert.equal(r.status, 'failed');
      assert.deepEqual(r.error, code === null ? null : { code, message: r.error.message });
      const expected = { server_error: 'server_error', rate_limit_exceeded: 'rate_limit_exceeded', invalid_prompt: 'content_policy_violation', vector_store_timeout: 'timeout' } as Record<string, string>;
      if (code !== null && expected[code]) assert.equal(classify(r).code, expected[code], code);
    }
  });

  test('a cancelled run that later reads completed', async () => {
    const { mock, client, created } = await run([{ fault: { type: 'outcome', status: 'cancelled', thenCompleted: true } }]);
    await mock.advance(200);
    assert.equal((await client.responses.cancel(created.id)).status, 'cancelled');
    await mock.advance(5000);
    assert.equal((await client.responses.retrieve(created.id)).status, 'completed');
  });

  test('a run the server cancels on its own', async () => {
    const { mock, client, created } = await run([{ fault: { type: 'outcome', status: 'cancelled' } }]);
    await mock.advance(5000);
    const r = await client.responses.retrieve(created.id);
    assert.equal(r.status, 'cancelled');
    assert.equal(classify(r).code, 'cancelled');
  });

  test('retention: expired Responses 404 (per rule and globally)', async () => {
    const { mock, client, created } = await run([{ fault: { type: 'expire', afterMs: 3000 } }]);
    await mock.advance(2000);
    assert.equal((await client.responses.retrieve(created.id)).status, 'completed');
    await mock.advance(1000);
    const err = await rejection(() => client.responses.retrieve(created.id));
    assert.equal((err as { status: number }).status, 404);
    const g = await run([], { responseTtlMs: 10 });
    await g.mock.advance(10);
    assert.equal(((await rejection(() => g.client.responses.retrieve(g.created.id))) as { status: number }).status, 404);
  });

  test('cancel of a foreground Response is a 400; resume of a foreground one too', async () => {
    const mock = createMock();
    const client = v7.client(mock);
    const r = await client.responses.create({ model: 'gpt-4o-mini', input: 'x' });
    const e1 = await rejection(() => client.responses.cancel(r.id));
    assert.equal((e1 as { status: number }).status, 400);
    const e2 = await rejection(async () => collect(await client.responses.retrieve(r.id, { stream: true })));
    assert.equal((e2 as { status: number }).status, 400);
  });
});

describe('the ground-truth log', () => {
  const scenario: Rule[] = [
    { id: 'flaky', match: { path: '/v1/chat/completions', probability: 0.3 }, fault: { type: 'http', preset: 'server_error' } },
    { id: 'quota', match: { probability: 0.05 }, fault: { type: 'http', preset: 'insufficient_quota' } },
  ];

  async function workload(seed: number, lines?: string[]): Promise<MockLogEntry[]> {
    const mock = createMock({ seed, scenario, rateLimit: { rpm: 30, tpm: 10_000 }, ...(lines ? { onLog: (e: MockLogEntry) => void lines.push(JSON.stringify(e)) } : {}) });
    const client = v7.client(mock);
    for (let i = 0; i < 60; i++) {
      await client.chat.completions
        .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `q${i}` }] }, { headers: { 'x-bench-id': `job-${i}` } })
        .catch(() => {});
      if (i % 10 === 0) await client.responses.create({ model: 'gpt-4o-mini', input: 'x', background: true }).catch(() => {});
    }
    await mock.close();
    return [...mock.log];
  }

  const strip = (log: MockLogEntry[]) => log.map(({ t: _t, ...rest }) => JSON.stringify(rest)).join('\n');

  test('same seed → same log, byte for byte except timestamps; another seed differs', async () => {
    const a = await workload(7);
    const b = await workload(7);
    const c = await workload(8);
    assert.equal(strip(a), strip(b));
    assert.notEqual(strip(a), strip(c));
    const outcomes = new Set(a.map((e) => (e.kind === 'request' ? e.outcome : '')));
    assert.ok(outcomes.has('fault') && outcomes.has('ok') && outcomes.has('rate_limited_requests'), [...outcomes].join());
  });

  test('fields, and onLog sees every entry the in-memory log keeps, in order', async () => {
    {
      const seen: string[] = [];
      const log = await workload(3, seen);
      assert.deepEqual(seen.map((l) => JSON.parse(l)), log);
      const first = log[0]!;
      assert.equal(first.kind, 'request');
      if (first.kind === 'request') {
        assert.equal(first.benchId, 'job-0');
        assert.match(first.key!, /^key_[0-9a-f]{8}$/);
        assert.ok(first.cost > 0);
        assert.equal(first.path, '/v1/chat/completions');
      }
      assert.ok(!JSON.stringify(log).includes('sk-test'));
    }
  });

  test('the key fingerprint is the first 8 hex digits of the key\'s SHA-256 (never the key)', async () => {
    const key = ['sk', 'fingerprint', String(Date.now())].join('-');
    const mock = createMock();
    await mock.fetch('http://mock.local/v1/models', { headers: { authorization: `Bearer ${key}` } });
    const { createHash } = await import('node:crypto');
    assert.equal(mock.log[0]?.kind === 'request' ? mock.log[0].key : undefined, 'key_' + createHash('sha256').update(key).digest('hex').slice(0, 8));
  });

  test('the old log option fails at once, naming onLog', () => {
    assert.throws(() => createMock({ log: 'x.jsonl' } as never), /^TypeError: createMock: options\.log was renamed to options\.onLog/);
  });
});
