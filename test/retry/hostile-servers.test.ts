/**
 * Servers that do not speak HTTP properly (issue 10), written here from raw bytes with node:net: a
 * status outside 100–599, a 100 KB header. Each is classified once, with its raw values, never crashes
 * with a RangeError, and is not retried.
 */
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { classify, toError, UnknownFailureError } from '../../src/index.ts';
import { createFetch, retry } from '../../src/retry/index.ts';
import { createManualClock } from '../../src/mock/index.ts';

const BODY = JSON.stringify({ error: { message: 'The server had an error', type: 'server_error', param: null, code: null } });
let reply = '';
let requests = 0;
let base = '';
const sockets = new Set<Socket>();
const server = createServer((sock) => {
  sockets.add(sock);
  sock.on('close', () => sockets.delete(sock));
  sock.on('error', () => {});
  sock.once('data', () => {
    requests++;
    sock.end(reply);
  });
});

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

const statusLine = (status: string, headers = '') => `HTTP/1.1 ${status} Odd\r\ncontent-type: application/json\r\n${headers}content-length: ${BODY.length}\r\nconnection: close\r\n\r\n${BODY}`;
const hugeHeader = () => `HTTP/1.1 200 OK\r\nx-padding: ${'a'.repeat(100_000)}\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}`;

function paced(options: Parameters<typeof createFetch>[0] = {}) {
  const clock = createManualClock({ start: 0, autoAdvance: true });
  return createFetch({ clock, random: () => 0.5, attemptTimeoutMs: 5000, ...options });
}
/** The failure of the UnknownFailureError a promise rejects with. */
async function unknownFailure(p: Promise<unknown>) {
  const e = await p.then(
    () => assert.fail('resolved'),
    (x: unknown) => x,
  );
  assert.ok(e instanceof UnknownFailureError, String(e));
  return (e as UnknownFailureError).failure;
}

const post = (f: ReturnType<typeof createFetch>) =>
  f(`${base}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', input: 'hi' }), signal: AbortSignal.timeout(10_000) });

describe('a status outside 100–599', () => {
  for (const status of ['600', '999']) {
    test(`${status} (with x-should-retry: true): one request, the raw Response returned, or an UnknownFailureError that keeps it`, async () => {
      reply = statusLine(status, 'x-should-retry: true\r\n');
      requests = 0;
      const res = await post(paced());
      assert.equal(res.status, Number(status));
      assert.equal(await res.text(), BODY, 'the body as it arrived');
      assert.equal(requests, 1, `the server saw ${requests} requests`);

      requests = 0;
      const failure = await unknownFailure(post(paced({ failure: 'throw' })));
      assert.equal(failure.status, undefined, 'status stays a valid HTTP status');
      assert.match(failure.message, new RegExp(`^HTTP status ${status} \\(outside 100–599`));
      assert.equal(failure.wireType, 'server_error');
      assert.equal(failure.code, 'unknown');
      assert.equal(failure.retryable, false);
      assert.equal(failure.shouldRetryHeader, undefined, 'x-should-retry is not believed from a non-HTTP answer');
      assert.equal(requests, 1, `the server saw ${requests} requests`);
    });
  }

  for (const status of ['0', '42', '099']) {
    test(`${status}: the parser's refusal is unknown (not a connection error to retry), sent once`, async () => {
      reply = statusLine(status);
      requests = 0;
      const failure = await unknownFailure(post(paced()));
      assert.match(failure.transportCode ?? '', /^HPE_/);
      assert.equal(failure.retryable, false);
      assert.equal(requests, 1, `the server saw ${requests} requests`);
    });
  }
});

describe('classify() of a status outside 100–599', () => {
  test('an SDK error or an HTTP record with 600/999/1/99 is unknown whatever its body says; 0 (opaque) is left alone', () => {
    const body = { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } };
    for (const status of [600, 999, 1, 99]) {
      const f = classify({ status, headers: { 'x-should-retry': 'true', 'retry-after-ms': '5' }, body: JSON.stringify(body) });
      assert.deepEqual([f.code, f.retryable, f.status, f.retryAfterMs, f.shouldRetryHeader, f.wireCode], ['unknown', false, undefined, undefined, undefined, 'rate_limit_exceeded'], `status ${status}`);
      assert.match(f.message, new RegExp(`^HTTP status ${status} \\(outside 100–599`));
    }
    assert.equal(classify({ status: 429, body: JSON.stringify(body) }).code, 'rate_limit_exceeded', 'a valid status still reads the body');
    assert.doesNotMatch(classify({ status: 0, body: JSON.stringify(body) }).message, /^HTTP status 0/, 'status 0 means "no status", not a hostile one');
  });

  test('the openai SDK against a loopback server answering 600: toError() is an UnknownFailureError, one request', async () => {
    reply = statusLine('600');
    requests = 0;
    const client = new OpenAI({ apiKey: ['sk', 'test', 'hostile'].join('-'), baseURL: `${base}/v1`, maxRetries: 0, timeout: 5000 });
    const e = await client.responses.create({ model: 'gpt-4o-mini', input: 'hi' }).then(
      () => assert.fail('resolved'),
      (x: unknown) => x,
    );
    const typed = toError(e);
    assert.ok(typed instanceof UnknownFailureError, String(typed));
    assert.match(typed.failure.message, /^HTTP status 600/);
    assert.equal(requests, 1);
  });
});

describe('a header over the client limit', () => {
  test('undici (createFetch, retry): HeadersOverflowError is unknown with UND_ERR_HEADERS_OVERFLOW, one attempt', async () => {
    reply = hugeHeader();
    requests = 0;
    const failure = await unknownFailure(post(paced()));
    assert.equal(failure.transportCode, 'UND_ERR_HEADERS_OVERFLOW');
    assert.equal(requests, 1, `the server saw ${requests} requests`);

    requests = 0;
    const clock = createManualClock({ start: 0, autoAdvance: true });
    await assert.rejects(retry(({ signal }) => fetch(`${base}/`, { signal }), { clock }), UnknownFailureError);
    assert.equal(requests, 1, `the server saw ${requests} requests`);
  });

  test("node:http's HPE_HEADER_OVERFLOW (the openai v4 transport) classifies the same way", async () => {
    reply = hugeHeader();
    const error = await new Promise<unknown>((resolve) => {
      get(`${base}/`, (res) => {
        res.resume();
        resolve(undefined);
      }).on('error', resolve);
    });
    const f = classify(error);
    assert.equal(f.code, 'unknown');
    assert.equal(f.transportCode, 'HPE_HEADER_OVERFLOW');
    assert.equal(f.retryable, false);
  });
});
