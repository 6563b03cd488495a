/**
 * The caller's AbortSignal: the mock's fetch rejects as a real fetch does (with the signal's reason), and
 * `listen()`'s server only sees the socket close. Each case is checked against a real `fetch` talking to
 * a loopback server written here from node:http, so the mock is held to fetch's behaviour, not to itself.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createManualClock, createMock, listen, type ManualClock } from '../../src/mock/index.ts';

const HEADERS = { authorization: 'Bearer sk-test', 'content-type': 'application/json' };
const BODY = JSON.stringify({ model: 'gpt-4o-mini', input: 'hi' });

/** The reasons a caller may abort with: none (fetch's AbortError), an Error, and any other value. */
const REASONS: ReadonlyArray<{ name: string; reason: unknown }> = [
  { name: 'no reason', reason: undefined },
  { name: 'an Error', reason: new Error('caller gave up') },
  { name: 'a string', reason: 'stop' },
];

/** Checks that `err` is what fetch rejects with for `reason`: the reason itself, or an AbortError DOMException. */
function assertAbortedWith(err: unknown, reason: unknown, what: string): void {
  if (reason === undefined) {
    assert.ok(err instanceof DOMException && err.name === 'AbortError', `${what}: ${String(err)}`);
  } else assert.equal(err, reason, what);
}

async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** Resolves once the manual clock holds `n` sleepers (the request is inside its delay); bounded in turns. */
async function untilSleeping(clock: ManualClock, n = 1): Promise<void> {
  for (let i = 0; i < 10_000 && clock.pending < n; i++) await new Promise((r) => setImmediate(r));
  assert.equal(clock.pending, n, 'the request reached its delay');
}

/** A loopback server that never answers (`hold`) or sends one chunk of a body and then waits (`chunk`). */
async function loopback(mode: 'hold' | 'chunk'): Promise<{ url: string; server: Server; closed: Promise<void> }> {
  let sawClose!: () => void;
  const closed = new Promise<void>((r) => (sawClose = r));
  const server = createServer((req, res) => {
    req.resume();
    res.on('close', () => sawClose());
    if (mode === 'chunk') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {}\n\n');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, server, closed };
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

describe('an abort during a delay fault', () => {
  for (const { name, reason } of REASONS) {
    test(`with ${name}: a real fetch and the mock's fetch both reject with it`, async () => {
      const real = await loopback('hold');
      try {
        const ac = new AbortController();
        const p = fetch(`${real.url}/responses`, { method: 'POST', headers: HEADERS, body: BODY, signal: ac.signal });
        await new Promise((r) => real.server.once('request', r));
        ac.abort(reason);
        assertAbortedWith(await rejectionOf(p), reason, 'real fetch');
      } finally {
        await stop(real.server);
      }

      const clock = createManualClock();
      const mock = createMock({ clock, scenario: [{ match: { path: '/v1/responses' }, fault: { type: 'delay', ms: 60_000 } }] });
      try {
        const ac = new AbortController();
        const p = mock.fetch('http://mock/v1/responses', { method: 'POST', headers: HEADERS, body: BODY, signal: ac.signal });
        await untilSleeping(clock);
        ac.abort(reason);
        assertAbortedWith(await rejectionOf(p), reason, 'mock fetch');
        // It settled without the clock moving: nothing answered 500 after the delay.
        assert.equal(clock.pending, 0, 'the delay was ended');
        await new Promise((r) => setImmediate(r));
        assert.equal(mock.log.length, 1);
        assert.equal(mock.log[0]!.kind === 'request' && mock.log[0]!.status, null, 'logged as an attempt with no status');
      } finally {
        await mock.close();
      }
    });
  }

  test('a signal aborted before the call rejects at once and never reaches the mock (as fetch never sends)', async () => {
    const reason = new Error('already');
    const ac = new AbortController();
    ac.abort(reason);
    await assert.rejects(fetch('http://127.0.0.1:9/v1/models', { signal: ac.signal }), (e: unknown) => e === reason);
    const mock = createMock({});
    try {
      await assert.rejects(mock.fetch('http://mock/v1/responses', { method: 'POST', headers: HEADERS, body: BODY, signal: ac.signal }), (e: unknown) => e === reason);
      assert.equal(mock.log.length, 0);
    } finally {
      await mock.close();
    }
  });

  test("listen(): a real fetch rejects with the reason, the server sees the socket close and keeps serving", async () => {
    const clock = createManualClock();
    const server = await listen({ mock: { clock, scenario: [{ match: { path: '/v1/responses', nth: 1 }, fault: { type: 'delay', ms: 60_000 } }] } });
    try {
      const reason = new Error('caller gave up');
      const ac = new AbortController();
      const p = fetch(`${server.url}/responses`, { method: 'POST', headers: HEADERS, body: BODY, signal: ac.signal });
      await untilSleeping(clock);
      ac.abort(reason);
      assert.equal(await rejectionOf(p), reason);
      for (let i = 0; i < 10_000 && server.mock.log.length === 0; i++) await new Promise((r) => setImmediate(r));
      const entry = server.mock.log[0]!;
      assert.ok(entry.kind === 'request' && entry.status === null && entry.outcome === 'fault', JSON.stringify(entry));
      assert.equal(clock.pending, 0, 'the delay ended with the connection');
      const next = await fetch(`${server.url}/responses`, { method: 'POST', headers: HEADERS, body: BODY });
      assert.equal(next.status, 200);
      await next.text();
    } finally {
      await server.close();
    }
  });
});

describe('an abort while a streamed body is read', () => {
  for (const { name, reason } of REASONS) {
    test(`with ${name}: the body errors with it, for a real fetch and the mock's fetch`, async () => {
      const real = await loopback('chunk');
      try {
        const ac = new AbortController();
        const res = await fetch(`${real.url}/responses`, { method: 'POST', headers: HEADERS, body: BODY, signal: ac.signal });
        const reader = res.body!.getReader();
        assert.equal((await reader.read()).done, false);
        ac.abort(reason);
        assertAbortedWith(await rejectionOf(reader.read()), reason, 'real fetch body');
        await real.closed;
      } finally {
        await stop(real.server);
      }

      const clock = createManualClock();
      const mock = createMock({ clock, streamDelayMs: 1000 });
      try {
        const ac = new AbortController();
        const res = await mock.fetch('http://mock/v1/chat/completions', {
          method: 'POST',
          headers: HEADERS,
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true }),
          signal: ac.signal,
        });
        assert.equal(res.status, 200);
        const reader = res.body!.getReader();
        assert.equal((await reader.read()).done, false);
        ac.abort(reason);
        assertAbortedWith(await rejectionOf(reader.read()), reason, 'mock fetch body');
        await new Promise((r) => setImmediate(r));
        assert.equal(clock.pending, 0, 'the stream stopped waiting');
      } finally {
        await mock.close();
      }
    });
  }
});
