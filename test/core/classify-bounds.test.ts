/**
 * classify() at the edges of its input: JSON over 1 MiB is still read as JSON (a bounded view, also when
 * cut short), and a numeric status outside 100–599 is kept out of Failure.status without a RangeError —
 * in classify() and through faultline.fetch.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, detectFailure } from '../../src/core/classify/index.ts';
import { FaultlineError } from '../../src/core/errors.ts';
import { createFetch } from '../../src/retry/index.ts';
import { parseBoundedJson } from '../../src/core/classify/bounded-json.ts';
import { createManualClock } from '../../src/mock/index.ts';

const MiB = 1 << 20;
const big = (n: number) => 'x'.repeat(n);

describe('JSON over 1 MiB is read as JSON', () => {
  const failed = JSON.stringify({
    id: 'resp_big',
    object: 'response',
    output: [{ type: 'message', content: [{ type: 'output_text', text: big(2 * MiB) }] }],
    status: 'failed',
    error: { code: 'rate_limit_exceeded', message: 'Rate limit reached. Please try again in 2s.' },
  });

  test('a failed Response with 2 MiB of output, as text', () => {
    assert.ok(failed.length > 2 * MiB);
    const f = classify(failed);
    assert.equal(f.code, 'rate_limit_exceeded');
    assert.equal(f.objectId, 'resp_big');
    assert.equal(f.retryAfterMs, 2000);
  });

  test('an error envelope whose message is 3 MiB, in an HTTP record', () => {
    const body = JSON.stringify({ error: { message: `This model's maximum context length is 128000 tokens. ${big(3 * MiB)}`, type: 'invalid_request_error', code: 'context_length_exceeded' } });
    const f = classify({ status: 400, headers: {}, body });
    assert.equal(f.code, 'context_length_exceeded');
    assert.equal(f.wireCode, 'context_length_exceeded');
    assert.ok(f.message.length <= 4096 + 20);
  });

  test('a body cut short past 1 MiB still says what it read', () => {
    const cut = JSON.stringify({ id: 'resp_cut', object: 'response', status: 'failed', error: { code: 'server_error', message: 'The server had an error' }, output: [{ text: big(2 * MiB) }] }).slice(0, 1.5 * MiB);
    const f = detectFailure(cut);
    assert.ok(f !== null);
    assert.equal(f.code, 'server_error');
  });

  test('a completed Response over 1 MiB is not a failure', () => {
    assert.equal(detectFailure(failed.replace('"status":"failed"', '"status":"completed"').replace(/"error":\{[^}]*\}/, '"error":null')), null);
  });

  test('the bounded view keeps the first items and cuts long strings', () => {
    const v = parseBoundedJson(JSON.stringify({ a: Array.from({ length: 500 }, (_, i) => i), s: big(100_000), n: { m: { o: true } }, e: 'é\\n' })) as Record<string, unknown>;
    assert.equal((v.a as unknown[]).length, 64);
    assert.equal((v.s as string).length, 64 * 1024);
    assert.deepEqual(v.n, { m: { o: true } });
    assert.equal(v.e, 'é\\n');
    assert.deepEqual(parseBoundedJson('{"a": [1, 2, {"b": 3'), { a: [1, 2, { b: 3 }] });
    assert.equal(parseBoundedJson('not json'), undefined);
  });
});

describe('a status outside 100–599', () => {
  // 0 (opaque, a Response.error()), a negative or a fraction is no status at all: the body is read. A
  // whole number a transport had outside 100–599 (99, 600, 1000) is not HTTP: nothing it claims is
  // believed (src/core/classify/build.ts, precedence 0), so a hostile server cannot buy retries.
  for (const status of [0, 99, 600, 1000, -1, 429.5]) {
    const notHttp = Number.isInteger(status) && status > 0;
    test(`HTTP record with status ${status}: ${notHttp ? 'unknown whatever its body says' : 'read by its body'}, no Failure.status`, () => {
      const f = classify({ status, headers: {}, body: { error: { code: 'rate_limit_exceeded', message: 'Rate limit reached' } } });
      assert.equal(f.code, notHttp ? 'unknown' : 'rate_limit_exceeded');
      if (notHttp) assert.match(f.message, new RegExp(`^HTTP status ${status} `));
      assert.equal(f.status, undefined);
      assert.equal(f.source, 'http');
      const bare = classify({ status, headers: {} });
      assert.equal(bare.code, 'unknown');
      assert.equal(bare.status, undefined);
    });
  }

  test('faultline.fetch: a Response.error() (status 0) is a classified failure, not a RangeError', async () => {
    // failure: 'throw' makes the failure visible as an error; the default hands the Response back.
    const clock = createManualClock({ autoAdvance: true });
    let calls = 0;
    const f = createFetch({
      fetch: async () => {
        calls++;
        return Response.error();
      },
      clock,
      pacing: false,
      failure: 'throw',
    });
    await assert.rejects(f('http://127.0.0.1:9/v1/responses', { method: 'POST', body: '{}' }), (e: unknown) => {
      assert.ok(FaultlineError.isInstance(e), `not a RangeError: ${String(e)}`);
      assert.equal(e.code, 'unknown');
      assert.equal((e.cause as Response).status, 0);
      return true;
    });
    assert.equal(calls, 1);
    const handed = await createFetch({ fetch: async () => Response.error(), clock, pacing: false })('http://127.0.0.1:9/v1/responses');
    assert.equal(handed.status, 0);
    assert.equal(handed.ok, false);
  });
});

describe('the Python literals the Python SDK prints', () => {
  test('dicts, lists, tuples, both quotes, escapes, None/True/False, numbers; trailing text ignored', async () => {
    const { parsePythonLiteral } = await import('../../src/core/classify/python-literal.ts');
    assert.deepEqual(parsePythonLiteral(`{'error': {'message': "Invalid model 'x'.", 'code': 400, 'param': None, 'ok': True, 'no': False, 'l': [1, 2.5, (3,)], 'e': 'a\\'b\\n'}} and more`), {
      error: { message: "Invalid model 'x'.", code: 400, param: null, ok: true, no: false, l: [1, 2.5, [3]], e: "a'b\n" },
    });
    for (const bad of ["{'a': }", "{'a' 1}", "{'a': 'unterminated", '[1, 2', 'None', '']) assert.ok(typeof parsePythonLiteral(bad) !== 'object' || parsePythonLiteral(bad) === null, bad);
    const deep = '['.repeat(100) + ']'.repeat(100);
    assert.equal(parsePythonLiteral(deep), undefined);
  });
});
