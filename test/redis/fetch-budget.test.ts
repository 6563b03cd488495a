/**
 * `createFetch({ budget })` against the SharedBudget contract, with a recording in-memory budget and an
 * injected `fetch` (no network, a virtual clock): what each kind of answer hands back to the budget.
 * The same option against real Redis and an independent loopback server is in fetch-budget-redis.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFetch } from '../../src/retry/fetch.ts';
import { RequestTooLargeError } from '../../src/core/errors.ts';
import type { AcquireOptions, BudgetDecision, BudgetGrant, SharedBudget } from '../../src/retry/budget.ts';
import type { RateLimitHeaders } from '../../src/retry/headers.ts';
import { createManualClock } from '../../src/mock/index.ts';

type Call =
  | { op: 'acquire'; model: string; tokens: number; minTokens: number }
  | { op: 'reconcile'; tokens: number; actual: number }
  | { op: 'release'; tokens: number }
  | { op: 'observe'; limit: number | undefined }
  | { op: 'pause'; ms: number };

/** A budget that grants everything (or what `decide` says) and records every call. */
function recordingBudget(decide: ((n: number, now: number) => BudgetDecision | Error) | undefined, now: () => number): SharedBudget & { calls: Call[] } {
  const calls: Call[] = [];
  let n = 0;
  const grantOf = (model: string, tokens: number): BudgetGrant => ({ model, tokens, source: 'shared' });
  return {
    calls,
    async acquire(model: string, tokens: number, o: AcquireOptions = {}) {
      calls.push({ op: 'acquire', model, tokens, minTokens: o.minTokens ?? 0 });
      const d = decide?.(n++, now()) ?? { kind: 'grant', grant: grantOf(model, tokens), sendAt: now() };
      if (d instanceof Error) throw d;
      return d.kind === 'grant' ? { ...d, grant: grantOf(model, tokens) } : d;
    },
    async reconcile(g: BudgetGrant, actual: number) {
      calls.push({ op: 'reconcile', tokens: g.tokens, actual });
    },
    async release(g: BudgetGrant) {
      calls.push({ op: 'release', tokens: g.tokens });
    },
    async observe(_model: string, h: RateLimitHeaders) {
      calls.push({ op: 'observe', limit: h.requests?.limit });
    },
    async pause(_model: string, ms: number) {
      calls.push({ op: 'pause', ms });
    },
    status: () => ({ mode: 'shared' }),
    close: async () => {},
  };
}

const LIMIT_HEADERS = { 'x-ratelimit-limit-requests': '600', 'x-ratelimit-remaining-requests': '599', 'x-ratelimit-reset-requests': '100ms' };
const ok = (usage?: object): Response =>
  new Response(JSON.stringify({ id: 'x', ...(usage !== undefined ? { usage } : {}) }), { status: 200, headers: { 'content-type': 'application/json', ...LIMIT_HEADERS } });
const limited = (ms: number): Response =>
  new Response(JSON.stringify({ error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } }), {
    status: 429,
    headers: { 'content-type': 'application/json', 'retry-after-ms': String(ms), ...LIMIT_HEADERS },
  });
// 40 chars of prompt (10 tokens) + max_tokens 50.
const body = JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'x'.repeat(40) }], max_tokens: 50 });
const settled = (): Promise<void> => new Promise((r) => setImmediate(r));

test('createFetch: options.budget is checked at once, in the one misuse format', () => {
  assert.throws(() => createFetch({ budget: {} as SharedBudget }), {
    name: 'TypeError',
    message: /^createFetch: options\.budget must be a SharedBudget \(.*\), got an object$/,
  });
  assert.throws(() => createFetch({ budget: 'redis://x' as unknown as SharedBudget }), { message: /options\.budget must be .*, got "redis:\/\/x"$/ });
});

test('a success reserves the estimate (the certain part as minTokens), then reports headers and the usage', async () => {
  const clock = createManualClock({ autoAdvance: true });
  const budget = recordingBudget(undefined, clock.now);
  const f = createFetch({ budget, fetch: async () => ok({ prompt_tokens: 12, completion_tokens: 7 }), clock });
  const res = await f('http://127.0.0.1/v1/chat/completions', { method: 'POST', body });
  assert.equal(res.status, 200);
  await settled();
  assert.deepEqual(budget.calls, [
    { op: 'acquire', model: 'gpt-test', tokens: 60, minTokens: 60 },
    // admission cost from usage: the prompt as counted plus the max_tokens reserved; then the server's view
    { op: 'reconcile', tokens: 60, actual: 62 },
    { op: 'observe', limit: 600 },
  ]);
});

test('a 429 gives the reservation back and pauses every process for its retry-after-ms; the retry reserves again', async () => {
  const clock = createManualClock({ autoAdvance: true });
  const budget = recordingBudget(undefined, clock.now);
  let n = 0;
  const f = createFetch({ budget, fetch: async () => (n++ === 0 ? limited(1500) : ok()), clock });
  const res = await f('http://127.0.0.1/v1/chat/completions', { method: 'POST', body });
  assert.equal(res.status, 200);
  await settled();
  const ops = budget.calls.map((c) => c.op);
  assert.deepEqual(ops, ['acquire', 'release', 'observe', 'pause', 'acquire', 'reconcile', 'observe']);
  assert.deepEqual(budget.calls[3], { op: 'pause', ms: 1500 });
  // no usage in the second answer: the reservation is kept as it was
  assert.deepEqual(budget.calls[5], { op: 'reconcile', tokens: 60, actual: 60 });
});

test('an abort while the slot lies ahead gives the reservation back and sends nothing', async () => {
  const clock = createManualClock({ autoAdvance: true });
  const budget = recordingBudget(() => ({ kind: 'grant', grant: { model: '', tokens: 0, source: 'shared' }, sendAt: clock.now() + 5000 }), clock.now);
  let sent = 0;
  const f = createFetch({ budget, fetch: async () => (sent++, ok()), clock });
  const controller = new AbortController();
  const pending = f('http://127.0.0.1/v1/chat/completions', { method: 'POST', body, signal: controller.signal });
  await settled();
  controller.abort();
  await assert.rejects(pending);
  await settled();
  assert.equal(sent, 0);
  assert.deepEqual(budget.calls.map((c) => c.op), ['acquire', 'release']);
});

test("'wait' decisions are asked again at retryAt by the queue's head only; a slot after maxRetryTime ends the request", async () => {
  const clock = createManualClock({ autoAdvance: true });
  const budget = recordingBudget((n, now) => (n < 2 ? { kind: 'wait', retryAt: now + 1000 } : { kind: 'grant', grant: { model: '', tokens: 0, source: 'shared' }, sendAt: now }), clock.now);
  const f = createFetch({ budget, fetch: async () => ok(), clock });
  const t0 = clock.now();
  const [a, b] = await Promise.all([0, 1].map(() => f('http://127.0.0.1/v1/chat/completions', { method: 'POST', body })));
  assert.equal(a!.status, 200);
  assert.equal(b!.status, 200);
  assert.equal(clock.now() - t0, 2000);
  assert.equal(budget.calls.filter((c) => c.op === 'acquire').length, 4, 'two waits, then one grant each: the second request never asked while the first waited');

  const late = recordingBudget((_, now) => ({ kind: 'wait', retryAt: now + 60_000 }), clock.now);
  const g = createFetch({ budget: late, fetch: async () => ok(), maxRetryTimeMs: 10_000, clock });
  await assert.rejects(g('http://127.0.0.1/v1/chat/completions', { method: 'POST', body }), (e: Error) => e.name === 'RetryError');
  assert.equal(late.calls.length, 1);
});

test('a request that wakes well after its booked slot (a stalled process) books a new one instead of bunching', async () => {
  const clock = createManualClock({ autoAdvance: true });
  // The first slot is 100 ms in the past when it is handed out: as if the process had stalled.
  const budget = recordingBudget((n, now) => ({ kind: 'grant', grant: { model: '', tokens: 0, source: 'shared' }, sendAt: n === 0 ? now - 100 : now }), clock.now);
  await createFetch({ budget, fetch: async () => ok(), clock })('http://127.0.0.1/v1/chat/completions', { method: 'POST', body });
  await settled();
  assert.deepEqual(budget.calls.map((c) => c.op), ['acquire', 'release', 'acquire', 'reconcile', 'observe']);
});

test('request_too_large from the budget fails the request at once, nothing sent, not retried', async () => {
  const clock = createManualClock({ autoAdvance: true });
  const budget = recordingBudget(() => new RequestTooLargeError('This request needs 60 tokens, more than the whole per-minute token budget'), clock.now);
  let sent = 0;
  const f = createFetch({ budget, fetch: async () => (sent++, ok()), clock });
  await assert.rejects(f('http://127.0.0.1/v1/chat/completions', { method: 'POST', body }), (e: Error) => RequestTooLargeError.isInstance(e) || (e.cause !== undefined && RequestTooLargeError.isInstance(e.cause)));
  assert.equal(sent, 0);
  assert.equal(budget.calls.length, 1);
});

test('pacing: false and requests without a model leave the budget alone', async () => {
  const budget = recordingBudget(undefined, Date.now);
  await createFetch({ budget, pacing: false, fetch: async () => ok(), clock: createManualClock({ autoAdvance: true }) })('http://127.0.0.1/v1/chat/completions', { method: 'POST', body });
  await createFetch({ budget, fetch: async () => ok(), clock: createManualClock({ autoAdvance: true }) })('http://127.0.0.1/v1/models');
  assert.deepEqual(budget.calls, []);
});
