/**
 * A server that does not stream: some OpenAI-compatible servers and proxies answer a `stream: true`
 * create (and a `stream=true` retrieve) with a plain `application/json` Response. createAndWait must take
 * the id and the snapshot from that body and go on by polling: never an "orphan", never a second create.
 * The server is an independent node:http loopback server; the clients are the real SDK majors.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import OpenAI4 from 'openai-v4';
import OpenAI5 from 'openai-v5';
import OpenAI6 from 'openai-v6';
import OpenAI7 from 'openai-v7';
import { createAndWait, waitForResponse } from '../../src/background/wait.ts';
import { FaultlineError, UnknownFailureError } from '../../src/core/errors.ts';
import { openJournal, type JobOutcome } from '../../src/journal/index.ts';
import { driveIO, json, serveLoopback, type Loopback } from './loopback.ts';
import { createManualClock } from '../../src/mock/index.ts';

/** A fake key, built at run time (no key-shaped literal in the source). */
const API_KEY = ['sk', 'test', 'not', 'a', 'real', 'key', '000000'].join('-');

const SDKS = { openai: OpenAI, v4: OpenAI4, v5: OpenAI5, v6: OpenAI6, v7: OpenAI7 } as const;
const dir = mkdtempSync(join(tmpdir(), 'faultline-nostream-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Answers every request with JSON, whatever `stream` says; the job completes on its third poll. */
async function jsonOnlyServer(): Promise<Loopback & { polls: () => number }> {
  let polls = 0;
  let metadata: unknown = {};
  const response = (status: string) => ({
    id: 'resp_plain_json',
    object: 'response',
    created_at: 1_700_000_000,
    status,
    background: true,
    model: 'gpt-4o-mini',
    metadata,
    error: null,
    incomplete_details: null,
    output:
      status === 'completed'
        ? [{ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hello from a plain JSON server', annotations: [] }] }]
        : [],
  });
  const server = await serveLoopback((req, res) => {
    if (req.method === 'POST' && req.url === '/v1/responses') {
      metadata = (req.body as { metadata?: unknown }).metadata ?? {};
      return json(res, 200, response('queued'));
    }
    if (req.method === 'GET' && req.url.startsWith('/v1/responses/resp_plain_json')) {
      polls++;
      return json(res, 200, response(polls >= 3 ? 'completed' : 'in_progress'));
    }
    json(res, 404, { error: { message: 'not found', type: 'invalid_request_error', code: null, param: null } });
  });
  return Object.assign(server, { polls: () => polls });
}

describe('a server that answers stream: true with plain JSON', () => {
  for (const [name, Sdk] of Object.entries(SDKS)) {
    test(`${name}: createAndWait takes the id from the body and polls to the result (one create)`, async () => {
      const server = await jsonOnlyServer();
      try {
        const clock = createManualClock(1_700_000_000_000);
        const client = new Sdk({ apiKey: API_KEY, baseURL: server.url, fetch: server.fetch as never, maxRetries: 0 });
        const outcomes: JobOutcome[] = [];
        const journal = openJournal(join(dir, `${name}.db`), { clock, onResult: (o) => void outcomes.push(o) });
        const ids: string[] = [];
        const res = await driveIO(
          clock,
          server,
          createAndWait(client as never, { model: 'gpt-4o-mini', input: 'hi' }, { timeoutMs: 600_000, clock, random: () => 0, journal, jobKey: 'plain', onProgress: (p) => ids.push(p.id) }),
        );
        assert.equal(res.id, 'resp_plain_json');
        assert.equal(res.status, 'completed');
        const posts = server.requests.filter((r) => r.method === 'POST');
        assert.equal(posts.length, 1, 'one create');
        assert.equal((posts[0]?.body as { stream?: unknown }).stream, true, 'asked for a stream');
        assert.equal(server.polls(), 3);
        assert.ok(ids.every((id) => id === 'resp_plain_json') && ids.length >= 1);
        const row = await journal.get('plain');
        assert.equal(row?.objectId, 'resp_plain_json');
        assert.equal(row?.state, 'delivered');
        assert.equal(outcomes.length, 1);
        assert.equal(outcomes[0]?.ok, true);
        await journal.close();
      } finally {
        await server.close();
      }
    });
  }

  test('stream: true on a resumed wait: a JSON answer to a stream retrieve is a snapshot, then polling', async () => {
    const server = await jsonOnlyServer();
    try {
      const clock = createManualClock(1_700_000_000_000);
      const client = new OpenAI({ apiKey: API_KEY, baseURL: server.url, fetch: server.fetch, maxRetries: 0 });
      const res = await driveIO(clock, server, waitForResponse(client, 'resp_plain_json', { timeoutMs: 600_000, stream: true, clock, random: () => 0 }));
      assert.equal(res.status, 'completed');
      const streamed = server.requests.filter((r) => r.url.includes('stream=true'));
      assert.equal(streamed.length, 1, 'one stream attempt, then polls');
      assert.equal(server.polls(), 3);
    } finally {
      await server.close();
    }
  });

  test('a plain body that is not a Response is a classified failure with the raw value kept; the row stays an orphan', async () => {
    const bodies: [string, string, (e: unknown) => boolean][] = [
      ['application/json', JSON.stringify({ error: { message: 'The server had an error', type: 'server_error', code: null } }), (e) => FaultlineError.isInstance(e) && e.code === 'server_error'],
      ['text/plain', 'OK', (e) => e instanceof UnknownFailureError && (e as { response?: unknown }).response === 'OK'],
    ];
    for (const [type, text, check] of bodies) {
      const server = await serveLoopback((_req, res) => {
        res.writeHead(200, { 'content-type': type });
        res.end(text);
      });
      try {
        const clock = createManualClock(1_700_000_000_000);
        const client = new OpenAI({ apiKey: API_KEY, baseURL: server.url, fetch: server.fetch, maxRetries: 0 });
        const journal = openJournal(join(dir, `bad-${type.replace('/', '-')}.db`), { clock, onResult: () => {} });
        const err = await driveIO(clock, server, createAndWait(client, { model: 'gpt-4o-mini', input: 'hi' }, { timeoutMs: 60_000, clock, journal, jobKey: 'bad' })).catch((e: unknown) => e);
        assert.ok(check(err), `${type}: ${String(err)}`);
        const row = await journal.get('bad');
        assert.equal(row?.state, 'creating');
        assert.equal(row?.leaseOwner, undefined);
        assert.equal(server.requests.length, 1);
        await journal.close();
      } finally {
        await server.close();
      }
    }
  });

  test('a proxy that ignores both stream and background (answers the finished Response at once): settled with no poll', async () => {
    const done = { id: 'resp_sync', object: 'response', created_at: 1_700_000_000, status: 'completed', error: null, incomplete_details: null, output: [{ type: 'message', content: [{ type: 'output_text', text: 'at once' }] }] };
    const server = await serveLoopback((_req, res) => json(res, 200, done));
    try {
      const clock = createManualClock(1_700_000_000_000);
      const client = new OpenAI({ apiKey: API_KEY, baseURL: server.url, fetch: server.fetch, maxRetries: 0 });
      const res = await driveIO(clock, server, createAndWait(client, { model: 'gpt-4o-mini', input: 'hi' }, { timeoutMs: 60_000, clock }));
      assert.equal(res.id, 'resp_sync');
      assert.equal((res as { output_text?: string }).output_text, 'at once');
      assert.equal(server.requests.length, 1);
    } finally {
      await server.close();
    }
  });
});
