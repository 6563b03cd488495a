/**
 * faultline/otel on createFetch, against an independent loopback server written here from the wire
 * protocol (node:http): each test scripts the server's answers, then reads the spans and metrics the
 * SDK's in-memory exporter and reader received.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import OpenAI from 'openai';
import { createManualClock, createMock } from '../../src/mock/index.ts';
import { createFetch } from '../../src/retry/index.ts';
import { apiError, completion, fakeKey, record, reply, serveLoopback, type Answer, type Recorder } from './harness.ts';

let script: Answer[] = [];
let seen = 0;
const server = serveLoopback((req, res) => script[Math.min(seen++, script.length - 1)]!(req, res));

let rec: Recorder;
beforeEach(() => {
  script = [];
  seen = 0;
});

function client(options: Parameters<typeof createFetch>[0] = {}) {
  const clock = createManualClock({ autoAdvance: true });
  const fetch = createFetch({ clock, random: () => 0.5, ...options });
  return new OpenAI({ apiKey: fakeKey(), baseURL: server.base, fetch, maxRetries: 0 });
}
const chat = (c: OpenAI) => c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

const sum = async (name: string, where: Record<string, unknown>) =>
  (await rec.points(name)).filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v)).reduce((n, p) => n + (p.value as number), 0);

describe('faultline/otel on createFetch (loopback server)', () => {
  beforeEach(() => {
    rec = record();
  });
  afterEach(async () => {
    await rec.stop();
  });

  test('a 429 retried then answered: one CLIENT span without error.type, the retry as an event with its code, wait and request id', async () => {
    script = [apiError(429, 'rate_limit_exceeded', 'requests', { 'retry-after-ms': '120', 'x-request-id': 'req_first' }), completion({ 'x-request-id': 'req_second', 'x-ratelimit-limit-requests': '500', 'x-ratelimit-remaining-requests': '498', 'x-ratelimit-limit-tokens': '30000', 'x-ratelimit-remaining-tokens': '29000' })];
    await chat(client({ pacing: false }));
    assert.equal(seen, 2);
    const [span, ...rest] = rec.spans();
    assert.equal(rest.length, 0);
    assert.equal(span!.name, 'chat gpt-4o-mini');
    assert.equal(span!.kind, SpanKind.CLIENT);
    assert.equal(span!.status.code, SpanStatusCode.UNSET, 'a retried-then-successful request is not an error');
    const a = span!.attributes;
    assert.equal(a['error.type'], undefined);
    assert.equal(a['gen_ai.operation.name'], 'chat');
    assert.equal(a['gen_ai.request.model'], 'gpt-4o-mini');
    assert.equal(a['gen_ai.provider.name'], 'openai');
    assert.equal(a['http.request.method'], 'POST');
    assert.equal(a['http.response.status_code'], 200);
    assert.equal(a['server.address'], '127.0.0.1');
    assert.equal(a['faultline.attempts'], 2);
    assert.equal(a['faultline.retries'], 1);
    assert.equal(a['faultline.retry_after_ms'], 120);
    // The server's 120 ms plus the spread faultline adds above it (10 % × random 0.5).
    assert.equal(a['faultline.backoff_ms'], 126);
    assert.equal(a['faultline.paced_ms'], 0);
    assert.equal(a['faultline.request_id'], 'req_second');
    assert.equal(span!.events.length, 1);
    const ev = span!.events[0]!;
    assert.equal(ev.name, 'faultline.retry');
    assert.deepEqual(ev.attributes, { 'faultline.attempt': 1, 'faultline.failure.code': 'rate_limit_exceeded', 'faultline.delay_ms': 126, 'http.response.status_code': 429, 'faultline.retry_after_ms': 120, 'faultline.request_id': 'req_first' });
  });

  test('metrics: requests by outcome, retries by code, rate-limit headroom learned', async () => {
    script = [apiError(500, null, 'server_error'), completion({ 'x-ratelimit-limit-requests': '500', 'x-ratelimit-remaining-requests': '498', 'x-ratelimit-limit-tokens': '30000', 'x-ratelimit-remaining-tokens': '29000' })];
    await chat(client({ pacing: false }));
    script = [apiError(429, 'insufficient_quota', 'insufficient_quota')];
    seen = 0;
    await assert.rejects(chat(client({ pacing: false })));
    assert.equal(await sum('faultline.client.requests', { 'faultline.outcome': 'success' }), 1);
    assert.equal(await sum('faultline.client.requests', { 'faultline.outcome': 'insufficient_quota', 'error.type': 'insufficient_quota' }), 1);
    assert.equal(await sum('faultline.client.retries', { 'faultline.failure.code': 'server_error' }), 1);
    const remaining = await rec.points('faultline.ratelimit.remaining');
    assert.deepEqual(remaining.map((p) => [p.attributes['faultline.ratelimit.kind'], p.value]).sort(), [['requests', 498], ['tokens', 29000]]);
    const limit = await rec.points('faultline.ratelimit.limit');
    assert.deepEqual(limit.map((p) => [p.attributes['faultline.ratelimit.kind'], p.value]).sort(), [['requests', 500], ['tokens', 30000]]);
    const durations = await rec.points('gen_ai.client.operation.duration');
    assert.deepEqual(durations.map((p) => p.attributes['error.type']).sort(), ['insufficient_quota', undefined]);
  });

  test('a never-retried failure ends the span in ERROR with error.type = the catalog code, one attempt', async () => {
    script = [apiError(429, 'insufficient_quota', 'insufficient_quota', { 'x-request-id': 'req_quota' })];
    await assert.rejects(chat(client()));
    assert.equal(seen, 1);
    const [span] = rec.spans();
    assert.equal(span!.status.code, SpanStatusCode.ERROR);
    assert.equal(span!.attributes['error.type'], 'insufficient_quota');
    assert.equal(span!.attributes['faultline.attempts'], 1);
    assert.equal(span!.attributes['http.response.status_code'], 429);
    assert.equal(span!.attributes['faultline.request_id'], 'req_quota');
    assert.equal(span!.events.length, 0);
  });

  test('retries running out: error.type is the last attempt\'s code, every retry an event', async () => {
    script = [apiError(500, null, 'server_error')];
    await assert.rejects(chat(client({ retries: 2 })), OpenAI.InternalServerError);
    assert.equal(seen, 3);
    const [span] = rec.spans();
    assert.equal(span!.attributes['error.type'], 'server_error');
    assert.equal(span!.attributes['faultline.attempts'], 3);
    assert.deepEqual(span!.events.map((e) => e.attributes?.['faultline.failure.code']), ['server_error', 'server_error']);
  });

  test('a 429 the pacer waits out: the time shows as paced, not as backoff, and in the pacing histogram', async () => {
    script = [apiError(429, 'rate_limit_exceeded', 'requests', { 'retry-after-ms': '2000' }), completion()];
    await chat(client());
    const [span] = rec.spans();
    const paced = span!.attributes['faultline.paced_ms'] as number;
    assert.ok(paced >= 2000 && paced <= 2300, `paced ${paced} ms`);
    assert.equal(span!.attributes['faultline.backoff_ms'], 0);
    assert.equal(span!.attributes['faultline.retry_after_ms'], 2000);
    const hist = await rec.points('faultline.client.pacing.duration');
    assert.equal(hist.length, 1);
    assert.equal((hist[0]!.value as { count: number }).count, 1);
    assert.ok(Math.abs((hist[0]!.value as { sum: number }).sum - paced / 1000) < 1e-9);
  });

  test('the span is a child of the caller\'s active span, and a request outside the API is an HTTP span', async () => {
    script = [reply(200, { object: 'list', data: [] })];
    const parent = rec.tracerProvider.getTracer('app').startSpan('job');
    await context.with(trace.setSpan(context.active(), parent), () => client().models.list());
    parent.end();
    const mine = rec.spans().find((s) => s.name !== 'job')!;
    assert.equal(mine.name, 'GET');
    assert.equal(mine.attributes['gen_ai.operation.name'], undefined);
    assert.equal(mine.parentSpanContext?.spanId, parent.spanContext().spanId);
  });

  test('no secret reaches the span: a transport error quoting the key is redacted in the status', async () => {
    const key = fakeKey();
    const fetch = createFetch({ retries: 0, fetch: async () => Promise.reject(new TypeError(`fetch failed for Authorization: Bearer ${key}`, { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) })) });
    await assert.rejects(fetch(`${server.base}/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm' }) }));
    const [span] = rec.spans();
    assert.equal(span!.attributes['error.type'], 'connection_error');
    assert.doesNotMatch(JSON.stringify({ status: span!.status, attributes: span!.attributes, events: span!.events }), new RegExp(key));
  });
});

describe('faultline/otel on createFetch (mock)', () => {
  beforeEach(() => {
    rec = record();
  });
  afterEach(() => rec.stop());

  function mockClient(scenario: NonNullable<Parameters<typeof createMock>[0]>['scenario']) {
    const clock = createManualClock({ autoAdvance: true });
    const mock = createMock({ clock, ...(scenario !== undefined ? { scenario } : {}) });
    const fetch = createFetch({ fetch: mock.fetch, clock, random: () => 0.5 });
    return { mock, client: new OpenAI({ apiKey: fakeKey(), baseURL: 'http://mock.test/v1', fetch, maxRetries: 0 }) };
  }

  test('one 429 then success: no error.type, the retry event carries the code; an empty wallet: error.type insufficient_quota', async () => {
    const ok = mockClient([{ match: { nth: 1 }, fault: { type: 'http', preset: 'rate_limit_requests', headers: { 'retry-after-ms': '500' } } }]);
    await ok.client.responses.create({ model: 'gpt-4o-mini', input: 'hi' });
    const broke = mockClient([{ fault: { type: 'http', preset: 'insufficient_quota' } }]);
    await assert.rejects(broke.client.responses.create({ model: 'gpt-4o-mini', input: 'hi' }), OpenAI.RateLimitError);
    const [first, second] = rec.spans();
    assert.equal(first!.name, 'chat gpt-4o-mini');
    assert.equal(first!.attributes['error.type'], undefined);
    assert.equal(first!.attributes['faultline.attempts'], 2);
    assert.deepEqual(first!.events.map((e) => e.attributes?.['faultline.failure.code']), ['rate_limit_exceeded']);
    assert.ok((first!.attributes['faultline.paced_ms'] as number) >= 500, 'the 429 pause was waited in the pacer');
    assert.equal(second!.attributes['error.type'], 'insufficient_quota');
    assert.equal(second!.attributes['faultline.attempts'], 1);
    await ok.mock.close();
    await broke.mock.close();
  });
});
