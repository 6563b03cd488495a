/**
 * The README's first example: `createAndWait` in its default streaming mode must resolve with the same
 * shape as a polled Response, `output_text` included (the SDK adds it to non-streamed results only).
 * Against an independent loopback SSE server, through every SDK major with the Responses API.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import OpenAI4 from 'openai-v4';
import OpenAI5 from 'openai-v5';
import OpenAI6 from 'openai-v6';
import OpenAI7 from 'openai-v7';
import { createAndWait } from '../../src/background/wait.ts';
import { driveIO, json, serveLoopback, type Loopback } from './loopback.ts';
import { createManualClock } from '../../src/mock/index.ts';

const SDKS = { openai: OpenAI, v4: OpenAI4, v5: OpenAI5, v6: OpenAI6, v7: OpenAI7 } as const;

const OUTPUT = [
  { type: 'reasoning', id: 'rs_1', summary: [] },
  {
    type: 'message',
    id: 'msg_1',
    role: 'assistant',
    status: 'completed',
    content: [
      { type: 'output_text', text: 'Autumn moonlight— ', annotations: [] },
      { type: 'refusal', refusal: 'not this part' },
      { type: 'output_text', text: 'a worm digs silently', annotations: [] },
    ],
  },
  { type: 'message', id: 'msg_2', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: ' into the chestnut.', annotations: [] }] },
];
const EXPECTED = 'Autumn moonlight— a worm digs silently into the chestnut.';

function response(status: string) {
  return { id: 'resp_haiku', object: 'response', created_at: 1_700_000_000, status, background: true, model: 'gpt-4.1-mini', error: null, incomplete_details: null, metadata: {}, output: status === 'completed' ? OUTPUT : [] };
}

/** Streams a create asked with stream: true (SSE from the wire protocol); answers polls with JSON. */
async function haikuServer(): Promise<Loopback> {
  return serveLoopback((req, res) => {
    if (req.method === 'POST' && req.url === '/v1/responses') {
      if ((req.body as { stream?: unknown }).stream !== true) return json(res, 200, response('queued'));
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const events = [
        { type: 'response.created', sequence_number: 0, response: response('queued') },
        { type: 'response.in_progress', sequence_number: 1, response: response('in_progress') },
        { type: 'response.output_text.delta', sequence_number: 2, item_id: 'msg_1', output_index: 1, content_index: 0, delta: 'Autumn' },
        { type: 'response.completed', sequence_number: 3, response: response('completed') },
      ];
      for (const e of events) res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
      return res.end();
    }
    if (req.method === 'GET' && req.url.startsWith('/v1/responses/resp_haiku')) return json(res, 200, response('completed'));
    json(res, 404, { error: { message: 'not found', type: 'invalid_request_error', code: null, param: null } });
  });
}

describe('output_text on the result, streamed or polled', () => {
  for (const [name, Sdk] of Object.entries(SDKS)) {
    test(`${name}: the streamed result has output_text, as the polled one does`, async () => {
      const server = await haikuServer();
      try {
        const clock = createManualClock(1_700_000_000_000);
        const client = new Sdk({ apiKey: ['sk', 'test', 'not', 'a', 'real', 'key', '000000'].join('-'), baseURL: server.url, fetch: server.fetch as never, maxRetries: 0 });
        const opts = { timeoutMs: 600_000, clock, random: () => 0 };
        const streamed = await driveIO(clock, server, createAndWait<{ id: string; output_text?: unknown }>(client as never, { model: 'gpt-4.1-mini', input: 'Write a haiku' }, opts));
        const polled = await driveIO(clock, server, createAndWait<{ id: string; output_text?: unknown }>(client as never, { model: 'gpt-4.1-mini', input: 'Write a haiku' }, { ...opts, stream: false }));
        assert.equal(server.requests.filter((r) => r.method === 'GET').length, 1, 'the streamed one was not polled');
        // The SDK sets it on a polled Response from v5 on (v4 on create only); faultline on every one.
        assert.equal(polled.output_text, EXPECTED);
        assert.equal(streamed.output_text, EXPECTED);
        assert.deepEqual(Object.keys(streamed).sort(), Object.keys(polled).sort(), 'same shape');
        assert.equal(Object.getOwnPropertyDescriptor(streamed, 'output_text')?.enumerable, Object.getOwnPropertyDescriptor(polled, 'output_text')?.enumerable);
      } finally {
        await server.close();
      }
    });
  }
});

test('withOutputText: only Responses, odd shapes tolerated, frozen objects left alone', async () => {
  const { withOutputText } = await import('../../src/background/types.ts');
  assert.equal((withOutputText({ object: 'response', output: OUTPUT }) as { output_text?: string }).output_text, EXPECTED);
  assert.equal((withOutputText({ object: 'response', output: null }) as { output_text?: string }).output_text, '');
  assert.equal((withOutputText({ object: 'response', output: [null, 7, { type: 'message', content: 'x' }, { type: 'message', content: [null, { type: 'output_text', text: 3 }] }] }) as { output_text?: string }).output_text, '');
  assert.equal('output_text' in withOutputText({ object: 'batch', output: OUTPUT }), false);
  assert.equal(withOutputText('text'), 'text');
  const frozen = Object.freeze({ object: 'response', output: OUTPUT });
  assert.equal(withOutputText(frozen), frozen);
  assert.equal('output_text' in frozen, false);
});
