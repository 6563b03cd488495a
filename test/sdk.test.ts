/**
 * Real errors thrown by every `openai` SDK major (v4–v7, installed side by side as npm aliases): each
 * HTTP fault through an injected `fetch` (no network), connection refused on a closed loopback port,
 * the SDK's own timeout and user abort, and stream error frames. faultline reads them by shape only.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { classify } from '../src/core/classify/index.ts';
import {
  AuthenticationError,
  ConnectionError,
  ContextLengthExceededError,
  FaultlineError,
  InternalServerError,
  ModelNotFoundError,
  OverloadedError,
  QuotaExceededError,
  RateLimitError,
  TimeoutError,
  UserAbortError,
  toError,
} from '../src/core/errors.ts';
import type { FailureCode } from '../src/core/catalog.ts';
import { MAJORS, drainRejection, hangingFetch, rejection, sdkError, sseWith, type Reply } from './fixtures/sdk.ts';

interface HttpCase {
  readonly name: string;
  readonly reply: Reply;
  readonly code: FailureCode;
  readonly retryAfterMs?: number;
  readonly requestId?: string;
}

const REQUEST_ID = { 'x-request-id': 'req_5b1e2c3d4f' };

const HTTP: readonly HttpCase[] = [
  {
    name: '400 invalid_value',
    reply: { status: 400, headers: REQUEST_ID, body: { error: { message: "Invalid value: 'robot'. Supported values are: 'assistant', 'system', 'developer', and 'user'.", type: 'invalid_request_error', param: 'input[0].role', code: 'invalid_value' } } },
    code: 'invalid_request',
    requestId: 'req_5b1e2c3d4f',
  },
  {
    name: '400 context_length_exceeded',
    reply: { status: 400, body: { error: { message: "This model's maximum context length is 8192 tokens. However, your messages resulted in 8227 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } } },
    code: 'context_length_exceeded',
  },
  {
    name: '401 invalid_api_key',
    reply: { status: 401, body: { error: { message: 'Incorrect API key provided: sk-proj-****************************abcd. You can find your API key at https://platform.openai.com/account/api-keys.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } } },
    code: 'authentication_error',
  },
  {
    name: '403 unsupported_country_region_territory',
    reply: { status: 403, body: { error: { code: 'unsupported_country_region_territory', message: 'Country, region, or territory not supported', param: null, type: 'request_forbidden' } } },
    code: 'permission_denied',
  },
  {
    name: '404 model_not_found',
    reply: { status: 404, body: { error: { message: 'The model `gpt-9` does not exist or you do not have access to it.', type: 'invalid_request_error', param: null, code: 'model_not_found' } } },
    code: 'model_not_found',
  },
  { name: '409 conflict', reply: { status: 409, body: { error: { message: 'Response is already being cancelled.', type: 'invalid_request_error', param: null, code: null } } }, code: 'conflict' },
  {
    name: '429 rate limit with retry-after-ms',
    reply: {
      status: 429,
      headers: { ...REQUEST_ID, 'retry-after-ms': '644', 'retry-after': '1' },
      body: { error: { message: 'Rate limit reached for gpt-4o in organization org-uOtiSEwvUnroadaOnJJquBEC on tokens per min (TPM): Limit 30000, Used 29937, Requested 385. Please try again in 644ms.', type: 'tokens', param: null, code: 'rate_limit_exceeded' } },
    },
    code: 'rate_limit_exceeded',
    retryAfterMs: 644,
    requestId: 'req_5b1e2c3d4f',
  },
  {
    name: '429 rate limit with only the message hint',
    reply: { status: 429, body: { error: { message: 'Rate limit reached for gpt-4o-mini in organization org-x on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.', type: 'requests', param: null, code: 'rate_limit_exceeded' } } },
    code: 'rate_limit_exceeded',
    retryAfterMs: 20_000,
  },
  {
    name: '429 insufficient_quota',
    reply: { status: 429, headers: REQUEST_ID, body: { error: { message: 'You exceeded your current quota, please check your plan and billing details.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } } },
    code: 'insufficient_quota',
    requestId: 'req_5b1e2c3d4f',
  },
  {
    name: '429 request too large',
    reply: { status: 429, body: { error: { message: 'Request too large for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Requested 31538.', type: 'tokens', param: null, code: 'rate_limit_exceeded' } } },
    code: 'request_too_large',
  },
  {
    name: 'Azure 429 with code "429" and apim-request-id',
    reply: { status: 429, headers: { 'apim-request-id': 'c0ffee00-1111-2222-3333-444455556666', 'retry-after': '7' }, body: { error: { code: '429', message: 'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-08-01-preview have exceeded token rate limit of your current OpenAI S0 pricing tier.' } } },
    code: 'rate_limit_exceeded',
    retryAfterMs: 7000,
    requestId: 'c0ffee00-1111-2222-3333-444455556666',
  },
  { name: 'Azure 404 DeploymentNotFound', reply: { status: 404, body: { error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist.' } } }, code: 'model_not_found' },
  {
    name: '500 server_error',
    reply: { status: 500, body: { error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } } },
    code: 'server_error',
  },
  { name: '502 Cloudflare HTML', reply: { status: 502, body: '<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n<hr><center>cloudflare</center>\n</body>\n</html>\n' }, code: 'server_error' },
  {
    name: '503 overloaded',
    reply: { status: 503, headers: { 'retry-after': '2' }, body: { error: { message: 'That model is currently overloaded with other requests.', type: 'server_error', param: null, code: null } } },
    code: 'overloaded',
    retryAfterMs: 2000,
  },
  { name: '504 gateway timeout', reply: { status: 504, body: '<html><head><title>504 Gateway Time-out</title></head></html>' }, code: 'timeout' },
  { name: '524 Cloudflare timeout', reply: { status: 524, body: '<title>api.openai.com | 524: A timeout occurred</title>' }, code: 'timeout' },
];

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

for (const m of MAJORS) {
  describe(`openai ${m.name}: real SDK errors`, () => {
    for (const c of HTTP) {
      test(c.name, async () => {
        const err = await sdkError(m, c.reply);
        assert.ok(err instanceof m.sdk.APIError, 'the SDK threw its own APIError');
        const f = classify(err);
        assert.equal(f.code, c.code);
        assert.equal(f.status, c.reply.status);
        assert.equal(f.source, 'sdk');
        assert.equal(f.retryAfterMs, c.retryAfterMs);
        if (c.requestId !== undefined) assert.equal(f.requestId, c.requestId);
        assert.doesNotMatch(JSON.stringify(f), /<html|<title/i, 'no markup');
        // toError keeps the original and its fields.
        const e = toError(err);
        assert.equal(e.code, c.code);
        assert.equal(e.cause, err);
        assert.equal(e.status, c.reply.status);
      });
    }

    test('instanceof: an SDK 429 rate limit is a RateLimitError; an insufficient_quota 429 is not', async () => {
      const rate = await sdkError(m, HTTP.find((c) => c.name === '429 rate limit with retry-after-ms')!.reply);
      const quota = await sdkError(m, HTTP.find((c) => c.name === '429 insufficient_quota')!.reply);
      assert.ok(rate instanceof m.sdk.RateLimitError && quota instanceof m.sdk.RateLimitError, 'both are the SDK RateLimitError');
      assert.equal(rate instanceof RateLimitError, true);
      assert.equal(quota instanceof RateLimitError, false);
      assert.equal(quota instanceof QuotaExceededError, true);
      assert.equal(rate instanceof FaultlineError, false, 'the base class is the brand only');
      const other = await sdkError(m, HTTP.find((c) => c.name === '404 model_not_found')!.reply);
      assert.equal(other instanceof ModelNotFoundError, true);
      assert.equal(other instanceof RateLimitError, false);
      // One catch for both: a 429 thrown by the SDK and one found in a background Response.
      const background = toError({ id: 'resp_1', object: 'response', status: 'failed', error: { code: 'rate_limit_exceeded', message: 'x' } });
      for (const e of [rate, background]) assert.ok(e instanceof RateLimitError);
    });

    test('more instanceof by meaning', async () => {
      const pairs: Array<[string, abstract new (...a: never[]) => unknown]> = [
        ['401 invalid_api_key', AuthenticationError],
        ['400 context_length_exceeded', ContextLengthExceededError],
        ['500 server_error', InternalServerError],
        ['503 overloaded', OverloadedError],
        ['524 Cloudflare timeout', TimeoutError],
      ];
      for (const [name, Cls] of pairs) {
        const err = await sdkError(m, HTTP.find((c) => c.name === name)!.reply);
        assert.ok(err instanceof Cls, name);
      }
    });

    test('connection refused on a closed loopback port', async () => {
      const port = await closedPort();
      const client = new m.sdk({ apiKey: 'sk-test-not-a-real-key-000000', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
      const err = await rejection(() => client.responses.create({ model: 'gpt-4o-mini', input: 'hi' }));
      assert.ok(err instanceof m.sdk.APIConnectionError);
      const f = classify(err);
      assert.equal(f.code, 'connection_error');
      assert.equal(f.status, undefined);
      assert.equal(f.transportCode, 'ECONNREFUSED');
      assert.ok(err instanceof ConnectionError);
    });

    test("the SDK's own timeout (a fetch that never answers)", async () => {
      const client = m.client(hangingFetch, { timeout: 1 });
      const err = await rejection(() => client.responses.create({ model: 'gpt-4o-mini', input: 'hi' }));
      assert.ok(err instanceof m.sdk.APIConnectionTimeoutError);
      const f = classify(err);
      assert.equal(f.code, 'timeout');
      assert.equal(f.status, undefined);
      assert.ok(err instanceof TimeoutError);
    });

    test('user abort with an already aborted signal', async () => {
      const client = m.client(hangingFetch);
      const err = await rejection(() => client.responses.create({ model: 'gpt-4o-mini', input: 'hi' }, { signal: AbortSignal.abort() }));
      assert.ok(err instanceof m.sdk.APIUserAbortError);
      assert.equal(classify(err).code, 'aborted');
      assert.ok(err instanceof UserAbortError);
    });

    test('chat stream error frame', async () => {
      const client = m.client(
        sseWith([
          { data: { id: 'chatcmpl-1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }] } },
          { data: { error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } } },
        ]),
      );
      const err = await drainRejection(await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true }));
      assert.ok(err instanceof m.sdk.APIError);
      const f = classify(err);
      assert.equal(f.code, 'server_error');
      assert.equal(f.status, undefined, 'a stream frame after a 200 has no failure status');
    });

    test('Responses stream error event: thrown (v4, v7) or yielded (v5, v6), the same code', async () => {
      const client = m.client(
        sseWith([
          { event: 'response.created', data: { type: 'response.created', sequence_number: 0, response: { id: 'resp_1', object: 'response', status: 'in_progress', output: [] } } },
          { event: 'error', data: { type: 'error', sequence_number: 1, code: 'server_is_overloaded', message: 'Our servers are currently overloaded. Please try again later.', param: null } },
        ]),
      );
      const stream: AsyncIterable<{ type: string }> = await client.responses.create({ model: 'gpt-4o-mini', input: 'hi', stream: true });
      let failure;
      try {
        for await (const event of stream) if (event.type === 'error') failure = classify(event);
      } catch (err) {
        assert.ok(err instanceof m.sdk.APIError);
        failure = classify(err);
      }
      assert.ok(failure, 'the error surfaced');
      assert.equal(failure.code, 'overloaded');
      assert.equal(failure.status, undefined);
    });
  });
}

describe('brand across duplicate copies of faultline', () => {
  test('a second module instance (query-string import) is recognised', async () => {
    // A query string gives a second, independent module instance (as a duplicate install would).
    const specifier = '../src/core/errors.ts?copy=2';
    const copy = (await import(specifier)) as typeof import('../src/core/errors.ts');
    assert.notEqual(copy.RateLimitError, RateLimitError, 'really a second copy');
    const foreign = new copy.RateLimitError('from the other copy');
    assert.ok(foreign instanceof RateLimitError);
    assert.ok(foreign instanceof FaultlineError);
    assert.ok(FaultlineError.isInstance(foreign));
    assert.equal(foreign instanceof QuotaExceededError, false);
    const ours = new QuotaExceededError('ours');
    assert.ok(ours instanceof copy.QuotaExceededError);
    assert.ok(ours instanceof copy.FaultlineError);
    assert.equal(toError(foreign), foreign, 'a branded error passes through toError');
    assert.equal(classify(foreign).code, 'rate_limit_exceeded');
  });

  test('an object from another realm (node:vm) carrying the brand', async () => {
    const { runInNewContext } = await import('node:vm');
    const alien = runInNewContext(`(() => {
      const e = new Error('from another realm');
      e[Symbol.for('faultline.error')] = true;
      e.code = 'overloaded';
      e.failure = { code: 'overloaded', name: 'OverloadedError', category: 'server', retryable: true, message: 'from another realm', source: 'unknown' };
      return e;
    })()`) as unknown;
    assert.equal(alien instanceof Error, false, 'not this realm’s Error');
    assert.ok(alien instanceof OverloadedError);
    assert.ok(alien instanceof FaultlineError);
    assert.equal(alien instanceof RateLimitError, false);
    assert.equal(classify(alien).code, 'overloaded');
  });
});
