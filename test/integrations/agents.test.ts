/**
 * The OpenAI Agents SDK recipe (docs/integrations.md): one retry layer, never two. Against a scripted
 * loopback server; the count of requests on the wire shows which layer retried.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Agent, OpenAIProvider, Runner, type RetryPolicy } from '@openai/agents';
import OpenAI from 'openai';
import { classify, isRetryableFailure } from '../../src/index.ts';
import { createFetch } from '../../src/retry/index.ts';
import { createManualClock } from '../../src/mock/index.ts';
import { emptyWallet, responseOf, scriptedServer, serverError } from './server.ts';

const server = scriptedServer();
const key = () => ['sk', 'test', 'agents', '0'.repeat(8)].join('-');

/** The recipe's policy: the catalog decides, the server's retry-after sets the delay. */
const faultlinePolicy: RetryPolicy = ({ error }) => {
  const failure = classify(error);
  if (!isRetryableFailure(failure)) return false;
  return failure.retryAfterMs !== undefined ? { retry: true, delayMs: failure.retryAfterMs } : true;
};

function runner(fetchOptions: Parameters<typeof createFetch>[0]) {
  const clock = createManualClock({ autoAdvance: true });
  const openAIClient = new OpenAI({ apiKey: key(), baseURL: server.base, maxRetries: 0, fetch: createFetch({ clock, ...fetchOptions }) });
  return new Runner({ modelProvider: new OpenAIProvider({ openAIClient, useResponses: true }), tracingDisabled: true });
}

describe('@openai/agents with faultline', () => {
  test('recipe A: createFetch retries, the SDK client (maxRetries: 0) and the runner do not: 2 failures + 1 success = 3 requests', async () => {
    server.play(serverError, serverError, responseOf('hello'));
    const agent = new Agent({ name: 'a', instructions: 'be brief', model: 'gpt-4o-mini' });
    const result = await runner({}).run(agent, 'hi');
    assert.equal(result.finalOutput, 'hello');
    assert.deepEqual(server.hits, ['POST /v1/responses', 'POST /v1/responses', 'POST /v1/responses']);
  });

  test('recipe A, retries running out: createFetch({ retries: 2 }) sends 3, not 3 × the runner\'s or the client\'s', async () => {
    server.play(serverError);
    const agent = new Agent({ name: 'a', instructions: 'be brief', model: 'gpt-4o-mini' });
    await assert.rejects(runner({ retries: 2 }).run(agent, 'hi'));
    assert.equal(server.hits.length, 3);
  });

  test('recipe B: the runner retries by the catalog (createFetch paces only): a 500 is retried, an empty wallet is not', async () => {
    const agent = new Agent({ name: 'a', instructions: 'be brief', model: 'gpt-4o-mini', modelSettings: { retry: { maxRetries: 3, policy: faultlinePolicy, backoff: { initialDelayMs: 1, maxDelayMs: 1, jitter: false } } } });
    server.play(serverError, responseOf('again'));
    const result = await runner({ retries: 0 }).run(agent, 'hi');
    assert.equal(result.finalOutput, 'again');
    assert.equal(server.hits.length, 2, 'one failure, one retry: no inner retry under the runner');
    server.play(emptyWallet);
    await assert.rejects(runner({ retries: 0 }).run(agent, 'hi'), (e: Error) => classify(e).code === 'insufficient_quota');
    assert.equal(server.hits.length, 1, 'insufficient_quota is never retried');
  });

  test('why the client needs maxRetries: 0: the runner leaves the SDK client\'s own retries on for the first attempt', async () => {
    const agent = new Agent({ name: 'a', instructions: 'be brief', model: 'gpt-4o-mini', modelSettings: { retry: { maxRetries: 1, policy: () => false } } });
    // retry-after-ms: 0 so that the SDK's own retry does not sleep on the wall clock.
    server.play({ ...emptyWallet, headers: { 'retry-after-ms': '0' } }, responseOf('x'));
    const clock = createManualClock({ autoAdvance: true });
    // maxRetries: 1 on the client here, to show the inner retry (the SDK retries any 429, an empty wallet too).
    const openAIClient = new OpenAI({ apiKey: key(), baseURL: server.base, maxRetries: 1, fetch: createFetch({ retries: 0, clock }) });
    const r = new Runner({ modelProvider: new OpenAIProvider({ openAIClient, useResponses: true }), tracingDisabled: true });
    await r.run(agent, 'hi').catch(() => undefined);
    assert.equal(server.hits.length, 2, 'the client retried inside the runner\'s first attempt');
  });
});
