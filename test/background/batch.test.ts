import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { batchReportOf, waitForBatch, type BatchWaitOptions } from '../../src/background/batch.ts';
import { ExpiredError, RateLimitError, TimeoutError, UserAbortError } from '../../src/core/errors.ts';
import { rateLimited } from './fake-client.ts';
import { createManualClock, type ManualClock } from '../../src/mock/index.ts';

const ok = (id: string) => ({ id: `batch_req_${id}`, custom_id: id, response: { status_code: 200, request_id: 'req', body: { id: 'chatcmpl', object: 'chat.completion', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'hi' } }] } }, error: null });
const rl = (id: string) => ({ id: `batch_req_${id}`, custom_id: id, response: { status_code: 429, request_id: 'req', body: { error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } } }, error: null });
const ctx = (id: string) => ({ id: `batch_req_${id}`, custom_id: id, response: { status_code: 400, request_id: 'req', body: { error: { message: "This model's maximum context length is 128000 tokens.", type: 'invalid_request_error', code: 'context_length_exceeded' } } }, error: null });
const expiredLine = (id: string) => ({ id: `batch_req_${id}`, custom_id: id, response: null, error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' } });

function fakeBatches(clock: ManualClock, spec: { doneAfterMs: number; final: string; output?: unknown[]; errors?: unknown[]; counts?: { total: number; completed: number; failed: number } }) {
  const created = clock.now();
  const calls = { retrieve: 0, cancel: 0, content: 0 };
  const faults: unknown[] = [];
  let cancelledAt: number | undefined;
  const client = {
    batches: {
      retrieve: async (id: string) => {
        calls.retrieve++;
        const f = faults.shift();
        if (f !== undefined) throw f;
        const end = cancelledAt ?? created + spec.doneAfterMs;
        const done = clock.now() >= end;
        const status = done ? (cancelledAt !== undefined ? 'cancelled' : spec.final) : 'in_progress';
        return {
          id,
          object: 'batch',
          status,
          created_at: Math.floor(created / 1000),
          output_file_id: done && spec.output ? 'file-out' : null,
          error_file_id: done && spec.errors ? 'file-err' : null,
          request_counts: spec.counts ?? { total: 0, completed: 0, failed: 0 },
        };
      },
      cancel: async () => {
        calls.cancel++;
        cancelledAt = clock.now() + 5000;
        return {};
      },
    },
    files: {
      content: async (fileId: string) => {
        calls.content++;
        const lines = fileId === 'file-out' ? spec.output : spec.errors;
        return new Response((lines ?? []).map((l) => JSON.stringify(l)).join('\n') + '\n');
      },
    },
  };
  return { client, calls, faults };
}

const opts = (clock: ManualClock, extra: Partial<BatchWaitOptions> = {}): BatchWaitOptions => ({ timeoutMs: 86_400_000, clock, random: () => 0.5, ...extra });

describe('waitForBatch', () => {
  test('reports every line with its catalog code', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const { client, faults } = fakeBatches(clock, { doneAfterMs: 3_600_000, final: 'completed', output: [ok('a'), rl('b'), ctx('c')], counts: { total: 3, completed: 3, failed: 0 } });
    faults.push(rateLimited(2000));
    const report = await clock.run(waitForBatch(client, 'batch_1', opts(clock)));
    assert.equal(report.status, 'completed');
    assert.deepEqual(
      report.lines.map((l) => [l.customId, l.ok, l.code ?? null]),
      [
        ['a', true, null],
        ['b', false, 'rate_limit_exceeded'],
        ['c', false, 'context_length_exceeded'],
      ],
    );
    assert.deepEqual(report.counts, { total: 3, succeeded: 1, failed: 2, byCode: { rate_limit_exceeded: 1, context_length_exceeded: 1 } });
    assert.equal(report.allFailed, false);
    assert.equal(report.error, undefined);
  });

  test('completed with every line failed is reported as a failure', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const { client } = fakeBatches(clock, { doneAfterMs: 60_000, final: 'completed', output: [rl('a'), rl('b')], counts: { total: 2, completed: 0, failed: 2 } });
    const err = await clock.run(waitForBatch(client, 'batch_2', opts(clock))).catch((e: unknown) => e);
    assert.ok(err instanceof RateLimitError, String(err));
    const report = batchReportOf(err);
    assert.equal(report?.allFailed, true);
    assert.equal(report?.lines.length, 2);
    const soft = await clock.run(waitForBatch(fakeBatches(clock, { doneAfterMs: 0, final: 'completed', output: [rl('a')], counts: { total: 1, completed: 0, failed: 1 } }).client, 'b', opts(clock, { failure: 'return' })));
    assert.equal(soft.allFailed, true);
    assert.ok(soft.error instanceof RateLimitError);
  });

  test('expired batch → ExpiredError with the partial lines on its report', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const { client } = fakeBatches(clock, { doneAfterMs: 86_000_000, final: 'expired', output: [ok('a')], errors: [expiredLine('b')], counts: { total: 2, completed: 1, failed: 1 } });
    const err = await clock.run(waitForBatch(client, 'batch_3', opts(clock, { timeoutMs: 90_000_000 }))).catch((e: unknown) => e);
    assert.ok(err instanceof ExpiredError, String(err));
    assert.deepEqual(batchReportOf(err)?.lines.map((l) => l.code ?? 'ok'), ['ok', 'expired']);
  });

  test('deadline and abort rules match waitForResponse', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const t0 = clock.now();
    const slow = fakeBatches(clock, { doneAfterMs: 86_000_000, final: 'completed' });
    const err = await clock.run(waitForBatch(slow.client, 'b', opts(clock, { timeoutMs: 100_000 }))).catch((e: unknown) => e);
    assert.ok(err instanceof TimeoutError);
    assert.equal(clock.now() - t0, 100_000);

    const ac = new AbortController();
    const p = waitForBatch(slow.client, 'b', opts(clock, { signal: ac.signal }));
    await clock.advance(10_000);
    ac.abort();
    assert.ok((await clock.run(p).catch((e: unknown) => e)) instanceof UserAbortError);
    assert.equal(slow.calls.cancel, 0);

    const ac2 = new AbortController();
    const p2 = waitForBatch(slow.client, 'b', opts(clock, { signal: ac2.signal, abort: 'cancel', failure: 'return' }));
    await clock.advance(10_000);
    ac2.abort();
    const report = await clock.run(p2);
    assert.equal(slow.calls.cancel, 1);
    assert.equal(report.status, 'cancelled');
  });

  test('misuse', async () => {
    await assert.rejects(waitForBatch({} as never, 'b', { timeoutMs: 1 }), /client/);
    const { client } = fakeBatches(createManualClock(1_700_000_000_000), { doneAfterMs: 0, final: 'completed', output: [] });
    await assert.rejects(waitForBatch(client, '', { timeoutMs: 1 }), /^TypeError: waitForBatch: id must be a non-empty batch id, got ""$/);
    await assert.rejects(waitForBatch(client, 'b', { timeoutMs: 1, throwOnFailure: false } as never), /^TypeError: waitForBatch: options\.throwOnFailure was renamed to options\.failure \(0\.2\.0\)$/);
    await assert.rejects(waitForBatch(client, 'b', { timeoutMs: 1, failure: false } as never), /^TypeError: waitForBatch: options\.failure must be one of "throw", "return", got false$/);
    await assert.rejects(waitForBatch(client, 'b', { timeoutMs: 1, onAbort: 'cancel' } as never), /^TypeError: waitForBatch: options\.onAbort was renamed to options\.abort/);
  });
});

describe('waitForBatch against the mock (openai SDK, manual clock)', () => {
  test('each line of a real batch reported with its catalog code; an expired batch keeps its partial lines', async () => {
    const { default: OpenAI, toFile } = await import('openai');
    const { createManualClock, createMock } = await import('../../src/mock/index.ts');
    for (const expired of [false, true]) {
      const mock = createMock({
        clock: createManualClock(),
        batch: { validatingMs: 100, runMs: 3_600_000 },
        scenario: [
          { match: { batch: true, nth: 2 }, fault: { type: 'http', preset: 'rate_limit_requests' } },
          { match: { batch: true, nth: 3 }, fault: { type: 'http', preset: 'context_length_exceeded' } },
          ...(expired ? [{ match: { path: '/v1/batches', method: 'POST' }, fault: { type: 'batch' as const, status: 'expired' as const } }] : []),
        ],
      });
      const client = new OpenAI({ apiKey: 'sk-test-mock-00000000', baseURL: 'http://mock.local/v1', fetch: mock.fetch, maxRetries: 0 });
      const jsonl = [1, 2, 3, 4].map((i) => JSON.stringify({ custom_id: `r${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } })).join('\n');
      const file = await client.files.create({ file: await toFile(Buffer.from(jsonl), 'in.jsonl'), purpose: 'batch' });
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      let settled = false;
      const p = waitForBatch(client, batch.id, { timeoutMs: 86_400_000, clock: mock.clock, failure: 'return' });
      void p.finally(() => (settled = true)).catch(() => {});
      for (let i = 0; i < 10_000 && !settled; i++) await mock.advance(60_000);
      const report = await p;
      if (!expired) {
        assert.equal(report.status, 'completed');
        assert.deepEqual(
          report.lines.map((l) => [l.customId, l.code ?? 'ok']).sort(),
          [['r1', 'ok'], ['r2', 'rate_limit_exceeded'], ['r3', 'context_length_exceeded'], ['r4', 'ok']],
        );
        assert.equal(report.error, undefined);
      } else {
        assert.equal(report.status, 'expired');
        assert.ok(report.error instanceof ExpiredError, String(report.error));
      }
      await mock.close();
    }
  });
});
