/**
 * The background layer with the real `openai` SDK (v5, v6, v7) over an injected fetch: polls go through
 * `withResponse()` (so `openai-poll-after-ms` is read), streams through the SDK's SSE parser, and the
 * SDK's own retries are off. A scripted fetch, not the mock: this checks the SDK seam only.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI5 from 'openai-v5';
import OpenAI6 from 'openai-v6';
import OpenAI7 from 'openai-v7';
import { createAndWait, waitForResponse } from '../../src/background/wait.ts';
import { RateLimitError } from '../../src/core/errors.ts';
import { createManualClock, type ManualClock } from '../../src/mock/index.ts';

const SDKS = { v5: OpenAI5, v6: OpenAI6, v7: OpenAI7 } as const;

function response(status: string, extra: Record<string, unknown> = {}) {
  return { id: 'resp_sdk', object: 'response', created_at: 1_700_000_000, status, background: true, output: [], error: null, incomplete_details: null, ...extra };
}

function scriptedFetch(clock: ManualClock) {
  const seen: { url: string; method: string }[] = [];
  let polls = 0;
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = init?.method ?? 'GET';
    seen.push({ url, method });
    const json = (body: unknown, headers: Record<string, string> = {}) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json', ...headers } });
    if (method === 'POST' && url.endsWith('/responses')) {
      const body = JSON.parse(String(init?.body)) as { stream?: boolean };
      if (body.stream === true) {
        const events = [
          { type: 'response.created', sequence_number: 0, response: response('queued') },
          { type: 'response.output_text.delta', sequence_number: 1, delta: 'Hel', item_id: 'm', output_index: 0, content_index: 0 },
          { type: 'response.failed', sequence_number: 2, response: response('failed', { error: { code: 'rate_limit_exceeded', message: 'Rate limit reached' } }) },
        ];
        const sse = events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');
        return new Response(sse, { status: 200, headers: { 'content-type': 'text/event-stream' } });
      }
      return json(response('queued'));
    }
    if (method === 'GET' && url.includes('/responses/resp_sdk')) {
      polls++;
      return json(response(polls >= 3 ? 'completed' : 'in_progress'), { 'openai-poll-after-ms': '4000' });
    }
    return new Response('{"error":{"message":"nope"}}', { status: 404, headers: { 'content-type': 'application/json' } });
  };
  return { fetch, seen, polls: () => polls };
}

describe('with the real openai SDK', () => {
  for (const [name, OpenAI] of Object.entries(SDKS)) {
    test(`${name}: polling honours openai-poll-after-ms; retries off`, async () => {
      const clock = createManualClock(1_700_000_000_000);
      const f = scriptedFetch(clock);
      const client = new OpenAI({ apiKey: 'sk-test-not-a-real-key-000000', baseURL: 'http://127.0.0.1:9/v1', fetch: f.fetch as typeof fetch, maxRetries: 5 });
      const res = await clock.run(waitForResponse(client, 'resp_sdk', { timeoutMs: 60_000, clock, random: () => 0 }));
      assert.equal(res.status, 'completed');
      assert.equal(f.polls(), 3);
      assert.deepEqual(clock.sleeps.filter((ms) => ms < 60_000), [4000, 4000]);
    });

    test(`${name}: createAndWait streams through the SDK and a background failure is a RateLimitError`, async () => {
      const clock = createManualClock(1_700_000_000_000);
      const f = scriptedFetch(clock);
      const client = new OpenAI({ apiKey: 'sk-test-not-a-real-key-000000', baseURL: 'http://127.0.0.1:9/v1', fetch: f.fetch as typeof fetch });
      const deltas: string[] = [];
      const err = await clock
        .run(createAndWait(client, { model: 'gpt-4o-mini', input: 'hi' }, { timeoutMs: 60_000, clock, onProgress: (p) => p.delta !== undefined && deltas.push(p.delta) }))
        .catch((e: unknown) => e);
      assert.ok(err instanceof RateLimitError, String(err));
      assert.deepEqual(deltas, ['Hel']);
      assert.equal(f.seen.length, 1, 'one create, no polls');
    });
  }
});
