/**
 * A programmer error is never retried: a `TypeError` thrown by the caller's own code (a bad option, a
 * bad URL, a wrapper that validates its config) is not a failure of the wire, so retry() and
 * createFetch throw it at once, after one attempt, with the original on `cause` — while a real cut
 * connection from a loopback server is retried, to show the retry loop is live.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { classify } from '../../src/core/classify/index.ts';
import { UnknownFailureError } from '../../src/core/errors.ts';
import { createFetch, retry } from '../../src/retry/index.ts';
import { createManualClock } from '../../src/mock/index.ts';

const USER_ERRORS: ReadonlyArray<readonly [string, () => Error]> = [
  ['TypeError("bad timeout value in config")', () => new TypeError('bad timeout value in config')],
  ['Error("network error handler not registered")', () => new Error('network error handler not registered')],
  ['RangeError("request timeout must be positive")', () => new RangeError('request timeout must be positive')],
];

/** A loopback server that counts requests; `cut` destroys every socket before answering. */
async function loopback(cut: boolean): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    n++;
    if (cut) req.socket.destroy();
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/responses`,
    count: () => n,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('programmer errors are never retried', () => {
  for (const [name, make] of USER_ERRORS) {
    test(`classify: ${name} is unknown, not a transport failure`, () => {
      const f = classify(make());
      assert.equal(f.code, 'unknown');
      assert.equal(f.retryable, false);
    });

    test(`retry(): ${name} is thrown after one attempt`, async () => {
      const clock = createManualClock({ autoAdvance: true });
      let attempts = 0;
      const original = make();
      await assert.rejects(
        retry(
          async () => {
            attempts++;
            throw original;
          },
          { retries: 4, clock },
        ),
        (e: unknown) => e instanceof UnknownFailureError && e.cause === original,
      );
      assert.equal(attempts, 1);
      assert.deepEqual(clock.sleeps, []);
    });
  }

  test('createFetch: a TypeError from the wrapped fetch is thrown after one call; the server sees nothing', async () => {
    const server = await loopback(false);
    try {
      const clock = createManualClock({ autoAdvance: true });
      let calls = 0;
      const original = new TypeError('bad timeout value in config');
      // The caller's own fetch wrapper, which validates its config before any I/O.
      const wrapped = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
        calls++;
        if ((init?.headers as Record<string, string> | undefined)?.['x-timeout'] === 'soon') throw original;
        return fetch(input, init);
      };
      const f = createFetch({ fetch: wrapped, clock, pacing: false });
      await assert.rejects(f(server.url, { method: 'POST', headers: { 'x-timeout': 'soon' }, body: '{}' }), (e: unknown) => e === original || (e instanceof Error && e.cause === original));
      assert.equal(calls, 1);
      assert.equal(server.count(), 0);
      assert.deepEqual(clock.sleeps, []);
    } finally {
      await server.close();
    }
  });

  test('createFetch: a URL Node cannot parse (ERR_INVALID_URL under "TypeError") is not retried', async () => {
    const clock = createManualClock({ autoAdvance: true });
    let calls = 0;
    const counting = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      calls++;
      return fetch(input, init);
    };
    const f = createFetch({ fetch: counting, clock, pacing: false });
    await assert.rejects(f('http://[not a host/v1/responses', { method: 'POST', body: '{}' }), (e: unknown) => e instanceof UnknownFailureError && e.cause instanceof TypeError);
    assert.equal(calls, 1);
  });

  test('contrast: a connection the loopback server cuts is retried', async () => {
    const server = await loopback(true);
    try {
      const clock = createManualClock({ autoAdvance: true });
      const f = createFetch({ clock, pacing: false, retries: 2, random: () => 0 });
      await assert.rejects(f(server.url, { method: 'POST', body: '{}' }));
      assert.equal(server.count(), 3, 'one attempt and two retries reached the server');
    } finally {
      await server.close();
    }
  });
});
