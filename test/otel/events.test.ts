/**
 * `instrument({ record: 'events' })`: no span of faultline's own; each request and wait is span events
 * on the caller's active span (the retry and wait events as they happen, one `faultline.request` /
 * `faultline.wait` event at the outcome). Against an independent loopback server (node:http).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import OpenAI from 'openai';
import { waitForResponse } from '../../src/background/index.ts';
import { instrument } from '../../src/otel/index.ts';
import { createFetch } from '../../src/retry/index.ts';
import { createManualClock } from '../../src/mock/index.ts';
import { apiError, completion, fakeKey, record, reply, serveLoopback, type Answer, type Recorder } from './harness.ts';

let script: Answer[] = [];
let seen = 0;
const server = serveLoopback((req, res) => script[Math.min(seen++, script.length - 1)]!(req, res));

const response = (status: string, extra: Record<string, unknown> = {}) => ({ id: 'resp_1', object: 'response', created_at: 1, status, model: 'gpt-4o-mini', output: [], error: null, incomplete_details: null, ...extra });

function client(): OpenAI {
  return new OpenAI({ apiKey: fakeKey(), baseURL: server.base, fetch: createFetch({ clock: createManualClock({ autoAdvance: true }), random: () => 0.5, pacing: false }), maxRetries: 0 });
}
const chat = (c: OpenAI) => c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

let rec: Recorder;
beforeEach(() => {
  script = [];
  seen = 0;
  rec = record('events');
});
afterEach(() => rec.stop());

/** Runs `fn` inside an active span of the caller's own, ended after; returns that span's id. */
async function inCallerSpan(fn: () => Promise<unknown>): Promise<string> {
  const tracer = rec.tracerProvider.getTracer('app');
  return tracer.startActiveSpan('caller', async (span: Span) => {
    try {
      await fn().catch(() => undefined);
    } finally {
      span.end();
    }
    return span.spanContext().spanId;
  });
}

describe("record: 'events'", () => {
  test("a 429 retried then answered: the caller's span is the only span, with the retry event then one request event", async () => {
    script = [apiError(429, 'rate_limit_exceeded', 'requests', { 'retry-after-ms': '50', 'x-request-id': 'req_first' }), completion({ 'x-request-id': 'req_second' })];
    const id = await inCallerSpan(() => chat(client()));
    const spans = rec.spans();
    assert.deepEqual(spans.map((s) => s.name), ['caller'], 'no span of faultline\'s own');
    const caller = spans[0]!;
    assert.equal(caller.spanContext().spanId, id);
    assert.deepEqual(caller.events.map((e) => e.name), ['faultline.retry', 'faultline.request']);
    const [retry, done] = caller.events;
    assert.equal(retry!.attributes!['faultline.failure.code'], 'rate_limit_exceeded');
    assert.equal(retry!.attributes!['faultline.request_id'], 'req_first');
    const a = done!.attributes!;
    assert.equal(a['gen_ai.operation.name'], 'chat');
    assert.equal(a['gen_ai.request.model'], 'gpt-4o-mini');
    assert.equal(a['http.response.status_code'], 200);
    assert.equal(a['faultline.attempts'], 2);
    assert.equal(a['faultline.retries'], 1);
    assert.equal(a['faultline.request_id'], 'req_second');
    assert.equal(a['error.type'], undefined, 'a retried-then-answered request is no error');
    assert.equal(typeof a['faultline.duration_ms'], 'number');
    assert.ok((a['faultline.duration_ms'] as number) >= 0);
    assert.equal(caller.status.code, SpanStatusCode.UNSET);
    // The metrics are the same as in span mode.
    const requests = (await rec.points('faultline.client.requests')).filter((p) => p.attributes['faultline.outcome'] === 'success');
    assert.equal(requests.reduce((n, p) => n + (p.value as number), 0), 1);
  });

  test("a failure: error.type on the request event; the caller's span status is left to the caller", async () => {
    script = [apiError(401, 'invalid_api_key', 'invalid_request_error', { 'x-request-id': 'req_401' })];
    await inCallerSpan(() => chat(client()));
    const [caller] = rec.spans();
    const done = caller!.events.find((e) => e.name === 'faultline.request')!;
    assert.equal(done.attributes!['error.type'], 'authentication_error');
    assert.equal(done.attributes!['http.response.status_code'], 401);
    assert.equal(done.attributes!['faultline.attempts'], 1);
    assert.equal(caller!.status.code, SpanStatusCode.UNSET);
    const failed = (await rec.points('faultline.client.requests')).filter((p) => p.attributes['error.type'] === 'authentication_error');
    assert.equal(failed.length, 1);
  });

  test('a wait: its polls and status changes are events on the caller\'s span, then one wait event with the code', async () => {
    script = [reply(200, response('in_progress')), reply(200, response('failed', { error: { code: 'server_error', message: 'The model failed' } }))];
    // The wait's polls go through a createFetch client (no retries needed), so they show as request events too.
    const polls = new OpenAI({ apiKey: fakeKey(), baseURL: server.base, fetch: createFetch({ pacing: false }), maxRetries: 0 });
    await inCallerSpan(() => waitForResponse(polls, 'resp_1', { timeoutMs: 60_000, clock: createManualClock({ autoAdvance: true }), random: () => 0.5 }));
    const spans = rec.spans();
    assert.deepEqual(spans.map((s) => s.name), ['caller']);
    const names = spans[0]!.events.map((e) => e.name);
    assert.equal(names.filter((n) => n === 'faultline.request').length, 2, names.join());
    assert.ok(names.includes('faultline.wait.status'), names.join());
    assert.equal(names.at(-1), 'faultline.wait');
    const wait = spans[0]!.events.at(-1)!.attributes!;
    assert.equal(wait['faultline.wait.operation'], 'waitForResponse');
    assert.equal(wait['faultline.object_id'], 'resp_1');
    assert.equal(wait['faultline.object_status'], 'failed');
    assert.equal(wait['error.type'], 'server_error');
    assert.equal(wait['faultline.wait.polls'], 2);
  });

  test('with no active span nothing is recorded on a trace; the metrics still are', async () => {
    script = [completion()];
    await chat(client());
    assert.deepEqual(rec.spans(), []);
    const requests = await rec.points('faultline.client.requests');
    assert.equal(requests.reduce((n, p) => n + (p.value as number), 0), 1);
  });

  test('the option is checked with the one message format', () => {
    assert.throws(() => instrument({ record: 'span' as never }), (e: unknown) => e instanceof RangeError && e.message === 'instrument: options.record must be one of "spans", "events", got "span"');
    assert.throws(() => instrument({ record: true as never }), (e: unknown) => e instanceof TypeError && /^instrument: options\.record must be one of/.test(e.message));
  });
});
