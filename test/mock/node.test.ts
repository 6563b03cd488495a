/** The node adapter over real loopback HTTP, files + batches, and webhook deliveries. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classify } from '../../src/core/classify/index.ts';
import { createManualClock, createMock, listen, type MockLogEntry } from '../../src/mock/index.ts';
import { verifyWebhook } from '../../src/webhooks/standard-webhooks.ts';
import { MAJORS, collect, rejection } from './helpers.ts';

describe('listen() over 127.0.0.1', () => {
  test('binds loopback, serves every SDK major, streams, and closes cleanly', async () => {
    const server = await listen({ mock: { seed: 5 } });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      for (const sdk of MAJORS) {
        const Ctor = sdk.errors as unknown as new (o: object) => any;
        const client = new Ctor({ apiKey: 'sk-test', baseURL: server.url, maxRetries: 0 });
        const r = await client.responses.create({ model: 'gpt-4o-mini', input: 'hi' });
        assert.equal(r.status, 'completed', sdk.name);
        const events = await collect(await client.responses.create({ model: 'gpt-4o-mini', input: 'hi', stream: true }));
        assert.equal(events.at(-1).type, 'response.completed');
      }
      const bad = await fetch(`${server.url}/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer x' }, body: '{' });
      assert.equal(bad.status, 400);
      await bad.text();
    } finally {
      await server.close();
      await server.close(); // idempotent
    }
  });

  test('resets before headers and mid-stream reach the SDK as connection errors', async () => {
    const server = await listen({
      mock: {
        scenario: [
          { match: { nth: 1 }, fault: { type: 'reset' } },
          { match: { nth: 2 }, fault: { type: 'stream', action: 'reset', afterEvents: 3 } },
        ],
      },
    });
    try {
      const Ctor = MAJORS.at(-1)!.errors as unknown as new (o: object) => any;
      const client = new Ctor({ apiKey: 'sk-test', baseURL: server.url, maxRetries: 0 });
      const e1 = await rejection(() => client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] }));
      assert.equal(classify(e1).code, 'connection_error', String(e1));
      const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [], stream: true });
      const seen: unknown[] = [];
      const e2 = await rejection(async () => {
        for await (const c of stream) seen.push(c);
      });
      assert.equal(seen.length, 3);
      assert.equal(classify(e2).code, 'connection_error', String(e2));
      assert.deepEqual(
        server.mock.log.map((e) => (e.kind === 'request' ? e.status : -1)),
        [null, 200],
      );
    } finally {
      await server.close();
    }
  });

  test('rejects a bad port', async () => {
    await assert.rejects(() => listen({ port: 70000 }), /^RangeError: listen: options\.port must be an integer from 0 to 65535, got 70000$/);
  });

  test('logFile: every entry as a JSON line, equal to mock.log, flushed by close(); onLog still called', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-logfile-'));
    try {
      const logFile = join(dir, 'log.jsonl');
      const seen: MockLogEntry[] = [];
      const server = await listen({ mock: { seed: 2, onLog: (e) => void seen.push(e) }, logFile });
      for (const path of ['/models', '/models/gpt-4o', '/nope']) {
        const res = await fetch(server.url + path, { headers: { authorization: `Bearer ${['sk', 'log'].join('-')}` } });
        await res.text();
      }
      await server.close();
      const lines = (await readFile(logFile, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
      assert.equal(lines.length, 3);
      assert.deepEqual(lines, server.mock.log);
      assert.deepEqual(seen, server.mock.log);
      assert.deepEqual(lines.map((e) => e.status), [200, 200, 404]);
      // A running Mock reports through its own onLog: logFile needs options to subscribe.
      const mock = createMock();
      await assert.rejects(listen({ mock, logFile }), /^TypeError: listen: options\.mock must be mock options when options\.logFile is given/);
      await assert.rejects(listen({ mock: { log: logFile } as never }), /^TypeError: listen: options\.mock\.log was renamed to options\.logFile/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('files and batches', () => {
  test('a batch produces output and error files with per-line failures', async () => {
    const clock = createManualClock();
    const mock = createMock({
      clock,
      scenario: [
        { match: { batch: true, nth: 2 }, fault: { type: 'http', preset: 'server_error' } },
        { match: { batch: true, nth: 3 }, fault: { type: 'batch', code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' } },
      ],
    });
    const sdk = MAJORS.at(-1)!;
    const client = sdk.client(mock);
    const lines = [0, 1, 2, 3].map((i) =>
      JSON.stringify({ custom_id: `c${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `q${i}` }] } }),
    );
    const file = await client.files.create({ file: await sdk.toFile(new TextEncoder().encode(lines.join('\n') + '\n'), 'in.jsonl'), purpose: 'batch' });
    assert.match(file.id, /^file-/);
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    assert.equal(batch.status, 'validating');
    await mock.advance(100);
    assert.equal((await client.batches.retrieve(batch.id)).status, 'in_progress');
    await mock.advance(1000);
    const done = await client.batches.retrieve(batch.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.request_counts, { total: 4, completed: 2, failed: 2 });
    const out = (await (await client.files.content(done.output_file_id)).text()).trim().split('\n').map((l: string) => JSON.parse(l));
    const err = (await (await client.files.content(done.error_file_id)).text()).trim().split('\n').map((l: string) => JSON.parse(l));
    assert.deepEqual(out.map((l: any) => [l.custom_id, l.response.status_code]), [['c0', 200], ['c1', 500], ['c3', 200]]);
    assert.equal(out[0].response.body.object, 'chat.completion');
    assert.equal(classify(out[1]).code, 'server_error');
    assert.equal(err[0].custom_id, 'c2');
    assert.equal(err[0].error.code, 'batch_expired');
    await mock.close();
  });

  test('reading a batch has no side effect: its files exist once it completes, whether or not it was read', async () => {
    const key = ['sk', 'batch', 'reads'].join('-');
    const auth = { authorization: `Bearer ${key}` };
    // Two mocks with one seed and the same requests, except that only the first reads the batch.
    const run = async (readBatch: boolean, outputId?: string) => {
      const mock = createMock({ clock: createManualClock(), seed: 9 });
      const form = new FormData();
      form.set('purpose', 'batch');
      form.set('file', new File([JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [] } }) + '\n'], 'in.jsonl'));
      const input = (await (await mock.fetch('http://mock.local/v1/files', { method: 'POST', headers: auth, body: form })).json()) as { id: string };
      const created = await mock.fetch('http://mock.local/v1/batches', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
      });
      const batch = (await created.json()) as { id: string; output_file_id: string | null };
      assert.equal(batch.output_file_id, null);
      if (outputId !== undefined) {
        const early = await mock.fetch(`http://mock.local/v1/files/${outputId}/content`, { headers: auth });
        assert.equal(early.status, 404, 'not there while the batch runs');
        await early.text();
      }
      await mock.advance(1100);
      let shown: string | undefined;
      if (readBatch) {
        const first = await (await mock.fetch(`http://mock.local/v1/batches/${batch.id}`, { headers: auth })).json();
        const second = await (await mock.fetch(`http://mock.local/v1/batches/${batch.id}`, { headers: auth })).json();
        assert.deepEqual(second, first, 'reading twice shows the same batch');
        shown = (first as { output_file_id: string }).output_file_id;
      }
      const id = outputId ?? shown!;
      const res = await mock.fetch(`http://mock.local/v1/files/${id}/content`, { headers: auth });
      const text = await res.text();
      await mock.close();
      return { id, status: res.status, text };
    };
    const read = await run(true);
    assert.equal(read.status, 200);
    assert.equal(JSON.parse(read.text.trim()).custom_id, 'a');
    const unread = await run(false, read.id);
    assert.deepEqual(unread, read);
  });

  test('a batch-level fault ends the batch failed/expired', async () => {
    for (const status of ['failed', 'expired'] as const) {
      const clock = createManualClock();
      const mock = createMock({ clock, scenario: [{ match: { path: '/v1/batches' }, fault: { type: 'batch', status } }] });
      const sdk = MAJORS.at(-1)!;
      const client = sdk.client(mock);
      const file = await client.files.create({ file: await sdk.toFile(new TextEncoder().encode('{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[]}}\n'), 'in.jsonl'), purpose: 'batch' });
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      await mock.advance(5000);
      const b = await client.batches.retrieve(batch.id);
      assert.equal(b.status, status);
      assert.equal(classify(b).code, status === 'failed' ? classify(b).code : 'expired');
      await mock.close();
    }
  });
});

describe('webhooks', () => {
  const secret = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');

  test('signed deliveries for terminal Responses and batches, with retries and duplicates', async () => {
    const clock = createManualClock();
    const received: { headers: Headers; body: string }[] = [];
    let failuresLeft = 1;
    const receiver = async (_url: string, init: RequestInit): Promise<Response> => {
      const headers = new Headers(init.headers);
      received.push({ headers, body: String(init.body) });
      if (failuresLeft-- > 0) return new Response('busy', { status: 503 });
      return new Response(null, { status: 204 });
    };
    const mock = createMock({
      clock,
      background: { queuedMs: 10, runMs: 100 },
      webhooks: { url: 'https://example.test/hook', secret, fetch: receiver, retryDelaysMs: [1000], duplicateProbability: 1 },
      scenario: [{ match: { nth: 2, background: true }, fault: { type: 'outcome', status: 'failed', code: 'server_error' } }],
    });
    const client = MAJORS.at(-1)!.client(mock);
    const a = await client.responses.create({ model: 'gpt-4o-mini', input: 'x', background: true });
    const b = await client.responses.create({ model: 'gpt-4o-mini', input: 'x', background: true });
    await mock.advance(110);
    await mock.advance(1000);
    await mock.webhooksIdle();
    const events = received.map((r) => ({ ...(JSON.parse(r.body) as { type: string; data: { id: string } }), id: r.headers.get('webhook-id') }));
    // a: one 503 then a success then a duplicate; b: success then duplicate.
    assert.equal(received.length, 5);
    for (const r of received) {
      const v = verifyWebhook({ body: r.body, headers: r.headers, secret, now: clock.now() });
      assert.equal(v.ok, true);
    }
    const forA = events.filter((e) => e.data.id === a.id);
    const forB = events.filter((e) => e.data.id === b.id);
    assert.deepEqual(forA.map((e) => e.type), ['response.completed', 'response.completed', 'response.completed']);
    assert.deepEqual(forB.map((e) => e.type), ['response.failed', 'response.failed']);
    assert.equal(new Set(forA.map((e) => e.id)).size, 1, 'retries and duplicates share the webhook-id');
    const hooks = mock.log.filter((e) => e.kind === 'webhook');
    // Deliveries of different events run concurrently, so compare per event.
    const attempts = (id: string) =>
      hooks.flatMap((h) => (h.kind === 'webhook' && h.objectId === id ? [[h.attempt, h.duplicate, h.status]] : []));
    assert.deepEqual(attempts(a.id), [
      [1, false, 503],
      [2, false, 204],
      [2, true, 204],
    ]);
    assert.deepEqual(attempts(b.id), [
      [1, false, 204],
      [1, true, 204],
    ]);
    assert.ok(!JSON.stringify(mock.log).includes(secret.slice(6)));
    await mock.close();
  });

  test('a cancelled Response sends response.cancelled at once', async () => {
    const clock = createManualClock();
    const bodies: string[] = [];
    const mock = createMock({
      clock,
      webhooks: { url: 'http://127.0.0.1:1/hook', secret, fetch: async (_u, init) => (bodies.push(String(init.body)), new Response(null, { status: 200 })) },
    });
    const client = MAJORS.at(-1)!.client(mock);
    const r = await client.responses.create({ model: 'gpt-4o-mini', input: 'x', background: true });
    await client.responses.cancel(r.id);
    await mock.webhooksIdle();
    assert.deepEqual(bodies.map((b) => JSON.parse(b).type), ['response.cancelled']);
    await mock.close();
  });

  test('a malformed secret is misuse', () => {
    assert.throws(() => createMock({ webhooks: { url: 'https://x.test', secret: 'whsec_***' } }), TypeError);
  });
});
