/**
 * The msw recipe (docs/integrations.md, openai-node#1565): faultline's mock as an msw handler, so code
 * that builds its own `new OpenAI()` (no `fetch` option to inject) meets the mock's faults. `node:test`
 * version of the recipe; the Vitest one in the doc differs only in its imports.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import OpenAI from 'openai';
import { QuotaExceededError, toError } from '../../src/index.ts';
import { createMock } from '../../src/mock/index.ts';

const emptyKey = ['sk', 'test', 'empty', '0'.repeat(8)].join('-');
const goodKey = ['sk', 'test', 'good', '0'.repeat(8)].join('-');

// The recipe: one mock, one catch-all handler. A reset the mock plays becomes msw's network error.
const mock = createMock({
  scenario: [
    { match: { key: emptyKey }, fault: { type: 'http', preset: 'insufficient_quota' } },
    { match: { model: 'gpt-reset' }, fault: { type: 'reset', when: 'before_headers' } },
  ],
});
const server = setupServer(
  http.all('https://api.openai.com/*', async ({ request }) => {
    try {
      return await mock.fetch(request);
    } catch {
      return HttpResponse.error();
    }
  }),
);

before(() => server.listen({ onUnhandledRequest: 'error' }));
after(async () => {
  server.close();
  await mock.close();
});

describe('the mock behind msw', () => {
  test('an app\'s own client (default fetch, default base URL) gets a real answer', async () => {
    const client = new OpenAI({ apiKey: goodKey, maxRetries: 0 });
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.object, 'chat.completion');
    assert.equal(typeof r.choices[0]?.message.content, 'string');
  });

  test('a streamed answer passes through msw', async () => {
    const client = new OpenAI({ apiKey: goodKey, maxRetries: 0 });
    let text = '';
    for await (const event of await client.responses.create({ model: 'gpt-4o-mini', input: 'hi', stream: true })) {
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    assert.ok(text.length > 0);
  });

  test('the scenario\'s faults reach the app: an empty wallet, a connection reset', async () => {
    const broke = new OpenAI({ apiKey: emptyKey, maxRetries: 0 });
    const quota = await broke.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    assert.ok(toError(quota) instanceof QuotaExceededError);
    const client = new OpenAI({ apiKey: goodKey, maxRetries: 0 });
    const reset = await client.chat.completions.create({ model: 'gpt-reset', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    // msw's network error is a bare TypeError('Failed to fetch'), without undici's ECONNRESET cause.
    assert.ok(reset instanceof OpenAI.APIConnectionError, String(reset));
  });

  test('the mock\'s log records what the app sent (ground truth for assertions)', () => {
    const models = mock.log.filter((e) => e.kind === 'request').map((e) => (e as { model?: string }).model);
    assert.ok(models.includes('gpt-4o-mini'));
    assert.ok(models.includes('gpt-reset'));
  });
});
