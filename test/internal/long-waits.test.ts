/**
 * Waits longer than a timer can hold (2³¹−1 ms ≈ 24.8 days), through the real default clock, with
 * node:test `mock.timers` standing in for setTimeout (it keeps Node's rule: a longer delay fires after
 * 1 ms). No wall-clock sleep: simulated time is ticked.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAndWait, createFetch, waitForResponse } from '../../src/index.ts';
import { createMock } from '../../src/mock/index.ts';

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

test('waitForResponse with openai-poll-after-ms: 1e12 polls once and sleeps, instead of polling every millisecond', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_767_225_600_000 });
  let polls = 0;
  const queued = { id: 'resp_slow', object: 'response', status: 'queued', created_at: Math.floor(Date.now() / 1000) };
  const client = {
    responses: {
      retrieve: (_id: string) => {
        polls++;
        const p = Promise.resolve(queued);
        return Object.assign(p, { withResponse: async () => ({ data: queued, response: { headers: new Headers({ 'openai-poll-after-ms': '1000000000000' }) } }) });
      },
      cancel: async () => queued,
    },
  };
  const ctl = new AbortController();
  const wait = waitForResponse(client as never, 'resp_slow', { timeoutMs: 30 * DAY, signal: ctl.signal, stream: false });
  wait.catch(() => {});
  for (let ms = 0; ms < 3000; ms++) {
    t.mock.timers.tick(1);
    await flush(2);
  }
  assert.equal(polls, 1, `made ${polls} polls in 3 simulated seconds`);
  ctl.abort();
  await assert.rejects(wait, /detached/);
});

test('createFetch told to honour retry-after-ms: 1e12 (no caps) waits, instead of resending every millisecond', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_767_225_600_000 });
  for (const pacing of [true, false]) {
    let calls = 0;
    const fetch = async () => {
      calls++;
      return new Response(JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } }), {
        status: 429,
        headers: { 'content-type': 'application/json', 'retry-after-ms': '1000000000000' },
      });
    };
    const ctl = new AbortController();
    const f = createFetch({ fetch, pacing, maxRetryAfterMs: Infinity, maxRetryTimeMs: Infinity, signal: ctl.signal });
    const res = f('https://api.openai.com/v1/responses', { method: 'POST', body: JSON.stringify({ model: 'gpt-x', input: 'hi' }) });
    res.catch(() => {});
    for (let ms = 0; ms < 3000; ms++) {
      t.mock.timers.tick(1);
      await flush(2);
    }
    assert.equal(calls, 1, `pacing ${pacing}: sent ${calls} requests in 3 simulated seconds`);
    ctl.abort();
    await assert.rejects(res);
  }
});

test("the mock's injected delay of 2³¹ ms + 1 s does not answer after 1 ms (its real clock re-arms)", async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const mock = createMock({ scenario: [{ fault: { type: 'delay', ms: 2 ** 31 + 1000 } }] });
  const ctl = new AbortController();
  let answered = false;
  const res = mock.fetch('http://mock.test/v1/responses', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${['sk', 'test', 'mock'].join('-')}` }, body: JSON.stringify({ model: 'gpt-4o-mini', input: 'hi' }), signal: ctl.signal });
  res.then(() => void (answered = true), () => {});
  for (let ms = 0; ms < 100; ms++) {
    t.mock.timers.tick(1);
    await flush(2);
  }
  assert.equal(answered, false, 'answered at once: the delay overflowed');
  ctl.abort();
  await assert.rejects(res);
  await mock.close();
});
