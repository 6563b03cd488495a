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
import { classify, detectFailure } from '../../src/core/classify/index.ts';
import { ERROR_BRAND, RETRY_ERROR_BRAND } from '../../src/core/brand.ts';
import { failureBase, failureOf, MAX_MESSAGE } from '../../src/core/failure.ts';
import { entryOf } from '../../src/core/catalog.ts';
import { RetryError, isRetryError } from '../../src/core/retry-error.ts';
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

describe('toError() of a success is misuse', () => {
  const successes: Array<[string, unknown, RegExp]> = [
    ['a completed Response', RESPONSE('completed'), /\(a completed Response\)/],
    ['a queued Response', RESPONSE('queued'), /\(a Response with status "queued"\)/],
    ['a chat completion', { object: 'chat.completion', choices: [{ finish_reason: 'stop' }] }, /\(a chat completion that did not fail\)/],
    ['a batch', { object: 'batch', id: 'b', status: 'completed', request_counts: { total: 2, completed: 2, failed: 0 } }, /\(a batch with status "completed"\)/],
    ['a stream event', { type: 'response.output_text.delta', delta: 'hi', sequence_number: 3 }, /\(a stream event of type "response\.output_text\.delta"\)/],
    ['a webhook', { id: 'evt_1', object: 'event', type: 'response.completed', created_at: 1, data: { id: 'resp_1' } }, /\(a webhook event of type "response\.completed"\)/],
    ['an HTTP answer', { status: 200, headers: {}, body: { ok: true } }, /\(an HTTP answer with status 200\)/],
  ];
  for (const [what, value, shape] of successes) {
    test(`${what}: TypeError saying so (detectFailure says null)`, () => {
      assert.equal(detectFailure(value), null, 'the fixture is a success');
      assert.throws(() => toError(value), (e: unknown) => {
        assert.ok(e instanceof TypeError && !FaultlineError.isInstance(e));
        assert.match(e.message, /^toError: input is a success \(.+\), not a failure; check it with detectFailure\(\) or assertSucceeded\(\)$/);
        assert.match(e.message, shape);
        return true;
      });
      assert.equal(classify(value).code, 'unknown', 'classify() stays total');
      assert.match(classify(value).message, /Not a failure/);
    });
  }

  test('a caught Error never takes this path, and the message shows no secret the success carried', () => {
    assert.equal(toError(new Error('boom')).code, 'unknown');
    assert.equal(toError(new Error('Request timed out.')).code, 'timeout');
    assert.throws(() => toError({ object: 'response', status: `done ${KEY}` }), (e: unknown) => e instanceof TypeError && leaks(e.message).length === 0 && /\[REDACTED\]/.test(e.message));
  });
});

describe('failureOf(): the one Failure builder', () => {
  test('name, category and retryable come from the catalog row; the summary is the default message', () => {
    const f = failureOf('overloaded');
    assert.deepEqual(f, { code: 'overloaded', name: 'OverloadedError', category: 'server', retryable: true, message: 'The service is temporarily over capacity; back off and retry.', source: 'unknown' });
    assert.equal(failureOf('timeout', { source: 'transport', objectId: 'resp_1' }).objectId, 'resp_1');
  });

  test('a wait is kept only for a failure that may be retried', () => {
    assert.equal(failureOf('rate_limit_exceeded', { retryAfterMs: 250 }).retryAfterMs, 250);
    assert.equal(failureOf('insufficient_quota', { retryAfterMs: 250 }).retryAfterMs, undefined);
    assert.equal('retryAfterMs' in failureOf('invalid_request', { retryAfterMs: 250 }), false);
    assert.equal(failureOf('unknown', { retryAfterMs: 250, shouldRetryHeader: true }).retryAfterMs, 250, 'x-should-retry: true opens it');
  });

  test('strings are clipped and redacted (failureBase trusts its caller)', () => {
    const long = `${KEY} ${'x'.repeat(MAX_MESSAGE * 2)}`;
    const f = failureOf('server_error', { message: long, requestId: `req_${KEY}`, wireCode: 'y'.repeat(1000) });
    assert.deepEqual(leaks(f), []);
    assert.ok(f.message.length < MAX_MESSAGE + 32 && f.message.endsWith('… [truncated]'));
    assert.equal(f.wireCode?.length, 256);
    assert.equal(failureBase(entryOf('server_error'), `as is ${KEY}`, 'http').message, `as is ${KEY}`, 'the base trusts classify’s own redaction');
  });

  test('the hand-made errors build through it', () => {
    assert.deepEqual(new OverloadedError('busy').failure, failureOf('overloaded', { message: 'busy' }));
  });
});

describe('RetryError is a FaultlineError', () => {
  const rate = classify({ status: 429, headers: { 'retry-after-ms': '20' }, body: { error: { code: 'rate_limit_exceeded', message: 'slow down' } } });
  const busy = classify({ status: 503, body: { error: { message: 'overloaded' } } });

  test('code and failure are the last attempt’s; attempts, reason and lastFailure stay', () => {
    const cause = new Error('last');
    const e = new RetryError('retries_exhausted', [busy, rate], cause);
    assert.ok(e instanceof FaultlineError && FaultlineError.isInstance(e));
    assert.ok(e instanceof RetryError && RetryError.isInstance(e) && isRetryError(e));
    assert.ok(e instanceof RateLimitError, 'the last attempt was rate limited');
    assert.equal(e instanceof OverloadedError, false);
    assert.equal(e.code, 'rate_limit_exceeded');
    assert.equal(e.failure, rate);
    assert.equal(e.lastFailure, rate);
    assert.equal(e.retryAfterMs, 20);
    assert.deepEqual(e.attempts, [busy, rate]);
    assert.equal(e.reason, 'retries_exhausted');
    assert.equal(e.cause, cause);
    assert.equal(e.name, 'RetryError');
    assert.match(e.message, /^Gave up after 2 attempts \(no retries left\); last failure: rate_limit_exceeded: slow down$/);
    assert.ok(e.stack?.startsWith(`RetryError: ${e.message}`), e.stack?.split('\n')[0]);
    assert.equal(toError(e), e, 'toError passes it through');
    assert.equal(classify(e), rate, 'classify reads its failure');
  });

  test('with no attempt at all, the failure is what it was waiting for', () => {
    const e = new RetryError('retry_time_exhausted', [], undefined, { code: 'rate_limit_exceeded', message: 'paused by a 429' });
    assert.equal(e.code, 'rate_limit_exceeded');
    assert.equal(e.failure.message, 'paused by a 429');
    assert.equal(e.lastFailure, undefined);
    assert.match(e.message, /^Gave up after 0 attempts \(the retry time budget is spent\); last failure: rate_limit_exceeded: paused by a 429$/);
  });

  test('toJSON is the base one plus reason and attempts, with no secret', () => {
    const e = new RetryError('retries_exhausted', [rate], new Error(`echo ${KEY}`));
    const back = JSON.parse(JSON.stringify(e)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(back).sort(), ['attempts', 'cause', 'code', 'failure', 'message', 'name', 'reason']);
    assert.equal(back.name, 'RetryError');
    assert.deepEqual(leaks(back), []);
  });

  test('recognised by brand across copies: a plain object with both brands is one; either brand alone is not', () => {
    const foreign = Object.create(Error.prototype) as Record<symbol, unknown>;
    Object.defineProperty(foreign, ERROR_BRAND, { value: true });
    Object.defineProperty(foreign, RETRY_ERROR_BRAND, { value: true });
    assert.ok(RetryError.isInstance(foreign) && foreign instanceof RetryError);
    const onlyRetry = Object.defineProperty({}, RETRY_ERROR_BRAND, { value: true });
    assert.equal(RetryError.isInstance(onlyRetry), false);
    assert.equal(RetryError.isInstance(new OverloadedError('x')), false);
    assert.equal(new OverloadedError('x') instanceof RetryError, false);
  });
});
