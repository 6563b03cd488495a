/**
 * faultline/otel on background waits: a `failed`/`incomplete` Response is recorded as the error it is,
 * with its catalog code, whether the wait throws or returns it. Against an independent loopback server
 * (node:http) and against faultline's mock.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import OpenAI from 'openai';
import { createAndWait, waitForBatch, waitForResponse } from '../../src/background/index.ts';
import { createManualClock, createMock } from '../../src/mock/index.ts';
import { createFetch } from '../../src/retry/index.ts';
import { fakeKey, record, serveLoopback, type Recorder } from './harness.ts';

/** What the loopback server answers, by path. */
let objects: Record<string, unknown> = {};
/** Answers for `/v1/responses/resp_seq`, one per poll (status, body); the last repeats. */
let sequence: Array<readonly [number, unknown]> = [];
let polled = 0;
const server = serveLoopback((req, res) => {
  const path = (req.url ?? '').split('?')[0]!;
  const [status, body] = path === '/v1/responses/resp_seq' ? sequence[Math.min(polled++, sequence.length - 1)]! : [objects[path] === undefined ? 404 : 200, objects[path]];
  const text = JSON.stringify(body ?? { error: { message: 'No such object', type: 'invalid_request_error', param: null, code: null } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-request-id': `req_poll_${polled}` });
  res.end(text);
});

let rec: Recorder;
beforeEach(() => {
  rec = record();
  objects = {};
});
afterEach(() => rec.stop());

const loopbackClient = () => new OpenAI({ apiKey: fakeKey(), baseURL: server.base, fetch: createFetch({ pacing: false }), maxRetries: 0 });
const response = (status: string, extra: Record<string, unknown> = {}) => ({ id: 'resp_1', object: 'response', created_at: 1, status, model: 'gpt-4o-mini', output: [], error: null, incomplete_details: null, ...extra });
const waitSpan = () => rec.spans().find((s) => s.attributes['faultline.wait.kind'] !== undefined)!;
const count = async (name: string, outcome: string) => (await rec.points(name)).filter((p) => p.attributes['faultline.outcome'] === outcome).reduce((n, p) => n + (p.value as number), 0);

describe('background waits (loopback server)', () => {
  test('a failed Response is an error span with its code; the poll is a child span of the wait', async () => {
    objects['/v1/responses/resp_1'] = response('failed', { error: { code: 'server_error', message: 'The model failed' } });
    await assert.rejects(waitForResponse(loopbackClient(), 'resp_1', { timeoutMs: 10_000 }), { code: 'server_error' });
    const wait = waitSpan();
    assert.equal(wait.name, 'waitForResponse resp_1');
    assert.equal(wait.status.code, SpanStatusCode.ERROR);
    assert.equal(wait.attributes['error.type'], 'server_error');
    assert.equal(wait.attributes['faultline.object_id'], 'resp_1');
    assert.equal(wait.attributes['faultline.object_status'], 'failed');
    const poll = rec.spans().find((s) => s.name === 'GET')!;
    assert.equal(poll.parentSpanContext?.spanId, wait.spanContext().spanId);
    assert.equal(poll.attributes['error.type'], undefined, 'the poll itself succeeded (200)');
    assert.equal(await count('faultline.background.waits', 'server_error'), 1);
  });

  test('each status change and each retried poll error is an event on the wait span, with polls and retries counted', async () => {
    polled = 0;
    sequence = [
      [500, { error: { message: 'The server had an error', type: 'server_error', param: null, code: null } }],
      [200, response('in_progress', { id: 'resp_seq' })],
      [200, response('in_progress', { id: 'resp_seq' })],
      [200, response('completed', { id: 'resp_seq' })],
    ];
    const clock = createManualClock({ autoAdvance: true });
    const client = new OpenAI({ apiKey: fakeKey(), baseURL: server.base, maxRetries: 0 });
    await waitForResponse(client, 'resp_seq', { timeoutMs: 600_000, clock, random: () => 0.5 });
    const wait = waitSpan();
    assert.deepEqual(
      wait.events.map((e) => [e.name, e.attributes?.['faultline.failure.code'] ?? e.attributes?.['faultline.object_status']]),
      [['faultline.wait.retry', 'server_error'], ['faultline.wait.status', 'in_progress'], ['faultline.wait.status', 'completed']],
    );
    const retry = wait.events[0]!.attributes!;
    assert.equal(retry['http.response.status_code'], 500);
    assert.equal(retry['faultline.request_id'], 'req_poll_1');
    assert.ok((retry['faultline.delay_ms'] as number) > 0);
    assert.equal(wait.attributes['faultline.wait.polls'], 4);
    assert.equal(wait.attributes['faultline.retries'], 1);
    assert.equal(wait.attributes['error.type'], undefined, 'a poll error that was retried is not the outcome');
  });

  test('a completed Response: no error.type, outcome success', async () => {
    objects['/v1/responses/resp_1'] = response('completed');
    const r = await waitForResponse(loopbackClient(), 'resp_1', { timeoutMs: 10_000 });
    assert.equal(r.status, 'completed');
    const wait = waitSpan();
    assert.equal(wait.status.code, SpanStatusCode.UNSET);
    assert.equal(wait.attributes['error.type'], undefined);
    assert.equal(wait.attributes['faultline.object_status'], 'completed');
    assert.equal(await count('faultline.background.waits', 'success'), 1);
  });

  test('an incomplete Response returned (incomplete: "return") is still recorded as the error it is', async () => {
    objects['/v1/responses/resp_1'] = response('incomplete', { incomplete_details: { reason: 'max_output_tokens' } });
    const r = await waitForResponse(loopbackClient(), 'resp_1', { timeoutMs: 10_000, incomplete: 'return', onIncomplete: () => {} });
    assert.equal(r.status, 'incomplete');
    assert.equal(waitSpan().attributes['error.type'], 'max_output_tokens');
    assert.equal(waitSpan().status.code, SpanStatusCode.ERROR);
  });

  test('a batch that expired: an error span whether waitForBatch throws or returns the report', async () => {
    objects['/v1/batches/batch_1'] = { id: 'batch_1', object: 'batch', status: 'expired', created_at: 1, output_file_id: null, error_file_id: null };
    await assert.rejects(waitForBatch(loopbackClient(), 'batch_1', { timeoutMs: 10_000 }), { code: 'expired' });
    const report = await waitForBatch(loopbackClient(), 'batch_1', { timeoutMs: 10_000, failure: 'return' });
    assert.equal(report.error?.code, 'expired');
    const spans = rec.spans().filter((s) => s.attributes['faultline.wait.kind'] === 'batch');
    assert.deepEqual(spans.map((s) => [s.name, s.attributes['error.type'], s.attributes['faultline.object_status']]), [
      ['waitForBatch batch_1', 'expired', 'expired'],
      ['waitForBatch batch_1', 'expired', 'expired'],
    ]);
  });
});

describe('background waits (mock)', () => {
  function mockClient(scenario: Parameters<typeof createMock>[0] = {}) {
    const clock = createManualClock({ autoAdvance: true });
    const mock = createMock({ clock, background: { queuedMs: 100, runMs: 1000 }, ...scenario });
    const client = new OpenAI({ apiKey: fakeKey(), baseURL: 'http://mock.test/v1', fetch: mock.fetch, maxRetries: 0 });
    return { mock, client, clock };
  }

  test('createAndWait of a Response that fails on the server: error.type is its code, the id learned on the way', async () => {
    const { mock, client, clock } = mockClient({ scenario: [{ match: { path: '/v1/responses', method: 'POST' }, fault: { type: 'outcome', status: 'failed', code: 'rate_limit_exceeded', message: 'Rate limit reached' } }] });
    await assert.rejects(createAndWait(client, { model: 'gpt-4o-mini', input: 'hi' }, { timeoutMs: 60_000, clock }), { code: 'rate_limit_exceeded' });
    const wait = waitSpan();
    assert.equal(wait.name, 'createAndWait');
    assert.equal(wait.attributes['error.type'], 'rate_limit_exceeded');
    assert.equal(wait.attributes['gen_ai.request.model'], 'gpt-4o-mini');
    assert.match(String(wait.attributes['faultline.object_id']), /^resp_/);
    await mock.close();
  });

  test('createAndWait that completes: a success', async () => {
    const { mock, client, clock } = mockClient();
    const r = await createAndWait(client, { model: 'gpt-4o-mini', input: 'hi' }, { timeoutMs: 60_000, clock });
    assert.equal(r.status, 'completed');
    assert.equal(waitSpan().attributes['error.type'], undefined);
    assert.equal(waitSpan().attributes['faultline.object_status'], 'completed');
    assert.equal(await count('faultline.background.waits', 'success'), 1);
    await mock.close();
  });
});
