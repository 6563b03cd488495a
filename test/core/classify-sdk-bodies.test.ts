/**
 * Bodies the SDK throws away. openai-node v4–v6 keep only `body.error` on an APIError: a gateway that
 * answers without the wrapper (Azure APIM's `{statusCode, message}`, vLLM's `{object: "error", …}`)
 * reaches the SDK's error as "403 status code (no body)". openai v7 keeps the whole body on `.error`,
 * which classify() reads. Through faultline.fetch, its reading of the whole body rides on the Response's
 * headers (x-faultline-failure-code), which every SDK version's error keeps.
 * Against an independent loopback server that speaks the gateways' wire format.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import OpenAIv4 from 'openai-v4';
import OpenAIv5 from 'openai-v5';
import OpenAIv6 from 'openai-v6';
import { classify } from '../../src/core/classify/index.ts';
import { createFetch } from '../../src/retry/index.ts';
import { createManualClock } from '../../src/mock/index.ts';

/** Gateway answers as published (test/fixtures/real/providers.ts cites each). */
const ANSWERS: Record<string, { status: number; body: string; headers?: Record<string, string> }> = {
  '/apim-quota/chat/completions': { status: 403, body: '{ "statusCode": 403, "message": "Out of call volume quota. Quota will be replenished in 22.14:18:12." }' },
  '/apim-key/chat/completions': { status: 401, body: '{"statusCode":401,"message":"Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."}' },
  '/vllm/chat/completions': {
    status: 400,
    body: '{"object":"error","message":"This model\'s maximum context length is 16000 tokens. However, you requested 17165 tokens.","type":"BadRequestError","param":null,"code":400}',
  },
  // An upstream that sends faultline's header itself is not believed.
  '/spoof/chat/completions': { status: 403, body: '{"statusCode":403,"message":"Forbidden"}', headers: { 'x-faultline-failure-code': 'rate_limit_exceeded' } },
};

async function gateway(): Promise<{ base: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    const path = (req.url ?? '').replace(/^\/v1/, '');
    const a = ANSWERS[path] ?? { status: 404, body: '{"statusCode":404,"message":"Resource not found"}' };
    res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end(a.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}/v1`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const key = () => ['sk', 'test', '0'.repeat(8)].join('-');

async function sdkError(client: { chat: { completions: { create: (p: never) => Promise<unknown> } } }): Promise<unknown> {
  try {
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] } as never);
  } catch (e) {
    return e;
  }
  assert.fail('the request should have failed');
}

describe('bodies the SDK throws away', () => {
  test('without faultline.fetch, openai v4 says only "403 status code (no body)"; v7 keeps the body', async () => {
    const g = await gateway();
    try {
      const old = await sdkError(new OpenAIv4({ apiKey: key(), baseURL: `${g.base}/apim-quota`, maxRetries: 0 }) as never);
      assert.match(String((old as Error).message), /403 status code \(no body\)/);
      assert.equal((old as { error?: unknown }).error, undefined);
      assert.equal(classify(old).code, 'permission_denied', 'all that is left is the status');
      const v7 = await sdkError(new OpenAI({ apiKey: key(), baseURL: `${g.base}/apim-quota`, maxRetries: 0 }));
      assert.equal(classify(v7).code, 'insufficient_quota', 'v7 keeps the unwrapped body on .error');
    } finally {
      await g.close();
    }
  });

  for (const [path, code, Client] of [
    ['apim-quota', 'insufficient_quota', OpenAI],
    ['apim-key', 'authentication_error', OpenAI],
    ['vllm', 'context_length_exceeded', OpenAI],
    ['apim-quota', 'insufficient_quota', OpenAIv4],
    ['apim-key', 'authentication_error', OpenAIv5],
    ['vllm', 'context_length_exceeded', OpenAIv6],
  ] as const) {
    const version = Client === OpenAIv4 ? 'v4' : Client === OpenAIv5 ? 'v5' : Client === OpenAIv6 ? 'v6' : 'v7';
    test(`through faultline.fetch the SDK's error keeps the meaning: ${path} → ${code} (openai ${version})`, async () => {
      const g = await gateway();
      try {
        const clock = createManualClock({ autoAdvance: true });
        const fetch = createFetch({ clock, pacing: false });
        const e = await sdkError(new Client({ apiKey: key(), baseURL: `${g.base}/${path}`, maxRetries: 0, fetch: fetch as never }) as never);
        const f = classify(e);
        assert.equal(f.code, code);
        assert.equal(f.source, 'sdk');
      } finally {
        await g.close();
      }
    });
  }

  test("an upstream's own x-faultline-failure-code header is not passed through", async () => {
    const g = await gateway();
    try {
      const clock = createManualClock({ autoAdvance: true });
      const fetch = createFetch({ clock, pacing: false });
      const e = await sdkError(new OpenAIv4({ apiKey: key(), baseURL: `${g.base}/spoof`, maxRetries: 0, fetch: fetch as never }) as never);
      assert.equal(classify(e).code, 'permission_denied');
    } finally {
      await g.close();
    }
  });
});
