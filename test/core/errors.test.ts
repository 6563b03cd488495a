/**
 * Typed errors: toJSON() carries no secrets, names and stacks, cause and response kept, assertSucceeded
 * on Responses, chat completions and batches, and misuse of its options.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { format, inspect } from 'node:util';
import {
  CancelledError,
  ContentFilteredError,
  ExpiredError,
  FaultlineError,
  IncompleteResponseError,
  MaxOutputTokensError,
  OverloadedError,
  RateLimitError,
  UnknownFailureError,
  assertSucceeded,
  toError,
  ERROR_CLASSES,
} from '../../src/core/errors.ts';
import { classify } from '../../src/core/classify/index.ts';
import { MAJORS, sdkError } from '../fixtures/sdk.ts';

// A fake key, built at run time so no key-shaped literal sits in the repository.
const KEY = ['sk', 'proj', 'Zq9vR2mX7tL4pW8nK3jH6fD1sA5gB0cE'].join('-');
const AZURE_KEY = '8f14e45fceea167a5a36dedd4bea2543';

function leaks(value: unknown): string[] {
  const text = JSON.stringify(value);
  return [KEY, AZURE_KEY, 'Zq9vR2mX7tL4'].filter((s) => text.includes(s));
}

describe('toJSON carries no secrets', () => {
  for (const m of MAJORS) {
    test(`openai ${m.name}: a 401 echoing the key, Authorization and api-key response headers`, async () => {
      const err = await sdkError(m, {
        status: 401,
        headers: { authorization: `Bearer ${KEY}`, 'api-key': AZURE_KEY, 'x-request-id': 'req_1' },
        body: { error: { message: `Incorrect API key provided: ${KEY}. You can find your API key at https://platform.openai.com/account/api-keys.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } },
      });
      const e = toError(err);
      assert.equal(e.code, 'authentication_error');
      assert.deepEqual(leaks(e.toJSON()), []);
      assert.deepEqual(leaks(e.failure), []);
      assert.ok(!e.message.includes(KEY));
      assert.match(e.message, /\[REDACTED\]/);
      assert.equal(e.cause, err, 'the original stays on cause (it is the caller’s own object)');
      const json = e.toJSON();
      assert.equal(json.name, 'AuthenticationError');
      assert.equal(json.code, 'authentication_error');
      assert.deepEqual(Object.keys(json.cause as object).sort(), ['code', 'message', 'name', 'status'].filter((k) => k in (json.cause as object)).sort());
    });
  }

  test('keys planted in code, param, type, request id and a transport cause', () => {
    const input = Object.assign(new Error(`connect failed with Authorization: Bearer ${KEY}`), {
      code: `api-key=${AZURE_KEY}`,
      cause: Object.assign(new Error(`key ${KEY}`), { code: 'ECONNRESET' }),
    });
    assert.deepEqual(leaks(toError(input).toJSON()), []);
    const body = { status: 400, headers: { 'x-request-id': `req ${KEY}` }, body: { error: { message: 'x', code: `bad ${KEY}`, type: `t ${KEY}`, param: KEY } } };
    assert.deepEqual(leaks(toError(body).toJSON()), []);
  });

  test('a constructed error redacts its own message', () => {
    const e = new RateLimitError(`slow down ${KEY}`);
    assert.deepEqual(leaks(e.toJSON()), []);
    assert.deepEqual(leaks(e.message), []);
  });
});

describe('inspection and logging show a redacted view; cause stays untouched', () => {
  /** Every way a program or a logger turns an error into text. */
  function renderings(e: unknown): Record<string, string> {
    return {
      inspect: inspect(e),
      'inspect depth Infinity': inspect(e, { depth: Infinity }),
      'inspect showHidden': inspect(e, { showHidden: true, depth: 10 }),
      "format('%o')": format('%o', e),
      "format('%O')": format('%O', e),
      "format('%s')": format('%s', e),
      'format(e)': format(e),
      'JSON.stringify': JSON.stringify(e),
      toJSON: JSON.stringify((e as FaultlineError).toJSON()),
      String: String(e),
      stack: String((e as Error).stack),
    };
  }
  function assertClean(e: unknown, planted: readonly string[]): void {
    for (const [how, text] of Object.entries(renderings(e))) {
      for (const secret of planted) assert.ok(!text.includes(secret), `${how} shows ${secret.slice(0, 12)}…:\n${text}`);
    }
  }

  for (const m of MAJORS) {
    test(`openai ${m.name}: key in the message, the cause's message, its headers (Authorization) and its error body`, async () => {
      const err = await sdkError(m, {
        status: 401,
        headers: { authorization: `Bearer ${KEY}`, 'api-key': AZURE_KEY, 'x-request-id': 'req_1' },
        body: { error: { message: `Incorrect API key provided: ${KEY}.`, type: 'invalid_request_error', param: `key=${KEY}`, code: 'invalid_api_key', echoed: { header: `Bearer ${KEY}` } } },
      });
      const e = toError(err);
      assertClean(e, [KEY, AZURE_KEY]);
      const shown = inspect(e, { depth: Infinity });
      // The view is still useful: class, code, the cause's class, status, request id and redacted headers.
      assert.match(shown, /AuthenticationError/);
      assert.match(shown, /authentication_error/);
      assert.match(shown, /\[cause\]/);
      assert.match(shown, /401/);
      assert.match(shown, /req_1/);
      assert.match(shown, /\[REDACTED\]/);
      // Programs keep the original: the cause is the SDK's own object, unchanged.
      assert.equal(e.cause, err);
      assert.ok(String((err as { message: string }).message).includes(KEY), 'the cause itself is not rewritten');
    });
  }

  test('a hand-made cause chain, cycles, headers bags and a constructed failure message', () => {
    const headers = new Headers({ Authorization: `Bearer ${KEY}`, 'x-request-id': 'req_2' });
    const inner = Object.assign(new Error(`socket said ${KEY}`), { code: 'ECONNRESET', headers });
    const outer = Object.assign(new Error(`upstream api-key=${AZURE_KEY}`, { cause: inner }), {
      status: 500,
      headers: new Map([['api-key', AZURE_KEY]]),
      error: { message: `token_${KEY}`, list: [`Bearer ${KEY}`, 1, null] },
      request: { headers: { authorization: `Basic ${AZURE_KEY}` }, apiKey: AZURE_KEY },
    });
    (inner as { loop?: unknown }).loop = outer;
    const e = toError(outer);
    assertClean(e, [KEY, AZURE_KEY]);
    assert.equal(e.cause, outer);
    assert.equal((outer as { headers: Map<string, string> }).headers.get('api-key'), AZURE_KEY, 'untouched');
    const hand = new RateLimitError({ ...classify(429), message: `slow down ${KEY}` });
    assertClean(hand, [KEY]);
    assert.match(inspect(hand), /RateLimitError/);
  });

  test('a FaultlineError cause inside a cause, and non-error causes (string, plain object)', () => {
    const inner = toError(Object.assign(new Error(`x ${KEY}`), { status: 401 }));
    assertClean(new UnknownFailureError('outer', { cause: inner }), [KEY]);
    assertClean(new UnknownFailureError('outer', { cause: `raw text ${KEY}` }), [KEY]);
    assertClean(new UnknownFailureError('outer', { cause: { body: { key: KEY }, headers: { 'x-api-key': AZURE_KEY } } }), [KEY, AZURE_KEY]);
  });
});

describe('names, stacks, cause and response', () => {
  test('every class: own name, stack starts with it, code and failure agree', () => {
    for (const [code, Cls] of Object.entries(ERROR_CLASSES)) {
      const e = new Cls('boom');
      assert.equal(e.code, code);
      assert.ok(e.stack?.startsWith(`${e.name}: boom`), e.stack?.split('\n')[0]);
      assert.equal(Object.prototype.toString.call(e), '[object Error]');
      assert.equal(String(e), `${e.name}: boom`);
    }
  });

  test('toError wraps once and passes faultline errors through', () => {
    const original = new TypeError('terminated', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
    const e = toError(original);
    assert.equal(e.name, 'ConnectionError');
    assert.equal(e.cause, original);
    assert.equal(toError(e), e);
    assert.equal(classify(e), e.failure, 'classify of a faultline error is its failure');
  });

  test('a subclass of FaultlineError keeps instanceof by prototype', () => {
    class MyError extends FaultlineError {}
    const e = new MyError('mine');
    assert.ok(e instanceof MyError && e instanceof FaultlineError);
    assert.equal(new OverloadedError('x') instanceof MyError, false);
  });

  test('toJSON round-trips through JSON.stringify and keeps retry data', () => {
    const e = toError({ status: 429, headers: { 'retry-after-ms': '250', 'x-request-id': 'req_7' }, body: { error: { code: 'rate_limit_exceeded', message: 'x' } } });
    const back = JSON.parse(JSON.stringify(e)) as { failure: { retryAfterMs: number; requestId: string; status: number } };
    assert.equal(back.failure.retryAfterMs, 250);
    assert.equal(back.failure.requestId, 'req_7');
    assert.equal(back.failure.status, 429);
    assert.equal(e.retryAfterMs, 250);
    assert.equal(e.retryable, true);
    assert.equal(e.entry.code, 'rate_limit_exceeded');
  });
});

const RESPONSE = (status: string, extra: Record<string, unknown> = {}) => ({
  id: 'resp_9',
  object: 'response',
  status,
  error: null,
  incomplete_details: null,
  output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'partial' }] }],
  ...extra,
});

function thrown(fn: () => unknown): FaultlineError {
  try {
    fn();
  } catch (e) {
    assert.ok(FaultlineError.isInstance(e), `threw ${String(e)}`);
    return e;
  }
  assert.fail('expected a throw');
}

describe('assertSucceeded', () => {
  test('returns successes unchanged', () => {
    const ok = RESPONSE('completed');
    assert.equal(assertSucceeded(ok), ok);
    const chat = { object: 'chat.completion', choices: [{ finish_reason: 'stop' }] };
    assert.equal(assertSucceeded(chat), chat);
    const batch = { object: 'batch', id: 'b', status: 'completed', request_counts: { total: 2, completed: 2, failed: 0 } };
    assert.equal(assertSucceeded(batch), batch);
  });

  test('Responses: failed, cancelled, incomplete throw the typed error with the response reachable', () => {
    const failed = RESPONSE('failed', { error: { code: 'server_is_overloaded', message: 'Our servers are currently overloaded.' } });
    const e1 = thrown(() => assertSucceeded(failed));
    assert.ok(e1 instanceof OverloadedError);
    assert.equal(e1.response, failed);
    assert.equal(e1.cause, failed);
    assert.equal(e1.status, undefined);
    assert.equal(e1.failure.objectId, 'resp_9');
    assert.ok(thrown(() => assertSucceeded(RESPONSE('cancelled'))) instanceof CancelledError);
    assert.ok(thrown(() => assertSucceeded(RESPONSE('failed'))) instanceof UnknownFailureError);
    const cut = RESPONSE('incomplete', { incomplete_details: { reason: 'max_output_tokens' } });
    const e2 = thrown(() => assertSucceeded(cut, { incomplete: 'throw' }));
    assert.ok(e2 instanceof MaxOutputTokensError);
    assert.equal((e2.response as typeof cut).output[0]?.content[0]?.text, 'partial');
    assert.ok(!Object.keys(e2).includes('response'), 'response is not enumerable');
  });

  test("incomplete: 'return' hands the object back and calls onIncomplete", () => {
    const seen: FaultlineError[] = [];
    const cut = RESPONSE('incomplete', { incomplete_details: { reason: 'content_filter' } });
    assert.equal(assertSucceeded(cut, { incomplete: 'return', onIncomplete: (e) => seen.push(e) }), cut);
    assert.equal(seen.length, 1);
    assert.ok(seen[0] instanceof ContentFilteredError);
    const noReason = RESPONSE('incomplete');
    assert.equal(assertSucceeded(noReason, { incomplete: 'return', onIncomplete: (e) => seen.push(e) }), noReason);
    assert.ok(seen[1] instanceof IncompleteResponseError);
    // 'return' does not let real failures through.
    assert.ok(thrown(() => assertSucceeded(RESPONSE('failed', { error: { code: 'rate_limit_exceeded', message: 'x' } }), { incomplete: 'return' })) instanceof RateLimitError);
  });

  test("incomplete: 'return' without onIncomplete emits one FAULTLINE_INCOMPLETE warning", (t) => {
    const warn = t.mock.method(process, 'emitWarning', () => {});
    const chat = { object: 'chat.completion', id: 'chatcmpl-1', choices: [{ finish_reason: 'length', message: { content: 'cut' } }] };
    assert.equal(assertSucceeded(chat, { incomplete: 'return' }), chat);
    assert.equal(warn.mock.callCount(), 1);
    const [message, options] = warn.mock.calls[0]!.arguments as [string, { code: string }];
    assert.match(message, /^MaxOutputTokensError: /);
    assert.equal(options.code, 'FAULTLINE_INCOMPLETE');
  });

  test('chat completions: length and content_filter throw by default', () => {
    const length = { object: 'chat.completion', id: 'c1', choices: [{ finish_reason: 'length' }] };
    assert.ok(thrown(() => assertSucceeded(length)) instanceof MaxOutputTokensError);
    const filtered = { object: 'chat.completion', id: 'c2', choices: [{ finish_reason: 'content_filter' }] };
    const e = thrown(() => assertSucceeded(filtered));
    assert.ok(e instanceof ContentFilteredError);
    assert.equal(e.response, filtered);
  });

  test('batches: failed, expired, cancelled and completed-with-every-request-failed throw', () => {
    const failed = { object: 'batch', id: 'b1', status: 'failed', errors: { data: [{ code: 'token_limit_exceeded', message: 'Enqueued token limit reached' }] } };
    assert.ok(thrown(() => assertSucceeded(failed)) instanceof RateLimitError);
    assert.ok(thrown(() => assertSucceeded({ object: 'batch', id: 'b2', status: 'expired' })) instanceof ExpiredError);
    assert.ok(thrown(() => assertSucceeded({ object: 'batch', id: 'b3', status: 'cancelled' })) instanceof CancelledError);
    const allFailed = { object: 'batch', id: 'b4', status: 'completed', request_counts: { total: 2, completed: 0, failed: 2 } };
    const e = thrown(() => assertSucceeded(allFailed));
    assert.equal(e.code, 'unknown');
    assert.equal(e.failure.wireCode, 'all_requests_failed');
    assert.equal(e.response, allFailed);
  });

  test('misuse: a bad incomplete option is a TypeError naming the option, even for a success', () => {
    for (const bad of ['ignore', 'THROW', true, 0, null]) {
      assert.throws(() => assertSucceeded(RESPONSE('completed'), { incomplete: bad as never }), (e: unknown) => e instanceof TypeError && /options\.incomplete/.test(e.message));
    }
  });
});
