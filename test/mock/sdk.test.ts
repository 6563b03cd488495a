/**
 * The real `openai` SDK, majors v4–v7, against the mock's in-process fetch: every success shape parses,
 * every injected HTTP fault throws the SDK class for its status, and faultline classifies it to the
 * catalog code the preset promises.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { classify } from '../../src/core/classify/index.ts';
import { AZURE_PRESETS, PRESETS, createManualClock, createMock, type HttpPreset, type PresetName } from '../../src/mock/index.ts';
import { MAJORS, collect, rejection, type SdkErrors } from './helpers.ts';

const STATUS_CLASS: Record<number, keyof SdkErrors> = {
  400: 'BadRequestError',
  401: 'AuthenticationError',
  403: 'PermissionDeniedError',
  404: 'NotFoundError',
  409: 'ConflictError',
  429: 'RateLimitError',
};

for (const sdk of MAJORS) {
  describe(`openai ${sdk.name} against the mock`, () => {
    test('sync Response, chat completion (with usage) and models list parse', async () => {
      const mock = createMock();
      const client = sdk.client(mock);
      const r = await client.responses.create({ model: 'gpt-4o-mini', input: 'Say hello', max_output_tokens: 64 });
      assert.equal(r.object, 'response');
      assert.equal(r.status, 'completed');
      assert.match(r.id, /^resp_/);
      assert.equal(r.output[0].content[0].text, 'Hello from the faultline mock server.');
      if (sdk.name !== 'v4') assert.equal(r.output_text, 'Hello from the faultline mock server.');
      assert.ok(r.usage.total_tokens > 0);

      const c = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(c.object, 'chat.completion');
      assert.equal(c.choices[0].finish_reason, 'stop');
      assert.equal(c.usage.total_tokens, c.usage.prompt_tokens + c.usage.completion_tokens);

      const ids: string[] = [];
      for await (const m of client.models.list()) ids.push(m.id);
      assert.ok(ids.includes('gpt-4o-mini'));
      await mock.close();
    });

    test('streams parse: Responses events with sequence_number, chat chunks with a usage chunk', async () => {
      const mock = createMock();
      const client = sdk.client(mock);
      const events = await collect(await client.responses.create({ model: 'gpt-4o-mini', input: 'hi', stream: true }));
      assert.deepEqual(
        events.map((e) => e.sequence_number),
        events.map((_, i) => i),
      );
      assert.equal(events[0].type, 'response.created');
      assert.equal(events.at(-1).type, 'response.completed');
      const text = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('');
      assert.equal(text, 'Hello from the faultline mock server.');

      const chunks = await collect(
        await client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'hi' }],
          stream: true,
          stream_options: { include_usage: true },
        }),
      );
      assert.equal(chunks.at(-1).choices.length, 0);
      assert.ok(chunks.at(-1).usage.total_tokens > 0);
      assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop');
      await mock.close();
    });

    test('background: queued → in_progress → completed on the clock; resume; cancel; delete', async () => {
      const clock = createManualClock();
      const mock = createMock({ clock, background: { queuedMs: 100, runMs: 1000 } });
      const client = sdk.client(mock);
      const created = await client.responses.create({ model: 'gpt-4o-mini', input: 'long job', background: true });
      assert.equal(created.status, 'queued');
      assert.equal(created.background, true);
      await mock.advance(100);
      assert.equal((await client.responses.retrieve(created.id)).status, 'in_progress');
      await mock.advance(1000);
      const done = await client.responses.retrieve(created.id);
      assert.equal(done.status, 'completed');
      assert.equal(done.output[0].content[0].text, 'Hello from the faultline mock server.');

      // Resume: exactly the events after N.
      const all = await collect(await client.responses.retrieve(created.id, { stream: true }));
      assert.equal(all[0].type, 'response.created');
      assert.equal(all.at(-1).type, 'response.completed');
      const after = await collect(await client.responses.retrieve(created.id, { stream: true, starting_after: 4 }));
      assert.deepEqual(
        after.map((e) => e.sequence_number),
        all.slice(5).map((e) => e.sequence_number),
      );
      assert.deepEqual(after, all.slice(5));

      // Cancel: running → cancelled, idempotent; a finished one is returned unchanged.
      const second = await client.responses.create({ model: 'gpt-4o-mini', input: 'x', background: true });
      assert.equal((await client.responses.cancel(second.id)).status, 'cancelled');
      assert.equal((await client.responses.cancel(second.id)).status, 'cancelled');
      assert.equal((await client.responses.retrieve(second.id)).status, 'cancelled');
      assert.equal((await client.responses.cancel(created.id)).status, 'completed');

      // Delete, then 404.
      await (client.responses.delete ?? client.responses.del)!.call(client.responses, created.id);
      const gone = await rejection(() => client.responses.retrieve(created.id));
      assert.ok(gone instanceof sdk.errors.NotFoundError);
      assert.equal((gone as { status?: number }).status, 404);
      await mock.close();
    });

    test('background stream arrives as the clock moves', async () => {
      const clock = createManualClock();
      const mock = createMock({ clock, background: { queuedMs: 50, runMs: 500 } });
      const client = sdk.client(mock);
      const stream = await client.responses.create({ model: 'gpt-4o-mini', input: 'hi', background: true, stream: true });
      const got = collect(stream);
      for (let i = 0; i < 6; i++) await mock.advance(100);
      const events = await got;
      assert.equal(events[0].response.status, 'queued');
      assert.equal(events.at(-1).type, 'response.completed');
      assert.equal(clock.pending, 0);
      await mock.close();
    });

    const presets: Record<string, HttpPreset> = { ...PRESETS, ...AZURE_PRESETS };
    for (const [name, preset] of Object.entries(presets)) {
      const title = `HTTP fault preset ${name} → ${STATUS_CLASS[preset.status] ?? 'InternalServerError'} → ${preset.expect}`;
      test(title, async () => {
        const mock = createMock({ scenario: [{ id: name, fault: { type: 'http', preset: name as PresetName } }] });
        const client = sdk.client(mock);
        const err = await rejection(() =>
          client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
        );
        const cls = STATUS_CLASS[preset.status] ?? 'InternalServerError';
        assert.ok(err instanceof sdk.errors[cls], `${sdk.name}: expected ${cls}, got ${(err as Error).constructor.name}`);
        assert.equal((err as { status?: number }).status, preset.status);
        assert.equal(classify(err).code, preset.expect);
        const last = mock.log.at(-1);
        assert.equal(last?.kind === 'request' ? last.fault : null, `${name}:http`);
        await mock.close();
      });
    }

    test('connection reset before headers → APIConnectionError → connection_error', async () => {
      const mock = createMock({ scenario: [{ fault: { type: 'reset' } }] });
      const err = await rejection(() => sdk.client(mock).responses.create({ model: 'gpt-4o-mini', input: 'hi' }));
      assert.ok(err instanceof sdk.errors.APIConnectionError);
      assert.equal(classify(err).code, 'connection_error');
      const last = mock.log.at(-1);
      assert.equal(last?.kind === 'request' ? last.status : 'x', null);
    });

    test('a delay longer than the client timeout → APIConnectionTimeoutError → timeout', async () => {
      const clock = createManualClock();
      const mock = createMock({ clock, scenario: [{ fault: { type: 'delay', ms: 60_000 } }] });
      // The SDK's own timer is real; a tiny timeout keeps the test short without a wall-clock wait on the mock.
      const client = sdk.client(mock, { timeout: 20 });
      const err = await rejection(() => client.responses.create({ model: 'gpt-4o-mini', input: 'hi' }));
      assert.ok(err instanceof sdk.errors.APIConnectionTimeoutError, String(err));
      assert.equal(classify(err).code, 'timeout');
      assert.equal(clock.pending, 0);
    });

    test('stream error events (flat and nested) reach the caller; classify reads the code', async () => {
      for (const shape of ['flat', 'nested', 'azure'] as const) {
        const mock = createMock({
          scenario: [{ fault: { type: 'stream', action: 'error', afterEvents: 4, shape, code: 'server_error' } }],
        });
        const stream = await sdk.client(mock).responses.create({ model: 'gpt-4o-mini', input: 'hi', stream: true });
        const seen: any[] = [];
        let failure: unknown;
        try {
          for await (const e of stream) seen.push(e);
        } catch (err) {
          failure = err;
        }
        // A nested `error` throws an APIError in every major; a flat one is thrown by v7 and yielded as a
        // `{ type: 'error' }` event by v4–v6 (their SSE parser only throws when `data.error` is set).
        const errorEvent = seen.find((e) => e.type === 'error');
        assert.ok(failure instanceof sdk.errors.APIError || errorEvent !== undefined, `${shape}: ${String(failure)}`);
        assert.equal(seen.slice(0, 4).map((e) => e.sequence_number).join(), '0,1,2,3');
        if (shape === 'azure') {
          const failed = seen.find((e) => e.type === 'response.failed');
          assert.equal(failed.response.error, null);
        }
        // v4 throws a flat `error` event as an APIError built from the message alone (the code is dropped):
        // classify() recognises the real message "The server had an error while processing your request".
        assert.equal(classify(failure ?? errorEvent).code, 'server_error', shape);
      }
    });

    test('chat stream error and mid-body reset', async () => {
      const mock = createMock({
        scenario: [
          { match: { nth: 1 }, fault: { type: 'stream', action: 'error', afterEvents: 2, code: 'server_error' } },
          { match: { nth: 2 }, fault: { type: 'stream', action: 'reset', afterEvents: 2 } },
        ],
      });
      const client = sdk.client(mock);
      const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true };
      const e1 = await rejection(async () => collect(await client.chat.completions.create(body)));
      assert.ok(e1 instanceof sdk.errors.APIError);
      assert.equal(classify(e1).code, 'server_error');
      const e2 = await rejection(async () => collect(await client.chat.completions.create(body)));
      assert.equal(classify(e2).code, 'connection_error', String(e2));
    });
  });
}
