/**
 * A stream that sends keep-alive comments forever (`: ping`, no events) is bounded: by the idle timeout
 * (`streamIdleTimeoutMs`: dropped, resumed, then polled) and by the deadline. On the virtual clock with a
 * scripted client, and against an independent loopback server that only sends SSE comments.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { setImmediate as tick } from 'node:timers/promises';
import OpenAI from 'openai';
import { APIUserAbortError } from 'openai';
import { waitForResponse } from '../../src/background/wait.ts';
import { TimeoutError } from '../../src/core/errors.ts';
import { json, serveLoopback } from './loopback.ts';
import { createManualClock } from '../../src/mock/index.ts';

const snapshot = (status: string) => ({ id: 'resp_idle', object: 'response', created_at: 1_700_000_000, status, output: [], error: null, incomplete_details: null });

/** A client whose streams never send an event (they end only when aborted); polls complete on the 2nd. */
function silentStreams() {
  const calls = { stream: 0, poll: 0 };
  const client = {
    responses: {
      retrieve: async (_id: string, query?: Record<string, unknown>, opts?: { signal?: AbortSignal }) => {
        if (query?.['stream'] === true) {
          calls.stream++;
          return (async function* () {
            await new Promise<void>((resolve) => opts?.signal?.addEventListener('abort', () => resolve(), { once: true }));
            yield* [];
            throw new APIUserAbortError();
          })();
        }
        calls.poll++;
        return snapshot(calls.poll >= 2 ? 'completed' : 'in_progress');
      },
      cancel: async () => snapshot('cancelled'),
      create: async () => snapshot('queued'),
    },
  };
  return { client, calls };
}

describe('a stream of keep-alives only', () => {
  test('the idle timeout drops it; it is resumed maxReconnects times, then polled', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const { client, calls } = silentStreams();
    const t0 = clock.now();
    const res = await clock.run(waitForResponse(client, { v: 1, id: 'resp_idle', stream: true }, { timeoutMs: 3_600_000, streamIdleTimeoutMs: 30_000, maxReconnects: 2, clock, random: () => 0 }));
    assert.equal(res.status, 'completed');
    assert.equal(calls.stream, 3, 'the first attempt and two resumes');
    assert.equal(calls.poll, 2);
    // Three idle periods of 30 s, one backoff before the second resume (1 s × equal jitter at random 0 = 0.5 s), one poll delay.
    assert.ok(clock.now() - t0 >= 90_000 && clock.now() - t0 < 100_000, `took ${clock.now() - t0} ms`);
  });

  test('the default idle timeout is 120 s', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const { client, calls } = silentStreams();
    const t0 = clock.now();
    await clock.run(waitForResponse(client, { v: 1, id: 'resp_idle', stream: true }, { timeoutMs: 3_600_000, maxReconnects: 0, clock, random: () => 0 }));
    assert.equal(calls.stream, 1);
    // Cut after 120 s of silence, then one poll (in_progress) and a poll delay of a tenth of the job's age.
    assert.ok(clock.sleeps.includes(120_000), `sleeps ${clock.sleeps.join(', ')}`);
    assert.equal(clock.now() - t0, 120_000 + 0.1 * 120_000);
  });

  test('the deadline bounds it when it comes first', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const { client, calls } = silentStreams();
    const t0 = clock.now();
    const err = await clock.run(waitForResponse(client, { v: 1, id: 'resp_idle', stream: true }, { timeoutMs: 45_000, streamIdleTimeoutMs: 600_000, clock })).catch((e: unknown) => e);
    assert.ok(err instanceof TimeoutError, String(err));
    assert.equal(clock.now() - t0, 45_000);
    assert.equal(calls.stream, 1);
  });

  test('misuse', async () => {
    const { client } = silentStreams();
    for (const bad of [0, -1, Number.NaN, Infinity, '5']) {
      await assert.rejects(
        waitForResponse(client, 'resp_idle', { timeoutMs: 1000, streamIdleTimeoutMs: bad as never }),
        // A number out of range is a RangeError, anything else (NaN, a string) a TypeError.
        (e: unknown) => (typeof bad === 'number' && !Number.isNaN(bad) ? e instanceof RangeError : e instanceof TypeError) && /^waitForResponse: options\.streamIdleTimeoutMs must be a number of milliseconds > 0, got /.test((e as Error).message),
      );
    }
  });

  test('against a loopback server that sends only `: ping` comments: dropped on idle, then polled (bounded)', async () => {
    let polls = 0;
    const held = new Set<ServerResponse>();
    let pingsWritten = 0;
    const server = await serveLoopback((req, res) => {
      if (req.url.startsWith('/v1/responses/resp_idle') && req.url.includes('stream=true')) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        for (let i = 0; i < 3; i++) res.write(': ping\n\n');
        held.add(res);
        res.on('close', () => held.delete(res));
        pingsWritten++;
        return;
      }
      if (req.url.startsWith('/v1/responses/resp_idle')) {
        polls++;
        return json(res, 200, snapshot(polls >= 2 ? 'completed' : 'in_progress'));
      }
      json(res, 404, { error: { message: 'nope', type: 'invalid_request_error', code: null, param: null } });
    });
    try {
      const clock = createManualClock(1_700_000_000_000);
      const client = new OpenAI({ apiKey: 'sk-test-not-a-real-key-000000', baseURL: server.url, maxRetries: 0 });
      let settled = false;
      const p = waitForResponse(client, { v: 1, id: 'resp_idle', stream: true }, { timeoutMs: 3_600_000, streamIdleTimeoutMs: 20_000, maxReconnects: 1, clock, random: () => 0 }).finally(() => (settled = true));
      p.catch(() => {});
      // Fire a virtual timer only once every open stream has had its pings written and read, and no
      // other request is on the wire. Bounded in turns.
      let quiet = 0;
      for (let turn = 0; turn < 100_000 && !settled; turn++) {
        await tick();
        const answeredAll = server.requests.length === pingsWritten + polls;
        if (!answeredAll) {
          quiet = 0;
          continue;
        }
        if (++quiet < 50) continue;
        quiet = 0;
        clock.wakeNext();
      }
      const res = await p;
      assert.equal(res.status, 'completed');
      assert.equal(pingsWritten, 2, 'the first stream and one resume');
      assert.equal(polls, 2);
      assert.equal(held.size, 0, 'both idle streams were closed by the client');
    } finally {
      await server.close();
    }
  });
});
