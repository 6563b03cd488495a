/**
 * The background layer against faultline's mock server, through the real `openai` SDK, on the mock's
 * manual clock: every terminal outcome via poll, stream and webhook; stream drops; the cancel race;
 * expiry after retention.
 */
import { describe, test } from 'node:test';
import { RESPONSE_ERROR_CODE } from '../fixtures/sdk-unions.ts';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { createManualClock, createMock, type Mock, type Rule } from '../../src/mock/index.ts';
import { generateWebhookSecret } from '../../src/webhooks/index.ts';
import { createAndWait, waitForResponse, type WaitOptions, type WaitProgress } from '../../src/background/wait.ts';
import { createResultHub } from '../../src/background/hub.ts';
import { createWebhookHandler } from '../../src/webhooks/index.ts';
import { CancelledError, ERROR_CLASSES, ExpiredError, FaultlineError, RateLimitError } from '../../src/core/errors.ts';
import type { FailureCode } from '../../src/core/catalog.ts';

/** Advance the mock's clock in small steps until `p` settles (bounded). The waits share the mock's clock. */
async function drive<T>(mock: Mock, p: Promise<T>, stepMs = 100, maxSteps = 20_000): Promise<T> {
  let done = false;
  const watched = p.finally(() => {
    done = true;
  });
  watched.catch(() => {});
  for (let i = 0; i < maxSteps && !done; i++) await mock.advance(stepMs);
  assert.ok(done, 'the wait did not settle');
  return watched;
}

function setup(rules: Rule[] = [], extra: Parameters<typeof createMock>[0] = {}) {
  const mock = createMock({ clock: createManualClock(), background: { queuedMs: 200, runMs: 5000 }, scenario: rules, ...extra });
  const client = new OpenAI({ apiKey: 'sk-test-mock-00000000', baseURL: 'http://mock.local/v1', fetch: mock.fetch, maxRetries: 0 });
  return { mock, client };
}

const outcomeRule = (fault: Record<string, unknown>): Rule => ({ match: { path: '/v1/responses', method: 'POST' }, fault: { type: 'outcome', ...fault } as Rule['fault'] });

/**
 * Every `ResponseError.code` of the installed SDK (openai v7's type), and the code each must become.
 * `undefined`: the catalog has no row for it yet; it must still be a typed FaultlineError.
 */
// Typed by the SDK's own union: compiling fails when the SDK adds or drops a code.
// The expected code of every `ResponseError.code` in the SDK's union, shared with the classifier's tests.
const RESPONSE_ERROR_CODES: Readonly<Record<string, FailureCode>> = RESPONSE_ERROR_CODE;

const CASES: [string, Record<string, unknown>, FailureCode | undefined][] = [
  ...Object.entries(RESPONSE_ERROR_CODES).map(([wire, code]): [string, Record<string, unknown>, FailureCode | undefined] => [`failed ${wire}`, { status: 'failed', code: wire, message: `A ${wire} failure` }, code]),
  ['failed error: null', { status: 'failed', code: null }, 'unknown'],
  ['incomplete max_output_tokens', { status: 'incomplete', reason: 'max_output_tokens' }, 'max_output_tokens'],
  ['incomplete content_filter', { status: 'incomplete', reason: 'content_filter' }, 'content_filtered'],
  ['incomplete reason null', { status: 'incomplete', reason: null }, 'incomplete'],
  ['cancelled', { status: 'cancelled' }, 'cancelled'],
];

describe('against the mock (openai SDK, manual clock)', () => {
  for (const [name, fault, code] of CASES) {
    for (const via of ['poll', 'stream', 'webhook'] as const) {
      test(`${name} → ${code === undefined ? 'a typed error' : ERROR_CLASSES[code].name} via ${via}`, async () => {
        const secret = generateWebhookSecret();
        const hub = createResultHub();
        let handle: ReturnType<typeof createWebhookHandler> | undefined;
        const { mock, client } = setup([outcomeRule(fault)], via === 'webhook' ? {
          webhooks: { url: 'http://hooks.local/openai', secret, fetch: async (_url, init) => {
            const r = await handle!({ body: String(init.body), headers: init.headers as Record<string, string> });
            return new Response(r.body, { status: r.status });
          } },
        } : {});
        handle = createWebhookHandler({ secret, client, hub, clock: mock.clock });
        // For the webhook case the waiter polls rarely (10 min), so only the webhook can end it in time.
        const opts: WaitOptions = { timeoutMs: 3_600_000, clock: mock.clock, hub, ...(via === 'webhook' ? { minDelayMs: 600_000, maxDelayMs: 600_000, stream: false } : via === 'poll' ? { stream: false } : {}) };
        const t0 = mock.now();
        const err = await drive(mock, createAndWait(client, { model: 'gpt-4o-mini', input: 'hi' }, opts)).then(
          () => assert.fail('should reject'),
          (e: unknown) => e,
        );
        assert.ok(FaultlineError.isInstance(err), String(err));
        if (code !== undefined) {
          const Cls = ERROR_CLASSES[code] as unknown as new (...a: never[]) => FaultlineError;
          assert.ok(err instanceof Cls, `${String(err)}`);
          assert.equal(err.code, code);
        }
        assert.ok(typeof (err.response as { status?: unknown }).status === 'string', 'the Response is on the error');
        if (via === 'webhook') assert.ok(mock.now() - t0 < 600_000, 'woken by the webhook, not a poll');
        await mock.close();
      });
    }
  }

  test('one catch (e instanceof RateLimitError) catches a background rate_limit_exceeded', async () => {
    const { mock, client } = setup([outcomeRule({ status: 'failed', code: 'rate_limit_exceeded' })]);
    let caught = false;
    try {
      await drive(mock, createAndWait(client, { model: 'gpt-4o-mini', input: 'hi' }, { timeoutMs: 60_000, clock: mock.clock }));
    } catch (e) {
      if (e instanceof RateLimitError) caught = e.code === 'rate_limit_exceeded';
    }
    assert.ok(caught);
    await mock.close();
  });

  test('completed via poll and via stream', async () => {
    for (const stream of [false, true]) {
      const { mock, client } = setup();
      const res = await drive(mock, createAndWait(client, { model: 'gpt-4o-mini', input: 'hi' }, { timeoutMs: 60_000, stream, clock: mock.clock }));
      assert.equal(res.status, 'completed');
      await mock.close();
    }
  });

  for (const action of ['reset', 'truncate'] as const) {
    test(`stream ${action} mid-response → resumed with no missing and no duplicated events`, async () => {
      const { mock, client } = setup([{ match: { stream: true }, fault: { type: 'stream', action, afterEvents: 3 }, times: 2 }]);
      const progress: WaitProgress[] = [];
      const res = await drive(mock, createAndWait(client, { model: 'gpt-4o-mini', input: 'hi' }, { timeoutMs: 60_000, clock: mock.clock, onProgress: (p) => progress.push(p) }));
      assert.equal(res.status, 'completed');
      const seqs = progress.map((p) => p.event?.['sequence_number'] as number);
      assert.deepEqual(seqs, seqs.map((_, i) => i), `contiguous from 0: ${seqs.join(',')}`);
      assert.equal(progress.at(-1)?.event?.['type'], 'response.completed');
      const gets = mock.log.filter((e) => e.kind === 'request' && e.method === 'GET' && e.stream);
      const fired = mock.log.filter((e) => e.kind === 'request' && e.fault !== null).length;
      assert.ok(fired >= 1, 'the fault fired');
      assert.equal(gets.length, fired, 'one resume (starting_after) per cut');
      assert.equal(progress.at(-1)?.reconnects, fired);
      await mock.close();
    });
  }

  test("onAbort 'cancel' when the run completed anyway (cancelled-then-completed) resolves completed", async () => {
    const { mock, client } = setup([outcomeRule({ status: 'cancelled', thenCompleted: true })]);
    const ac = new AbortController();
    const p = createAndWait(client, { model: 'gpt-4o-mini', input: 'hi' }, { timeoutMs: 60_000, clock: mock.clock, stream: false, signal: ac.signal, abort: 'cancel' });
    await mock.advance(1000);
    ac.abort();
    const res = await drive(mock, p);
    assert.equal(res.status, 'completed');
    assert.ok(mock.log.some((e) => e.kind === 'request' && e.path.endsWith('/cancel')));
    await mock.close();
  });

  test("onAbort 'cancel' cancels remotely → CancelledError", async () => {
    const { mock, client } = setup();
    const ac = new AbortController();
    const p = createAndWait(client, { model: 'gpt-4o-mini', input: 'hi' }, { timeoutMs: 60_000, clock: mock.clock, signal: ac.signal, abort: 'cancel' });
    await mock.advance(1000);
    ac.abort();
    const err = await drive(mock, p).catch((e: unknown) => e);
    assert.ok(err instanceof CancelledError, String(err));
    await mock.close();
  });

  test('a Response gone after retention (404) → ExpiredError, not a crash', async () => {
    const { mock, client } = setup([], { responseTtlMs: 3000 });
    const created = await client.responses.create({ model: 'gpt-4o-mini', input: 'hi', background: true, store: true });
    const err = await drive(mock, waitForResponse(client, created, { timeoutMs: 60_000, clock: mock.clock, minDelayMs: 4000 })).catch((e: unknown) => e);
    assert.ok(err instanceof ExpiredError, String(err));
    await mock.close();
  });
});
