import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderDemoReport, runDemo, runDemoCommand } from '../src/cli/demo.ts';
import { FAILURE_CODES } from '../src/catalog.ts';

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
  await assert.rejects(runDemoCommand(['--requests', 'many'], { stdout: { write: () => true }, stderr: { write: () => true }, readStdin: async () => '' }), /--requests must be a whole number/);
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
