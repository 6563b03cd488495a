/**
 * The per-request work of createFetch, counted, not timed (wall-clock targets live in bench/redis/cpu.ts and
 * bench/redis/cpu-instructions.ts): how many times a request through it parses JSON, serialises JSON,
 * makes an AbortController or a Headers, joins signals, and what the underlying fetch is handed. Each
 * count is what the request needs; a rise is a cost that came back (each of these was measured on the
 * hot path of issue 12). Also the behaviour the lean path must keep: `usage` still reconciles a limiter
 * that paces tokens, still teaches the output average, and is read even from an escaped key.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createFetch, RateLimiter, type Grant } from '../../src/retry/index.ts';
import { createManualClock } from '../../src/mock/index.ts';

const URL_ = 'https://api.openai.com/v1/chat/completions';
const CAPPED = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }], max_tokens: 16 });
const UNCAPPED = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] });
const REQUESTS_ONLY = { 'content-type': 'application/json', 'x-ratelimit-limit-requests': '1000000', 'x-ratelimit-remaining-requests': '999999', 'x-ratelimit-reset-requests': '0s' };
const CHAT = '{"id":"chatcmpl-1","object":"chat.completion","choices":[],"usage":{"prompt_tokens":8,"completion_tokens":4}}';

interface Counts {
  parse: number;
  stringify: number;
  abortControllers: number;
  headers: number;
  any: number;
}

/** Counts the calls of `run` into the globals below (the wrapper's only; the stub fetch builds its answer before). */
async function counted(run: () => Promise<void>): Promise<Counts> {
  const c: Counts = { parse: 0, stringify: 0, abortControllers: 0, headers: 0, any: 0 };
  const { parse, stringify } = JSON;
  const { AbortController: AC, Headers: H } = globalThis;
  const any = AbortSignal.any;
  JSON.parse = ((...a: Parameters<typeof parse>) => (c.parse++, parse(...a))) as typeof parse;
  JSON.stringify = ((...a: Parameters<typeof stringify>) => (c.stringify++, stringify(...a))) as typeof stringify;
  globalThis.AbortController = class extends AC {
    constructor() {
      super();
      c.abortControllers++;
    }
  };
  globalThis.Headers = class extends H {
    constructor(init?: HeadersInit) {
      super(init);
      c.headers++;
    }
  };
  AbortSignal.any = (signals: AbortSignal[]) => (c.any++, any(signals));
  try {
    await run();
  } finally {
    Object.assign(JSON, { parse, stringify });
    Object.assign(globalThis, { AbortController: AC, Headers: H });
    AbortSignal.any = any;
  }
  return c;
}

/** A stub fetch with its answers built ahead (outside the counted window), recording each init it is handed. */
function stub(answers: number, body = CHAT, headers: Record<string, string> = REQUESTS_ONLY) {
  const ready = Array.from({ length: answers }, () => new Response(body, { status: 200, headers }));
  const inits: Array<RequestInit | undefined> = [];
  const fetch = async (_input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    inits.push(init);
    const next = ready.shift();
    if (next === undefined) throw new Error('stub: no answer left');
    return next;
  };
  return { fetch, inits };
}

/** A limiter that records what createFetch asks of it. */
class RecordingLimiter extends RateLimiter {
  readonly acquired: number[] = [];
  readonly reconciled: number[] = [];
  override acquire(tokens?: number): Grant {
    this.acquired.push(tokens ?? 0);
    return super.acquire(tokens);
  }
  override reconcile(grant: Grant, actualTokens: number): void {
    this.reconciled.push(actualTokens);
    super.reconcile(grant, actualTokens);
  }
}

describe('createFetch hot path (counted per request)', () => {
  const N = 20;
  let clock: ReturnType<typeof createManualClock>;
  beforeEach(() => {
    clock = createManualClock({ start: 1_000_000, autoAdvance: true });
  });
  afterEach(() => {
    assert.equal(typeof JSON.parse(CHAT), 'object'); // the globals are back
  });

  test('a paced, capped request with no signal: one JSON.parse (its body), no stringify, no AbortController, no Headers, no AbortSignal.any; the caller’s init passed on as it is', async () => {
    const s = stub(N + 1);
    const f = createFetch({ fetch: s.fetch, clock });
    const init: RequestInit = { method: 'POST', headers: { 'content-type': 'application/json' }, body: CAPPED };
    await (await f(URL_, init)).arrayBuffer(); // the first request probes; its pacer and limiter are made
    const c = await counted(async () => {
      for (let i = 0; i < N; i++) assert.equal((await (await f(URL_, init)).json()).id, 'chatcmpl-1');
    });
    // The caller's res.json() parses once more per request: that one is the caller's, not the wrapper's.
    assert.deepEqual(c, { parse: 2 * N, stringify: 0, abortControllers: 0, headers: 0, any: 0 });
    assert.ok(s.inits.every((x) => x === init), 'the underlying fetch gets the caller’s own init (no copy, no signal)');
  });

  test('with a caller signal: the signal is joined once per attempt and reaches the underlying fetch', async () => {
    const s = stub(N + 1);
    const f = createFetch({ fetch: s.fetch, clock });
    const ac = new AbortController();
    const init: RequestInit = { method: 'POST', body: CAPPED, signal: ac.signal };
    await (await f(URL_, init)).arrayBuffer();
    const c = await counted(async () => {
      for (let i = 0; i < N; i++) await (await f(URL_, init)).arrayBuffer();
    });
    assert.deepEqual(c, { parse: N, stringify: 0, abortControllers: N, headers: 0, any: N });
    ac.abort();
    assert.ok(s.inits.slice(1).every((x) => x !== init && x?.signal?.aborted === true), 'the caller’s abort reaches the underlying fetch');
  });

  test('usage still reconciles a limiter that paces tokens (the answer is parsed then)', async () => {
    const s = stub(N);
    const limiter = new RecordingLimiter({ rpm: 1e6, tpm: 1e9, clock });
    const f = createFetch({ fetch: s.fetch, clock, limiter });
    const c = await counted(async () => {
      for (let i = 0; i < N; i++) await (await f(URL_, { method: 'POST', body: CAPPED })).arrayBuffer();
    });
    assert.equal(c.parse, 2 * N);
    assert.deepEqual(limiter.reconciled, Array(N).fill(8 + 16)); // prompt_tokens + the cap
  });

  test('usage still teaches the output average of uncapped requests, also from a key spelled with escapes', async () => {
    const escaped = '{"id":"chatcmpl-1","usage":{"prompt_tokens":8,"completion\\u005ftokens":100}}';
    assert.equal(JSON.parse(escaped).usage.completion_tokens, 100);
    const s = stub(3, escaped);
    const limiter = new RecordingLimiter({ clock }); // learns requests only: no tokens bucket
    const f = createFetch({ fetch: s.fetch, clock, limiter, expectedOutputTokens: 256 });
    for (let i = 0; i < 3; i++) await (await f(URL_, { method: 'POST', body: UNCAPPED })).arrayBuffer();
    const prompt = Math.ceil('hello there'.length / 4);
    // The running average: 256, then 0.8 × 256 + 0.2 × 100, then 0.8 × that + 0.2 × 100.
    const second = 256 * 0.8 + 100 * 0.2;
    assert.deepEqual(limiter.acquired, [prompt + 256, prompt + second, prompt + (second * 0.8 + 100 * 0.2)]);
    assert.deepEqual(limiter.reconciled, [8 + 100, 8 + 100, 8 + 100]);
  });

  test('an answer whose usage has no output count (embeddings) is not parsed, and nothing is reconciled', async () => {
    const embedding = JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: Array.from({ length: 64 }, (_, i) => i / 64) }], model: 'text-embedding-3-small', usage: { prompt_tokens: 3, total_tokens: 3 } });
    const s = stub(N, embedding, { 'content-type': 'application/json', 'x-ratelimit-limit-tokens': '1000000', 'x-ratelimit-remaining-tokens': '999990', 'x-ratelimit-reset-tokens': '0s' });
    const limiter = new RecordingLimiter({ tpm: 1e9, clock });
    const f = createFetch({ fetch: s.fetch, clock, limiter });
    const body = JSON.stringify({ model: 'text-embedding-3-small', input: 'abc' });
    const c = await counted(async () => {
      for (let i = 0; i < N; i++) assert.equal((await (await f('https://api.openai.com/v1/embeddings', { method: 'POST', body })).json()).data[0].index, 0);
    });
    assert.equal(c.parse, 2 * N); // the request body and the caller's res.json(): the answer is not parsed for usage
    assert.deepEqual(limiter.reconciled, []);
  });
});

describe('the answer read in full is handed on without a second stream, and still behaves as a Response', () => {
  const reply = '\ufeff{"id":"chatcmpl-1","usage":{"prompt_tokens":8,"completion_tokens":4}}';
  /** A loopback server written here from the wire: every request gets `reply` (with a BOM, as some proxies send). */
  async function withServer(run: (url: string) => Promise<void>): Promise<void> {
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-ratelimit-limit-requests': '1000', 'x-ratelimit-remaining-requests': '999', 'x-ratelimit-reset-requests': '60ms' });
        res.end(reply);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await run(`http://127.0.0.1:${(server.address() as { port: number }).port}/v1/chat/completions`);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }
  const post = (f: ReturnType<typeof createFetch>, url: string) => f(url, { method: 'POST', body: CAPPED });

  test('each way of reading gives what bare fetch gives, once; a second read fails as undici’s does', async () => {
    await withServer(async (url) => {
      const f = createFetch();
      const bare = await fetch(url, { method: 'POST', body: CAPPED });
      const bareText = await bare.text();
      const bareError = await bare.text().then(() => undefined, (e: unknown) => e);
      for (const read of ['text', 'json', 'arrayBuffer', 'bytes', 'blob', 'body', 'formData'] as const) {
        const res = await post(f, url);
        assert.equal(res.status, 200);
        assert.equal(res.url, url);
        assert.equal(res.redirected, false);
        assert.equal(res.headers.get('x-ratelimit-limit-requests'), '1000');
        assert.equal(res.bodyUsed, false, read);
        if (read === 'text') assert.equal(await res.text(), bareText);
        if (read === 'json') assert.deepEqual(await res.json(), JSON.parse(bareText));
        if (read === 'arrayBuffer') assert.equal(new TextDecoder().decode(await res.arrayBuffer()), bareText);
        if (read === 'bytes') assert.equal(new TextDecoder().decode(await res.bytes()), bareText);
        if (read === 'blob') assert.equal(await (await res.blob()).text(), bareText);
        if (read === 'body') assert.equal(await new Response(res.body).text(), bareText);
        if (read === 'formData') await assert.rejects(res.formData(), TypeError); // JSON is no form, as for bare fetch
        assert.equal(res.bodyUsed, true, read);
        const again = await res.text().then(() => undefined, (e: unknown) => e);
        assert.ok(again instanceof TypeError, `${read} then text`);
        assert.equal(again.constructor, (bareError as object).constructor);
        assert.throws(() => res.clone(), TypeError);
      }
    });
  });

  test('clone() before reading gives two bodies; body after a read is a used stream', async () => {
    await withServer(async (url) => {
      const f = createFetch();
      const res = await post(f, url);
      const copy = res.clone();
      assert.equal(await copy.text(), await res.text());
      for (const read of [await post(f, url), await fetch(url, { method: 'POST', body: CAPPED })]) {
        await read.arrayBuffer();
        assert.ok(read.body instanceof ReadableStream);
        assert.throws(() => new Response(read.body), TypeError); // disturbed, for bare fetch and for this alike
      }
    });
  });
});
