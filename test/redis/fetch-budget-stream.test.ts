/**
 * `createFetch({ budget })` with streamed answers (`stream: true`), against an independent SSE server
 * written here on node:http: the body reaches the caller chunk by chunk as the server writes it, and the
 * reservation is corrected exactly once, when the stream ends, from the `usage` the stream carries
 * (Chat Completions' `include_usage` chunk, the Responses API's `response.completed`), or, with no usage
 * or on a cancel, from what the stream showed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFetch } from '../../src/retry/fetch.ts';
import { estimateCost } from '../../src/retry/estimate.ts';
import type { BudgetGrant, SharedBudget } from '../../src/retry/budget.ts';

type Call = { op: 'acquire'; tokens: number } | { op: 'reconcile'; tokens: number; actual: number } | { op: 'release'; tokens: number } | { op: 'observe' } | { op: 'pause' };

/** Grants everything at once and records every call. */
function recordingBudget(): SharedBudget & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    async acquire(model, tokens) {
      calls.push({ op: 'acquire', tokens });
      return { kind: 'grant', grant: { model, tokens, source: 'shared' } satisfies BudgetGrant, sendAt: Date.now() };
    },
    async reconcile(g, actual) {
      calls.push({ op: 'reconcile', tokens: g.tokens, actual });
    },
    async release(g) {
      calls.push({ op: 'release', tokens: g.tokens });
    },
    async observe() {
      calls.push({ op: 'observe' });
    },
    async pause() {
      calls.push({ op: 'pause' });
    },
    status: () => ({ mode: 'shared' }),
    close: async () => {},
  };
}

/** A gate the test opens; the server writes its next part only then (so a held chunk would deadlock). */
function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

/**
 * An SSE server that writes `parts` one by one, each after the gate of the same index opens (gate 0:
 * at once), then ends. `closed` resolves when the client's connection is gone.
 */
async function sseServer(parts: readonly string[], gates: readonly Promise<void>[], end = true) {
  let closed!: () => void;
  const gone = new Promise<void>((r) => (closed = r));
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    res.on('close', closed);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'x-ratelimit-limit-requests': '600', 'x-ratelimit-remaining-requests': '599', 'x-ratelimit-reset-requests': '100ms' });
    res.flushHeaders();
    for (let i = 0; i < parts.length; i++) {
      await gates[i];
      if (res.destroyed) return;
      res.write(parts[i]);
    }
    if (end) res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
  return {
    url,
    gone,
    close: () => {
      server.closeAllConnections(); // a response still waiting on a gate must not hold the test
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The tokens the (one) acquire reserved. */
function reservedOf(budget: { calls: Call[] }): number {
  const a = budget.calls[0];
  assert.equal(a?.op, 'acquire');
  return a.op === 'acquire' ? a.tokens : NaN;
}

const settled = (): Promise<void> => new Promise((r) => setImmediate(r));
const decoder = new TextDecoder();
// 40 chars of prompt + max_tokens 50.
const capped = JSON.stringify({ model: 'gpt-test', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'x'.repeat(40) }], max_tokens: 50 });
const uncapped = JSON.stringify({ model: 'gpt-test', stream: true, input: 'x'.repeat(40) });

test('Chat Completions stream: each chunk reaches the caller unchanged as it is written; the usage chunk reconciles once, at the end', { timeout: 10_000 }, async () => {
  const parts = [
    'data: {"choices":[{"delta":{"content":"Hi"}}],"usage":null}\n\n',
    'data: {"choices":[{"delta":{"content":" there"}}],"usage":null}\n\n',
    'data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}}\n\ndata: [DONE]\n\n',
  ];
  const gates = [gate(), gate(), gate()];
  gates[0]!.open();
  const server = await sseServer(parts, gates.map((g) => g.opened));
  const budget = recordingBudget();
  try {
    const f = createFetch({ budget });
    const res = await f(server.url, { method: 'POST', body: capped });
    assert.equal(res.status, 200);
    assert.equal(res.url, server.url, 'the URL survives the observed body');
    const reader = res.body!.getReader();
    for (let i = 0; i < parts.length; i++) {
      // The server writes part i+1 only after the caller has read part i: a held or buffered chunk hangs here.
      let got = '';
      while (got.length < parts[i]!.length) {
        const r = await reader.read();
        assert.equal(r.done, false);
        got += decoder.decode(r.value);
      }
      assert.equal(got, parts[i], `part ${i} unchanged`);
      await settled();
      const ops = budget.calls.map((c) => c.op);
      assert.deepEqual(ops, ['acquire', 'observe'], `part ${i}: the headers observed, nothing reconciled before the end`);
      gates[i + 1]?.open();
    }
    assert.equal((await reader.read()).done, true);
    await settled();
    const reconciles = budget.calls.filter((c) => c.op === 'reconcile');
    // The admission cost from usage: the prompt as counted plus the max_tokens reserved.
    assert.deepEqual(reconciles, [{ op: 'reconcile', tokens: reservedOf(budget), actual: 12 + 50 }]);
    assert.equal(budget.calls.filter((c) => c.op === 'release').length, 0);
  } finally {
    await server.close();
  }
});

test('Responses API stream: response.completed carries the usage, even when an event is split across writes', { timeout: 10_000 }, async () => {
  const completed = 'event: response.completed\ndata: {"type":"response.completed","response":{"id":"r","usage":{"input_tokens":9,"output_tokens":3,"total_tokens":12}}}\n\n';
  const parts = ['event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"Hi"}\n\n', completed.slice(0, 70), completed.slice(70)];
  const server = await sseServer(parts, []);
  const budget = recordingBudget();
  try {
    const res = await createFetch({ budget })(server.url, { method: 'POST', body: uncapped });
    assert.equal(await res.text(), parts.join(''));
    await settled();
    const reserved = reservedOf(budget);
    assert.ok(reserved > 12, `the estimate reserved more than was used (${reserved})`);
    assert.deepEqual(budget.calls.filter((c) => c.op === 'reconcile'), [{ op: 'reconcile', tokens: reserved, actual: 9 + 3 }]);
  } finally {
    await server.close();
  }
});

test('a stream cancelled by the caller gives the unused part back once, and the cancel reaches the server', { timeout: 10_000 }, async () => {
  const parts = ['event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"Hi"}\n\n', 'never sent'];
  const server = await sseServer(parts, [Promise.resolve(), new Promise(() => {})], false);
  const budget = recordingBudget();
  try {
    const res = await createFetch({ budget })(server.url, { method: 'POST', body: uncapped });
    const reader = res.body!.getReader();
    assert.equal(decoder.decode((await reader.read()).value), parts[0]);
    await reader.cancel();
    await server.gone;
    await settled();
    const reserved = reservedOf(budget);
    // No usage arrived: the prompt and one token per event seen are kept, the rest of the estimate goes back.
    const prompt = estimateCost(JSON.parse(uncapped), 256).promptTokens;
    assert.deepEqual(budget.calls.filter((c) => c.op === 'reconcile'), [{ op: 'reconcile', tokens: reserved, actual: prompt + 1 }]);
    assert.ok(prompt + 1 < reserved);
  } finally {
    await server.close();
  }
});

test("the caller's abort mid-stream is a cancel too: the unused part goes back once", { timeout: 10_000 }, async () => {
  const parts = ['data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n', 'never sent'];
  const server = await sseServer(parts, [Promise.resolve(), new Promise(() => {})], false);
  const budget = recordingBudget();
  const controller = new AbortController();
  try {
    const res = await createFetch({ budget })(server.url, { method: 'POST', body: uncapped, signal: controller.signal });
    const reader = res.body!.getReader();
    assert.equal(decoder.decode((await reader.read()).value), parts[0]);
    controller.abort();
    await assert.rejects(reader.read());
    await server.gone;
    await settled();
    const prompt = estimateCost(JSON.parse(uncapped), 256).promptTokens;
    assert.deepEqual(budget.calls.filter((c) => c.op === 'reconcile'), [{ op: 'reconcile', tokens: reservedOf(budget), actual: prompt + 1 }]);
  } finally {
    await server.close();
  }
});

test('a stream that ends without usage keeps the prompt and the cap (max_tokens is charged at admission)', { timeout: 10_000 }, async () => {
  const parts = ['data: {"choices":[{"delta":{"content":"Hi"}}]}\n\ndata: [DONE]\n\n'];
  const server = await sseServer(parts, []);
  const budget = recordingBudget();
  try {
    const res = await createFetch({ budget })(server.url, { method: 'POST', body: capped });
    assert.equal(await res.text(), parts[0]);
    await settled();
    const reserved = reservedOf(budget);
    assert.deepEqual(budget.calls.filter((c) => c.op === 'reconcile'), [{ op: 'reconcile', tokens: reserved, actual: reserved }]);
  } finally {
    await server.close();
  }
});
