import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatKeyOf, DEMO_KEYS, jobKeyOf, renderDemoReport, runDemo, runDemoCommand } from '../src/cli/demo.ts';
import { FAILURE_CODES } from '../src/core/catalog.ts';

test('the demo runs a small workload end to end: every job accounted for, none lost', { timeout: 60_000 }, async () => {
  const seen: number[] = [];
  const r = await runDemo({ seed: 3, requests: 60, jobs: 6, concurrency: 8, onProgress: (done) => seen.push(done) });
  assert.equal(r.background.lost, 0);
  assert.equal(r.background.delivered, 6, 'the journal delivered every background job');
  const total = Object.values(r.outcomes).reduce((a, b) => a + b, 0);
  assert.equal(total, 66, 'one outcome per request and job');
  assert.equal(r.chat.ok + Object.values(r.chat.failed).reduce((a, b) => a + b, 0), 60);
  for (const code of Object.keys(r.outcomes)) assert.ok(code === 'ok' || (FAILURE_CODES as readonly string[]).includes(code), code);
  assert.ok(r.chat.attempts >= 60, 'attempts come from the server log and include every request');
  assert.ok(r.server.attempts >= r.chat.attempts);
  assert.equal(r.chat.failed['insufficient_quota'] ?? 0, 1, 'the empty-wallet key (every 50th request) fails fast');
  assert.deepEqual(seen, Array.from({ length: 66 }, (_, i) => i + 1));
  const table = renderDemoReport(r);
  assert.match(table, /lost 0/);
  assert.match(table, /outcome\s+chat\s+background\s+total/);
});

test('demo misuse is a usage error naming the option', async () => {
  await assert.rejects(runDemo({ requests: -1 }), (e: unknown) => e instanceof RangeError && /requests/.test(e.message));
  await assert.rejects(runDemoCommand(['--requests', 'many'], { stdout: { write: () => true }, stderr: { write: () => true }, readStdin: async () => '' }), /--requests must be a whole decimal number/);
});

test('a job whose result can never be read counts as lost', { timeout: 60_000 }, async () => {
  // Stored responses vanish at once (404 after "retention"): the journal delivers them as lost.
  const scenario = [{ id: 'gone', match: { path: '/v1/responses', background: true }, fault: { type: 'expire' as const, afterMs: 0 } }];
  const r = await runDemo({ seed: 5, requests: 0, jobs: 3, concurrency: 2, scenario });
  assert.equal(r.background.delivered, 3);
  // Streamed jobs read their result off the stream before it vanishes; polled ones find a 404.
  assert.ok(r.background.lost >= 1, JSON.stringify(r.background));
  assert.equal(r.background.lost, r.background.failed['expired'] ?? 0);
  assert.equal(r.background.ok + r.background.lost, 3);
  assert.match(renderDemoReport(r), new RegExp(`lost ${r.background.lost}`));
});

test('one seed gives the same outcome counts every time, however the requests interleave', { timeout: 120_000 }, async () => {
  const run = () => runDemo({ seed: 11, requests: 120, jobs: 12, concurrency: 12 });
  const a = await run();
  const b = await run();
  assert.deepEqual(b.outcomes, a.outcomes);
  assert.deepEqual(b.chat.failed, a.chat.failed);
  assert.deepEqual(b.background.failed, a.background.failed);
  // The fates the keys carry, counted from the work lists themselves (not from the demo's report).
  const chatFates = { insufficient_quota: 0, context_length_exceeded: 0 };
  for (let i = 0; i < 120; i++) {
    if (chatKeyOf(i) === DEMO_KEYS.emptyWallet) chatFates.insufficient_quota++;
    if (chatKeyOf(i) === DEMO_KEYS.longPrompts) chatFates.context_length_exceeded++;
  }
  assert.equal(a.chat.failed['insufficient_quota'] ?? 0, chatFates.insufficient_quota);
  assert.equal(a.chat.failed['context_length_exceeded'] ?? 0, chatFates.context_length_exceeded);
  const bgRateLimited = Array.from({ length: 12 }, (_, i) => jobKeyOf(i)).filter((k) => k === DEMO_KEYS.bgRateLimited).length;
  assert.equal(a.background.failed['rate_limit_exceeded'] ?? 0, bgRateLimited);
  assert.equal(a.background.lost, 0);
});
