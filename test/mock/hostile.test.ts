/**
 * The mock under hostile input (issue 10, "misuse that fails late"): scenario headers it could never
 * send, request bodies without end, log files it cannot write. The node adapter is driven over real
 * loopback sockets by raw node:net clients, so a request can be exactly as malformed as a test needs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classify } from '../../src/core/classify/index.ts';
import { createMock, listen, parseScenario } from '../../src/mock/index.ts';
import { replyToResponse } from '../../src/mock/http.ts';
import { runMockCommand } from '../../src/mock/cli.ts';
import { RequestTooLargeError, toError } from '../../src/core/errors.ts';
import { MAJORS, rejection } from './helpers.ts';

/** A parsed HTTP/1.1 answer read off a raw socket. */
interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Writes `parts` to 127.0.0.1:`port` one after the other, then reads one answer (headers and a
 * content-length body) without ever finishing the request itself unless `parts` does. Bounded: fails
 * after 5 s.
 */
function raw(port: number, parts: ReadonlyArray<string | Buffer>): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer within 5 s'));
    }, 5000);
    let got = Buffer.alloc(0);
    const finish = (fn: () => void): void => {
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    socket.on('error', (err) => finish(() => reject(err)));
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine, ...lines] = got.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length'] ?? 0);
      if (got.length - end - 4 < length) return;
      const body = got.subarray(end + 4, end + 4 + length).toString('utf8');
      finish(() => resolve({ status: Number(statusLine!.split(' ')[1]), headers, body }));
    });
    socket.on('connect', () => {
      for (const part of parts) socket.write(part);
    });
  });
}

const post = (path: string, extra: string): string =>
  `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer sk-hostile\r\ncontent-type: application/json\r\n${extra}\r\n`;
const CHAT = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

/** What classify() makes of a raw answer, as the SDK would see it. */
function codeOf(a: RawAnswer): string {
  let body: unknown = a.body;
  try {
    body = JSON.parse(a.body);
  } catch {
    // an HTML page stays text
  }
  return classify({ status: a.status, headers: a.headers, body }).code;
}

describe('scenario headers are checked at load, naming the field', () => {
  const withHeaders = (headers: unknown): unknown => ({ rules: [{ fault: { type: 'http', status: 500, headers } }] });

  test('a name that is not an RFC 9110 token, a value with CR, LF, NUL or a character no HTTP/1.1 field may hold', () => {
    for (const [headers, field] of [
      [{ 'x bad': 'v' }, 'headers["x bad"]'],
      [{ '': 'v' }, 'headers[""]'],
      [{ 'x-a:b': 'v' }, 'headers["x-a:b"]'],
      [{ 'x-é': 'v' }, 'headers["x-é"]'],
      [{ 'x-split': 'a\r\nset-cookie: owned=1' }, 'headers["x-split"]'],
      [{ 'x-lf': 'a\nb' }, 'headers["x-lf"]'],
      [{ 'x-nul': 'a\u0000b' }, 'headers["x-nul"]'],
      [{ 'x-wide': 'snowman \u2603' }, 'headers["x-wide"]'],
      [{ 'x-num': 5 }, 'headers["x-num"]'],
    ] as const) {
      assert.throws(
        () => parseScenario(withHeaders(headers)),
        (e: unknown) => e instanceof TypeError && e.message.startsWith(`scenario.rules[0].fault.${field}`),
        JSON.stringify(headers),
      );
    }
    assert.throws(() => parseScenario(withHeaders(['x'])), /scenario\.rules\[0\]\.fault\.headers: must be an object/);
    assert.throws(() => createMock({ scenario: withHeaders({ 'x bad': 'v' }) as never }), TypeError);
  });

  test('ordinary names and values, tabs and Latin-1 included, still load', () => {
    assert.doesNotThrow(() => parseScenario(withHeaders({ 'retry-after': '3', "x-odd!#$%&'*+.^_`|~": 'a\tb é' })));
  });

  test('faultline mock refuses such a scenario with exit 2 and the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-hostile-'));
    try {
      const file = join(dir, 's.json');
      await (await import('node:fs/promises')).writeFile(file, JSON.stringify(withHeaders({ 'x-split': 'a\r\nb' })));
      let err = '';
      const code = await runMockCommand(['--scenario', file], { stdout: { write: () => true }, stderr: { write: (c: string) => (err += c) } });
      assert.equal(code, 2);
      assert.match(err, /scenario\.rules\[0\]\.fault\.headers\["x-split"\]/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a header the mock cannot send answers 500, the process lives on', () => {
  test('node adapter: `trailer` on a sized body (node refuses it) → 500 with a classified body, then business as usual', async () => {
    const server = await listen({ mock: { scenario: [{ match: { nth: 1 }, fault: { type: 'http', status: 429, headers: { trailer: 'x-late' } } }] } });
    try {
      const first = await raw(server.port, [post('/v1/chat/completions', `content-length: ${Buffer.byteLength(CHAT)}\r\n`), CHAT]);
      assert.equal(first.status, 500);
      assert.equal(codeOf(first), 'server_error');
      assert.match(first.body, /could not send/);
      const second = await raw(server.port, [post('/v1/chat/completions', `content-length: ${Buffer.byteLength(CHAT)}\r\n`), CHAT]);
      assert.equal(second.status, 200);
    } finally {
      await server.close();
    }
  });

  test('fetch adapter: a reply whose headers a Response cannot hold becomes the same 500', async () => {
    const res = replyToResponse({ status: 200, headers: { 'x-wide': '\u2603' }, body: '{}' });
    assert.equal(res.status, 500);
    assert.equal(classify({ status: res.status, body: await res.json() }).code, 'server_error');
  });
});

describe('hostile requests get an answer, never a crash', () => {
  test('malformed escapes, bad framing, absolute URLs, odd bodies: each answered, the server serves on', async () => {
    const server = await listen({ mock: { azure: true, maxBodyBytes: 1024 } });
    const auth = 'authorization: Bearer sk-hostile\r\n';
    try {
      for (const request of [
        `GET /openai/deployments/%zz/chat/completions HTTP/1.1\r\nhost: x\r\n${auth}\r\n`,
        `GET http://elsewhere/v1/models HTTP/1.1\r\nhost: x\r\n${auth}\r\n`,
        `GET /v1/models?%zz=%zz HTTP/1.1\r\nhost: x\r\n${auth}\r\n`,
        `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n${auth}transfer-encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`,
        `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n${auth}content-length: 5\r\ncontent-length: 6\r\n\r\nhello`,
        `POST /v1/responses HTTP/1.0\r\n${auth}content-length: 9\r\n\r\n{"a":[[[[`,
        `POST /v1/files HTTP/1.1\r\nhost: x\r\n${auth}content-type: multipart/form-data; boundary=zz\r\ncontent-length: 20\r\n\r\n--zz\r\nbroken\r\n--zz--`,
        `DELETE /v1/responses/%00 HTTP/1.1\r\nhost: x\r\n${auth}\r\n`,
        `POST /v1/batches HTTP/1.1\r\nhost: x\r\n${auth}content-length: 31\r\n\r\n{"input_file_id":{"x":1},"a":1}`,
        `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n${auth}content-length: 59\r\n\r\n{"model":{"toString":1},"messages":"x","max_tokens":-1e308}`,
        `GET /v1/responses/${'a'.repeat(100_000)} HTTP/1.1\r\nhost: x\r\n${auth}\r\n`,
      ]) {
        const a = await raw(server.port, [request]);
        assert.ok(a.status >= 200 && a.status <= 599, `${request.slice(0, 60)} → ${a.status}`);
      }
      const ok = await raw(server.port, [post('/openai/v1/chat/completions', `content-length: ${Buffer.byteLength(CHAT)}\r\n`), CHAT]);
      assert.equal(ok.status, 200);
    } finally {
      await server.close();
    }
  });
});

describe('request bodies are limited (maxBodyBytes), enforced while they stream in', () => {
  const LIMIT = 4096;

  test('node adapter: a declared content-length over the limit is answered 413 before any body byte is sent', async () => {
    const server = await listen({ mock: { maxBodyBytes: LIMIT } });
    try {
      // Headers only: the client never sends the 50 MB it announces, so only an early answer ends this.
      const a = await raw(server.port, [post('/v1/responses', `content-length: ${50 * 1024 * 1024}\r\n`)]);
      assert.equal(a.status, 413);
      assert.match(a.headers['content-type'] ?? '', /text\/html/);
      assert.match(a.body, /413 Request Entity Too Large/);
      assert.equal(codeOf(a), 'request_too_large');
      const entry = server.mock.log.at(-1);
      assert.ok(entry?.kind === 'request' && entry.status === 413 && entry.outcome === 'request_too_large', JSON.stringify(entry));
    } finally {
      await server.close();
    }
  });

  test('node adapter: a chunked body is cut off as soon as it passes the limit (the request never ends)', async () => {
    const server = await listen({ mock: { maxBodyBytes: LIMIT } });
    try {
      const chunk = Buffer.alloc(1024, 'a');
      const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
      const parts = [post('/v1/responses', 'transfer-encoding: chunked\r\n'), ...Array.from({ length: 6 }, () => frame)];
      const a = await raw(server.port, parts); // no terminating 0-chunk: an answer proves nothing waited for the end
      assert.equal(a.status, 413);
      assert.equal(codeOf(a), 'request_too_large');
      // The server is fine afterwards, and a body under the limit is served.
      const ok = await raw(server.port, [post('/v1/chat/completions', `content-length: ${Buffer.byteLength(CHAT)}\r\n`), CHAT]);
      assert.equal(ok.status, 200);
    } finally {
      await server.close();
    }
  });

  test('node adapter: the rest of a refused body is dropped, not kept, and a client that never stops is cut off', async () => {
    const server = await listen({ mock: { maxBodyBytes: LIMIT } });
    try {
      const closed = await new Promise<{ status: string; closed: boolean }>((resolve, reject) => {
        const socket = connect(server.port, '127.0.0.1');
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new Error('the connection was never cut'));
        }, 5000);
        let got = '';
        socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
        socket.on('error', () => {}); // our writes may hit the cut: expected
        socket.on('close', () => {
          clearTimeout(timer);
          resolve({ status: got.slice(9, 12), closed: true });
        });
        socket.on('connect', () => {
          socket.write(post('/v1/responses', 'transfer-encoding: chunked\r\n'));
          const chunk = Buffer.alloc(LIMIT, 'a');
          const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
          for (let i = 0; i < 12; i++) socket.write(frame); // 12 × the limit: past what the server drains
        });
      });
      assert.deepEqual(closed, { status: '413', closed: true });
    } finally {
      await server.close();
    }
  });

  test('node adapter: the SDK gets a RequestTooLargeError it does not retry, and exactly the limit is still accepted', async () => {
    const server = await listen({ mock: { maxBodyBytes: LIMIT } });
    try {
      const Ctor = MAJORS.at(-1)!.errors as unknown as new (o: object) => { responses: { create(b: object): Promise<unknown> } };
      const client = new Ctor({ apiKey: 'sk-x', baseURL: server.url, maxRetries: 2 });
      const err = await rejection(() => client.responses.create({ model: 'gpt-4o-mini', input: 'x'.repeat(LIMIT) }));
      assert.ok(toError(err) instanceof RequestTooLargeError, String(err));
      assert.equal(server.mock.log.length, 1, 'one attempt: a too-large body is not worth retrying');
      const head = JSON.stringify({ model: 'gpt-4o-mini', input: '' });
      const exact = JSON.stringify({ model: 'gpt-4o-mini', input: 'x'.repeat(LIMIT - Buffer.byteLength(head)) });
      assert.equal(Buffer.byteLength(exact), LIMIT);
      const fits = await fetch(`${server.url}/responses`, { method: 'POST', headers: { authorization: 'Bearer sk-x', 'content-type': 'application/json' }, body: exact });
      assert.equal(fits.status, 200);
      await fits.text();
    } finally {
      await server.close();
    }
  });

  test('fetch handler: string, stream (cancelled once over the limit) and Request bodies', async () => {
    const mock = createMock({ maxBodyBytes: LIMIT });
    try {
      const url = 'http://mock/v1/responses';
      const headers = { authorization: 'Bearer sk-x', 'content-type': 'application/json' };
      const s = await mock.fetch(url, { method: 'POST', headers, body: JSON.stringify({ model: 'm', input: 'é'.repeat(LIMIT) }) });
      assert.equal(s.status, 413);
      let pulls = 0;
      let cancelled = false;
      const endless = new ReadableStream<Uint8Array>({
        pull(c) {
          pulls++;
          c.enqueue(new Uint8Array(1024).fill(32));
        },
        cancel() {
          cancelled = true;
        },
      });
      const r = await mock.fetch(url, { method: 'POST', headers, body: endless, duplex: 'half' } as never);
      assert.equal(r.status, 413);
      assert.ok(cancelled && pulls <= LIMIT / 1024 + 3, `pulls=${pulls} cancelled=${cancelled}`);
      const req = new Request(url, { method: 'POST', headers, body: 'x'.repeat(LIMIT + 1) });
      assert.equal((await mock.fetch(req)).status, 413);
      const fine = await mock.fetch(url, { method: 'POST', headers, body: JSON.stringify({ model: 'm', input: 'hi' }) });
      assert.equal(fine.status, 200);
    } finally {
      await mock.close();
    }
  });

  test('faultline mock --max-body-bytes sets it; a bad value is exit 2', async () => {
    const ac = new AbortController();
    let out = '';
    const waiters: Array<() => void> = [];
    const stdout = { write: (c: string) => ((out += c), waiters.splice(0).forEach((w) => w()), true) };
    const done = runMockCommand(['--max-body-bytes', '100'], { stdout, stderr: { write: () => true }, signal: ac.signal });
    while (!out.includes('\n')) await new Promise<void>((r) => waiters.push(r));
    const url = out.slice(0, out.indexOf('\n'));
    const res = await fetch(`${url}/responses`, { method: 'POST', headers: { authorization: 'Bearer sk-x' }, body: 'x'.repeat(101) });
    assert.equal(res.status, 413);
    await res.text();
    ac.abort();
    assert.equal(await done, 0);
    let err = '';
    assert.equal(await runMockCommand(['--max-body-bytes', '0'], { stdout: { write: () => true }, stderr: { write: (c: string) => (err += c) } }), 2);
    assert.match(err, /--max-body-bytes must be an integer >= 1/);
  });

  test('the option is checked: a positive integer of bytes, or Infinity; 16 MiB by default', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, '1024']) {
      assert.throws(() => createMock({ maxBodyBytes: bad as never }), (e: unknown) => e instanceof RangeError && /createMock: options\.maxBodyBytes must be/.test(e.message), String(bad));
    }
    assert.equal(createMock({}).maxBodyBytes, 16 * 1024 * 1024);
    assert.equal(createMock({ maxBodyBytes: Infinity }).maxBodyBytes, Infinity);
  });
});

describe('a log file that cannot be written is a usage error at start', () => {
  test('faultline mock --log: exit 2 naming the path; listen() rejects naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-hostile-'));
    try {
      for (const path of [join(dir, 'missing-dir', 'log.jsonl'), dir]) {
        let err = '';
        let out = '';
        const code = await runMockCommand(['--log', path], { stdout: { write: (c: string) => (out += c) }, stderr: { write: (c: string) => (err += c) } });
        assert.equal(code, 2, path);
        assert.ok(err.includes(path) && /--log/.test(err), err);
        assert.equal(out, '', 'nothing was served');
        await assert.rejects(listen({ logFile: path }), (e: unknown) => e instanceof TypeError && e.message.includes(path) && /listen: options\.logFile/.test(e.message));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
