/**
 * Waits longer than a timer can hold (2³¹−1 ms ≈ 24.8 days), through the real default clock, with
 * node:test `mock.timers` standing in for setTimeout (it keeps Node's rule: a longer delay fires after
 * 1 ms). No wall-clock sleep: simulated time is ticked.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAndWait } from '../../src/index.ts';

const DAY = 86_400_000;

/** A job that stays queued: every stream (the create's and each resume) names it, then stays open until aborted. */
function neverEndingJob() {
  const counts = { create: 0, stream: 0, poll: 0 };
  const events = (signal: AbortSignal | undefined) =>
    (async function* () {
      yield { type: 'response.created', sequence_number: 0, response: { id: 'resp_long', object: 'response', status: 'queued', created_at: Math.floor(Date.now() / 1000) } };
      await new Promise<void>((resolve) => (signal?.aborted === true ? resolve() : signal?.addEventListener('abort', () => resolve(), { once: true })));
      throw new DOMException('This operation was aborted', 'AbortError');
    })();
  const client = {
    responses: {
      create: async (_body: unknown, opts?: { signal?: AbortSignal }) => {
        counts.create++;
        return events(opts?.signal);
      },
      retrieve: async (_id: string, query?: { stream?: boolean }, opts?: { signal?: AbortSignal }) => {
        if (query?.stream === true) {
          counts.stream++;
          return events(opts?.signal);
        }
        counts.poll++;
        return { id: 'resp_long', object: 'response', status: 'queued' };
      },
      cancel: async () => ({ id: 'resp_long', object: 'response', status: 'cancelled' }),
    },
  };
  return { client, counts };
}

const flush = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};

test('createAndWait with a 25-day deadline keeps one stream open instead of reopening it every millisecond', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_767_225_600_000 });
  const { client, counts } = neverEndingJob();
  const ctl = new AbortController();
  const wait = createAndWait(client as never, { model: 'gpt-x', input: 'hi' }, { timeoutMs: 25 * DAY, signal: ctl.signal });
  wait.catch(() => {});
  // Three simulated seconds, one millisecond at a time (the report saw 2,148 stream requests in 3 s).
  for (let ms = 0; ms < 3000; ms++) {
    t.mock.timers.tick(1);
    await flush(2);
  }
  await flush();
  assert.equal(counts.create, 1);
  assert.ok(counts.stream + counts.poll <= 1, `made ${counts.stream} stream and ${counts.poll} poll requests in 3 simulated seconds`);
  ctl.abort();
  await assert.rejects(wait, /detached/);
});
