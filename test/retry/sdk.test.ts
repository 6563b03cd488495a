/**
 * The same fetch in the three places users put one: the `openai` SDK, the Vercel AI SDK and LangChain.
 * In-process against the mock: no network.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createOpenAI } from '@ai-sdk/openai';
import { ChatOpenAI } from '@langchain/openai';
import { generateText } from 'ai';
import OpenAI from 'openai';
import * as root from '../../src/index.ts';
import { QuotaExceededError, toError } from '../../src/index.ts';
import { createManualClock, createMock, type MockOptions, type RequestLogEntry } from '../../src/mock/index.ts';
import * as retryEntry from '../../src/retry/index.ts';
import { createFetch } from '../../src/retry/index.ts';

const BASE = 'http://mock.test/v1';
const KEY = ['sk', 'test', '0000'].join('-'); // built at run time: no key-shaped literal in the repo

function setup(scenario: MockOptions['scenario'] = []) {
  const clock = createManualClock({ autoAdvance: true });
  const mock = createMock({ clock, rateLimit: { rpm: 600, tpm: 100_000, burstWindowMs: 1000 }, scenario });
  const fetch = createFetch({ fetch: mock.fetch, clock });
  const attempts = () => mock.log.filter((e): e is RequestLogEntry => e.kind === 'request').length;
  return { mock, fetch, attempts };
}

const FLAKY = [
  { match: { nth: 1 }, fault: { type: 'http', preset: 'server_error' } },
  { match: { nth: 2 }, fault: { type: 'reset' } },
] as const;
const QUOTA = [{ fault: { type: 'http', preset: 'insufficient_quota' } }] as const;

describe('createFetch in the SDKs', () => {
  test('createFetch is the one name: no `fetch` export hides the global fetch in an importing module', () => {
    assert.equal(root.createFetch, createFetch);
    assert.equal('fetch' in root, false);
    assert.equal('fetch' in retryEntry, false);
  });

  test('openai: new OpenAI({ fetch, maxRetries: 0 }) retries a 500 and a reset, and stops at quota', async () => {
    const s = setup(FLAKY);
    const client = new OpenAI({ apiKey: KEY, baseURL: BASE, fetch: s.fetch, maxRetries: 0 });
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    assert.match(r.choices[0]!.message.content ?? '', /Hello/);
    assert.equal(s.attempts(), 3);
    const q = setup(QUOTA);
    const quotaClient = new OpenAI({ apiKey: KEY, baseURL: BASE, fetch: q.fetch, maxRetries: 0 });
    const err = await quotaClient.responses.create({ model: 'gpt-4o-mini', input: 'hi' }).catch((e: unknown) => e);
    assert.ok(err instanceof QuotaExceededError);
    assert.ok(err instanceof OpenAI.RateLimitError, 'the SDK still raises its own class, with status and headers');
    assert.equal(toError(err).code, 'insufficient_quota');
    assert.equal(q.attempts(), 1);
  });

  test('Vercel AI SDK: createOpenAI({ fetch })', async () => {
    const s = setup(FLAKY);
    const provider = createOpenAI({ apiKey: KEY, baseURL: BASE, fetch: s.fetch });
    const { text } = await generateText({ model: provider('gpt-4o-mini'), prompt: 'hi', maxRetries: 0 });
    assert.match(text, /Hello/);
    assert.equal(s.attempts(), 3);
    const q = setup(QUOTA);
    const quota = createOpenAI({ apiKey: KEY, baseURL: BASE, fetch: q.fetch });
    const err = await generateText({ model: quota('gpt-4o-mini'), prompt: 'hi', maxRetries: 0 }).catch((e: unknown) => e);
    assert.equal(toError(err).code, 'insufficient_quota');
    assert.equal(q.attempts(), 1);
  });

  test('LangChain: new ChatOpenAI({ configuration: { fetch } })', async () => {
    const s = setup(FLAKY);
    const chat = new ChatOpenAI({ model: 'gpt-4o-mini', apiKey: KEY, maxRetries: 0, configuration: { baseURL: BASE, fetch: s.fetch } });
    const msg = await chat.invoke('hi');
    assert.match(String(msg.content), /Hello/);
    assert.equal(s.attempts(), 3);
    const q = setup(QUOTA);
    const quota = new ChatOpenAI({ model: 'gpt-4o-mini', apiKey: KEY, maxRetries: 0, configuration: { baseURL: BASE, fetch: q.fetch } });
    const err = await quota.invoke('hi').catch((e: unknown) => e);
    assert.ok(err instanceof QuotaExceededError);
    assert.equal(q.attempts(), 1);
  });
});
