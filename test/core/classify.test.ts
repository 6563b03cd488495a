/**
 * classify() on real payloads: the table in test/fixtures/payloads.ts (each with its public source),
 * then the precedence rules and retry hints one by one, and real transport errors made on loopback.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { Readable, finished } from 'node:stream';
import { classify, detectFailure, parseDuration, normalizeWireValue } from '../../src/core/classify/index.ts';
import { PAYLOADS } from '../fixtures/payloads.ts';
import { checkCase } from '../fixtures/check.ts';

describe('real payloads → catalog code', () => {
  for (const c of PAYLOADS) test(`${c.name}  [${c.source}]`, () => checkCase(c));

  test('every catalog code but a few is exercised by a real payload', () => {
    const seen = new Set(PAYLOADS.map((c) => c.code));
    // Not reachable from a public payload we could cite: kept by their own tests below.
    const elsewhere = new Set(['invalid_request', 'invalid_image', 'permission_denied', 'conflict']);
    for (const code of ['rate_limit_exceeded', 'insufficient_quota', 'request_too_large', 'context_length_exceeded', 'content_policy_violation', 'content_filtered', 'max_output_tokens', 'incomplete', 'authentication_error', 'model_not_found', 'not_found', 'server_error', 'overloaded', 'timeout', 'connection_error', 'aborted', 'cancelled', 'expired', 'unknown'] as const) {
      assert.ok(seen.has(code) || elsewhere.has(code), `no payload for ${code}`);
    }
  });
});

describe('precedence (src/core/classify/ PRECEDENCE)', () => {
  test('1. quota wins over a 429 and over a rate-limit code', () => {
    assert.equal(classify({ status: 429, body: { error: { code: 'rate_limit_exceeded', type: 'insufficient_quota', message: 'x' } } }).code, 'insufficient_quota');
    assert.equal(classify({ status: 429, body: { error: { code: 'rate_limit_exceeded', message: 'You exceeded your current quota' } } }).code, 'insufficient_quota');
  });

  test('2. "Request too large" needs rate-limit evidence or the full TPM sentence', () => {
    assert.equal(classify({ status: 429, body: { error: { message: 'Request too large for gpt-4o' } } }).code, 'request_too_large');
    assert.equal(classify({ status: 400, body: { error: { message: 'Request too large' } } }).code, 'invalid_request');
    assert.equal(classify({ status: 413, body: 'Request Entity Too Large' }).code, 'request_too_large');
  });

  test('3. a specific wire code beats the status; Azure PascalCase and numeric strings are understood', () => {
    assert.equal(classify({ status: 400, body: { error: { code: 'invalid_image_url', message: 'x' } } }).code, 'invalid_image');
    assert.equal(classify({ status: 404, body: { error: { code: 'model_not_found', message: 'The model `gpt-9` does not exist' } } }).code, 'model_not_found');
    assert.equal(classify({ error: { code: 'DeploymentNotFound', message: 'x' } }).code, 'model_not_found');
    assert.equal(classify({ error: { code: '403', message: 'x' } }).code, 'permission_denied');
    assert.equal(classify({ error: { code: '409', message: 'x' } }).code, 'conflict');
    assert.equal(normalizeWireValue('ResponsibleAIPolicyViolation'), 'responsible_ai_policy_violation');
  });

  test('3 vs 5. a generic code (invalid_request_error) yields to a specific message', () => {
    const body = (message: string) => ({ status: 400, body: { error: { message, type: 'invalid_request_error', code: 'invalid_request_error' } } });
    assert.equal(classify(body("This model's maximum context length is 8192 tokens.")).code, 'context_length_exceeded');
    assert.equal(classify(body('Unrecognized request argument supplied: foo')).code, 'invalid_request');
  });

  test('5. the first message pattern that matches decides, even where it agrees with the status', () => {
    // "overloaded" (pattern 1) agrees with 503; "does not exist" (pattern 2) does not. The first wins.
    const both = 'The engine is currently overloaded: the model `gpt-9` does not exist here.';
    assert.equal(classify({ status: 503, body: { error: { message: both } } }).code, 'overloaded');
    assert.equal(classify({ status: 500, body: { error: { message: both } } }).code, 'overloaded');
    assert.equal(classify({ status: 500, body: { error: { message: 'The model `gpt-9` does not exist.' } } }).code, 'model_not_found');
    // A pattern that only restates the status still counts when it is the one that matches.
    assert.equal(classify({ status: 500, body: { error: { message: 'The server had an error while processing your request.', type: 'server_error' } } }).code, 'server_error');
    assert.equal(classify({ status: 503, body: { error: { message: 'That model is currently overloaded with other requests.', type: 'server_error' } } }).code, 'overloaded');
  });

  test('4. an incomplete reason is a state, not a wire code', () => {
    const r = { object: 'response', id: 'resp_1', status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
    assert.equal(classify(r).code, 'content_filtered');
    assert.equal(classify({ error: { code: 'content_filter', message: 'x' } }).code, 'content_policy_violation');
  });

  test('7. status decides when nothing more specific is known; unknown 4xx/5xx fall back by class', () => {
    const cases: Array<[number, string]> = [
      [400, 'invalid_request'], [401, 'authentication_error'], [403, 'permission_denied'], [404, 'not_found'],
      [408, 'timeout'], [409, 'conflict'], [413, 'request_too_large'], [422, 'invalid_request'], [429, 'rate_limit_exceeded'],
      [500, 'server_error'], [502, 'server_error'], [503, 'overloaded'], [504, 'timeout'], [524, 'timeout'], [529, 'overloaded'],
      [418, 'invalid_request'], [599, 'server_error'],
    ];
    for (const [status, code] of cases) {
      const f = classify({ status, headers: {}, body: '' });
      assert.equal(f.code, code, `HTTP ${status}`);
      assert.equal(f.status, status);
    }
  });

  test('7b. a generic type only without a status', () => {
    assert.equal(classify({ error: { type: 'server_error', message: 'x' } }).code, 'server_error');
    assert.equal(classify({ status: 503, body: { error: { type: 'server_error', message: 'x' } } }).code, 'overloaded');
  });

  test('9. unknown keeps the wire values', () => {
    const f = classify({ error: { code: 'brand_new_code', type: 'brand_new_type', message: 'Something new', param: 'p' } });
    assert.equal(f.code, 'unknown');
    assert.equal(f.wireCode, 'brand_new_code');
    assert.equal(f.wireType, 'brand_new_type');
    assert.equal(f.param, 'p');
  });
});

describe('retry hints', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  const withHeaders = (headers: Record<string, string>, message = 'x') => ({ status: 429, headers, body: { error: { message } } });

  test('retry-after-ms, then retry-after seconds, then an HTTP date, then the message', () => {
    assert.equal(classify(withHeaders({ 'retry-after-ms': '250', 'retry-after': '9' })).retryAfterMs, 250);
    assert.equal(classify(withHeaders({ 'retry-after': '2' })).retryAfterMs, 2000);
    assert.equal(classify(withHeaders({ 'Retry-After': '1.5' })).retryAfterMs, 1500);
    assert.equal(classify(withHeaders({ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }), { now }).retryAfterMs, 30_000);
    assert.equal(classify(withHeaders({ 'retry-after': 'Tue, 31 Dec 2024 00:00:00 GMT' }), { now }).retryAfterMs, 0);
    assert.equal(classify(withHeaders({}, 'Please try again in 494ms.')).retryAfterMs, 494);
    assert.equal(classify(withHeaders({}, 'Please try again in 1m30.5s.')).retryAfterMs, 90_500);
    assert.equal(classify(withHeaders({}, 'Please retry after 20 seconds.')).retryAfterMs, 20_000);
    assert.equal(classify(withHeaders({}, 'Please try again in 2 minutes.')).retryAfterMs, 120_000);
    assert.equal(classify(withHeaders({ 'retry-after': 'soon' }, 'no hint')).retryAfterMs, undefined);
  });

  test('no wait is reported for a failure that is never retried, unless x-should-retry says true', () => {
    const quota = { error: { message: 'You exceeded your current quota. Please try again in 20s.', type: 'insufficient_quota', code: 'insufficient_quota' } };
    const noRetry = classify({ status: 429, headers: { 'retry-after': '7' }, body: quota });
    assert.equal(noRetry.code, 'insufficient_quota');
    assert.equal(noRetry.retryAfterMs, undefined);
    assert.equal(classify({ status: 400, headers: { 'retry-after-ms': '250' }, body: '' }).retryAfterMs, undefined);
    const told = classify({ status: 400, headers: { 'retry-after-ms': '250', 'x-should-retry': 'true' }, body: '' });
    assert.equal(told.shouldRetryHeader, true);
    assert.equal(told.retryAfterMs, 250);
    // A retryable code keeps its wait even when the server says not to retry: both facts are reported.
    const refused = classify({ status: 429, headers: { 'retry-after': '3', 'x-should-retry': 'false' }, body: '' });
    assert.deepEqual([refused.retryAfterMs, refused.shouldRetryHeader], [3000, false]);
  });

  test('headers as a Headers, a Map and pairs', () => {
    assert.equal(classify({ status: 429, headers: new Headers({ 'retry-after': '3' }), body: '' }).retryAfterMs, 3000);
    assert.equal(classify({ status: 429, headers: new Map([['retry-after', '4']]), body: '' }).retryAfterMs, 4000);
    assert.equal(classify({ status: 429, headers: [['Retry-After', '5']], body: '' }).retryAfterMs, 5000);
  });

  test('x-should-retry is kept apart from retryable', () => {
    const f = classify({ status: 400, headers: { 'x-should-retry': 'true' }, body: '' });
    assert.equal(f.retryable, false);
    assert.equal(f.shouldRetryHeader, true);
  });

  test('parseDuration reads Go durations only', () => {
    assert.equal(parseDuration('6m0s'), 360_000);
    assert.equal(parseDuration('20ms'), 20);
    assert.equal(parseDuration('2h0m0s'), 7_200_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration(''), undefined);
    assert.equal(parseDuration('soon'), undefined);
  });
});

describe('detectFailure: success and in-progress shapes are not failures', () => {
  for (const [name, input] of [
    ['queued Response', { object: 'response', id: 'resp_1', status: 'queued' }],
    ['in_progress Response', { object: 'response', id: 'resp_1', status: 'in_progress' }],
    ['chat finish_reason tool_calls', { object: 'chat.completion', choices: [{ finish_reason: 'tool_calls' }] }],
    ['chat chunk with finish_reason null', { object: 'chat.completion.chunk', choices: [{ delta: { content: 'hi' }, finish_reason: null }] }],
    ['a text delta event', { type: 'response.output_text.delta', sequence_number: 3, delta: 'hi' }],
    ['a completed batch with one success', { object: 'batch', id: 'b', status: 'completed', request_counts: { total: 2, completed: 1, failed: 1 } }],
    ['an HTTP 200 record', { status: 200, headers: {}, body: '{}' }],
    ['a successful batch line', { custom_id: 'r1', response: { status_code: 200, body: { object: 'chat.completion', choices: [{ finish_reason: 'stop' }] } }, error: null }],
  ] as const) {
    test(name, () => assert.equal(detectFailure(input), null));
  }
});

describe('real transport errors made on loopback', () => {
  test('undici "terminated" when the server cuts the body', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"type":"response.created"}\n\n');
      setImmediate(() => res.socket?.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/`);
      const err = await res.text().then(
        () => assert.fail('expected the body to fail'),
        (e: unknown) => e,
      );
      const f = classify(err);
      assert.equal(f.code, 'connection_error');
      assert.equal(f.status, undefined);
      assert.equal(f.source, 'transport');
    } finally {
      server.close();
    }
  });

  test('ECONNRESET when the peer resets the connection', async () => {
    const server = createNetServer((socket) => socket.resetAndDestroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const err = await fetch(`http://127.0.0.1:${port}/`).then(
        () => assert.fail('expected fetch to fail'),
        (e: unknown) => e,
      );
      const f = classify(err);
      assert.equal(f.code, 'connection_error');
      assert.ok(f.transportCode === 'ECONNRESET' || f.transportCode === 'UND_ERR_SOCKET', String(f.transportCode));
    } finally {
      server.close();
    }
  });

  test('ECONNREFUSED on a closed port', async () => {
    const server = createNetServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((r) => server.close(() => r()));
    const err = await fetch(`http://127.0.0.1:${port}/`).then(
      () => assert.fail('expected fetch to fail'),
      (e: unknown) => e,
    );
    const f = classify(err);
    assert.equal(f.code, 'connection_error');
    assert.equal(f.transportCode, 'ECONNREFUSED');
  });

  test('Premature close from stream.finished()', async () => {
    const r = new Readable({ read() {} });
    const err = await new Promise<unknown>((resolve) => {
      finished(r, resolve);
      r.destroy();
    });
    const f = classify(err);
    assert.equal(f.code, 'connection_error');
    assert.equal(f.transportCode, 'ERR_STREAM_PREMATURE_CLOSE');
  });

  test('AbortSignal.abort() reason and an aborted fetch', async () => {
    const controller = new AbortController();
    controller.abort();
    assert.equal(classify(controller.signal.reason).code, 'aborted');
    const err = await fetch('http://127.0.0.1:9/', { signal: controller.signal }).then(
      () => assert.fail('expected abort'),
      (e: unknown) => e,
    );
    assert.equal(classify(err).code, 'aborted');
  });
});
