/**
 * `createFetch` with the per-process limiter and streamed answers (`stream: true`), against an
 * independent SSE server written here on node:http: the answer's headers are observed when they arrive,
 * and the reservation is corrected once, when the stream ends, from the `usage` the stream carries, or,
 * with no usage or on a cancel, from what the stream showed (never above the reservation); a body that
 * fails mid-way keeps its reservation. The limiter runs on a frozen clock, so its answers show the
 * booking exactly. (The shared budget's counterpart is test/redis/fetch-budget-stream.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFetch } from '../../src/retry/fetch.ts';
import { estimateCost } from '../../src/retry/estimate.ts';
import { RateLimiter, type Grant } from '../../src/retry/limiter.ts';
import type { RateLimitHeaders } from '../../src/retry/headers.ts';

const T = 1_000_000;
const clock = { now: () => T, sleep: async () => undefined };

/** A limiter at 60 000 TPM (one token per ms) with a 10 s burst, recording what createFetch tells it. */
class RecordingLimiter extends RateLimiter {
  readonly calls: string[] = [];
  constructor() {
    super({ tpm: 60_000, rpm: 100_000, burstWindowMs: 10_000, clock, random: () => 0 });
  }
  override observe(headers: RateLimitHeaders | undefined, grant?: Grant): void {
    this.calls.push('observe');
    super.observe(headers, grant);
  }
  override reconcile(grant: Grant, actualTokens: number): void {
    this.calls.push(`reconcile ${grant.tokens} → ${actualTokens}`);
    super.reconcile(grant, actualTokens);
  }
  /** The tokens booked and not yet refilled (the clock is frozen: all of them), from its own answer. */
  booked(): number {
    return this.when(10_000) - T;
  }
}

/** An SSE server writing `parts`, each once `gates[i]` resolves (none: at once); `fail` destroys the socket after them. */
async function sseServer(parts: readonly string[], gates: readonly Promise<void>[] = [], after: 'end' | 'hold' | 'fail' = 'end') {
  let closed!: () => void;
  const gone = new Promise<void>((r) => (closed = r));
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    res.on('close', closed);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    for (let i = 0; i < parts.length; i++) {
      await gates[i];
      if (res.destroyed) return;
      res.write(parts[i]);
    }
    if (after === 'end') res.end();
    else if (after === 'fail') setTimeout(() => res.destroy(), 20);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`,
    gone,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const settled = (): Promise<void> => new Promise((r) => setImmediate(r));
const decoder = new TextDecoder();
// 40 characters of prompt, no output cap: the estimate books the prompt and 256 expected output tokens.
const body = JSON.stringify({ model: 'gpt-test', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'x'.repeat(40) }] });
const estimate = estimateCost(JSON.parse(body), 256);

test("a stream's usage chunk reconciles the limiter once, at the end, after its headers were observed", { timeout: 10_000 }, async () => {
  const parts = ['data: {"choices":[{"delta":{"content":"Hi"}}],"usage":null}\n\n', 'data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}}\n\ndata: [DONE]\n\n'];
  let open!: () => void;
  const server = await sseServer(parts, [Promise.resolve(), new Promise<void>((r) => (open = r))]);
  const limiter = new RecordingLimiter();
  try {
    const res = await createFetch({ limiter, clock })(server.url, { method: 'POST', body });
    const reader = res.body!.getReader();
    assert.equal(decoder.decode((await reader.read()).value), parts[0]);
    await settled();
    assert.deepEqual(limiter.calls, ['observe'], 'the headers observed at once, nothing reconciled before the end');
    assert.equal(limiter.booked(), estimate.tokens, 'the whole estimate still booked');
    open();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += decoder.decode(r.value);
    assert.equal(rest, parts[1]);
    await settled();
    // No output cap: the admission cost is what was used, the prompt as counted plus the output.
    assert.deepEqual(limiter.calls, ['observe', `reconcile ${estimate.tokens} → 19`]);
    assert.equal(limiter.booked(), 19);
  } finally {
    await server.close();
  }
});

test('a stream cancelled by the caller gives the unused part of the estimate back once', { timeout: 10_000 }, async () => {
  const parts = ['data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n'];
  const server = await sseServer(parts, [], 'hold');
  const limiter = new RecordingLimiter();
  try {
    const res = await createFetch({ limiter, clock })(server.url, { method: 'POST', body });
    const reader = res.body!.getReader();
    assert.equal(decoder.decode((await reader.read()).value), parts[0]);
    await reader.cancel();
    await server.gone;
    await settled();
    // No usage arrived: the prompt and one token per event seen are kept.
    assert.deepEqual(limiter.calls, ['observe', `reconcile ${estimate.tokens} → ${estimate.promptTokens + 1}`]);
    assert.equal(limiter.booked(), estimate.promptTokens + 1);
  } finally {
    await server.close();
  }
});

test('a stream that fails mid-way keeps its reservation (the server may have counted it)', { timeout: 10_000 }, async () => {
  const parts = ['data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n'];
  const server = await sseServer(parts, [], 'fail');
  const limiter = new RecordingLimiter();
  try {
    const res = await createFetch({ limiter, clock })(server.url, { method: 'POST', body });
    await assert.rejects(res.text());
    await settled();
    assert.deepEqual(limiter.calls, ['observe']);
    assert.equal(limiter.booked(), estimate.tokens);
  } finally {
    await server.close();
  }
});
