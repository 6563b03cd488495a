/**
 * The `fetch` recipes (docs/integrations.md): the Vercel AI SDK and LangChain.js take faultline's
 * `createFetch`, with their own retries off (`maxRetries: 0`), so faultline is the one layer that
 * retries. Against a scripted loopback server: the count of requests on the wire is the proof.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { ChatOpenAI } from '@langchain/openai';
import { generateText } from 'ai';
import { classify } from '../../src/index.ts';
import { createFetch } from '../../src/retry/index.ts';
import { createManualClock } from '../../src/mock/index.ts';
import { completionOf, emptyWallet, responseOf, scriptedServer, serverError } from './server.ts';

const server = scriptedServer();
const key = () => ['sk', 'test', 'sdks', '0'.repeat(8)].join('-');

/** createFetch on a virtual clock: its backoff sleeps cost no wall-clock time. */
function faultlineFetch(options: Parameters<typeof createFetch>[0] = {}) {
  const clock = createManualClock({ autoAdvance: true });
  return createFetch({ clock, ...options });
}

describe('Vercel AI SDK (ai + @ai-sdk/openai)', () => {
  const model = (fetch: typeof globalThis.fetch) => createOpenAI({ apiKey: key(), baseURL: server.base, fetch })('gpt-4o-mini');

  test('two 500s then an answer: createFetch retried, generateText did not (3 requests)', async () => {
    server.play(serverError, serverError, responseOf('hello'));
    const { text } = await generateText({ model: model(faultlineFetch()), prompt: 'hi', maxRetries: 0 });
    assert.equal(text, 'hello');
    assert.deepEqual(server.hits, ['POST /v1/responses', 'POST /v1/responses', 'POST /v1/responses']);
  });

  test('retries running out: createFetch({ retries: 2 }) sends 3 requests in all; the error keeps its catalog code', async () => {
    server.play(serverError);
    const error = await generateText({ model: model(faultlineFetch({ retries: 2 })), prompt: 'hi', maxRetries: 0 }).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.equal(server.hits.length, 3);
    assert.equal(classify(error).code, 'server_error');
  });

  test('an empty wallet: one request, and it classifies as insufficient_quota', async () => {
    server.play(emptyWallet);
    const error = await generateText({ model: model(faultlineFetch()), prompt: 'hi', maxRetries: 0 }).catch((e: unknown) => e);
    assert.equal(server.hits.length, 1);
    assert.equal(classify(error).code, 'insufficient_quota');
  });
});

describe('LangChain.js (@langchain/openai)', () => {
  const chat = (fetch: typeof globalThis.fetch) => new ChatOpenAI({ model: 'gpt-4o-mini', apiKey: key(), maxRetries: 0, configuration: { baseURL: server.base, fetch } });

  test('two 500s then an answer: createFetch retried, LangChain did not (3 requests)', async () => {
    server.play(serverError, serverError, completionOf('hello'));
    const message = await chat(faultlineFetch()).invoke('hi');
    assert.equal(message.content, 'hello');
    assert.deepEqual(server.hits, ['POST /v1/chat/completions', 'POST /v1/chat/completions', 'POST /v1/chat/completions']);
  });

  test('retries running out: 3 requests in all, not 3 × LangChain\'s 6 retries', async () => {
    server.play(serverError);
    const error = await chat(faultlineFetch({ retries: 2 })).invoke('hi').catch((e: unknown) => e);
    assert.equal(server.hits.length, 3);
    assert.equal(classify(error).code, 'server_error');
  });
});
