/**
 * Flex and long windows: `background_options.completion_window` ('soonest' | '2h' | '8h'; openai-node 7.58)
 * jobs are never streamed, are polled at a pace that fits hours, and the journal holds them for their whole
 * window: an orphan of such a job is not declared lost while its webhook may still come.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { openJournal, type JobOutcome } from '../../src/journal/index.ts';
import { createAndWait, type WaitOptions } from '../../src/background/wait.ts';
import { FakeResponses } from './fake-client.ts';
import { createManualClock } from '../../src/mock/index.ts';
import { driveIO, json, serveLoopback } from './loopback.ts';

const dir = mkdtempSync(join(tmpdir(), 'faultline-flex-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const HOUR = 3_600_000;

function setup(path = join(dir, `f${++n}.db`)) {
  const clock = createManualClock(1_700_000_000_000);
  const fake = new FakeResponses(clock);
  const outcomes: JobOutcome[] = [];
  const journal = openJournal(path, { clock, onResult: (o) => void outcomes.push(o) });
  const opts = (extra: Partial<WaitOptions> = {}): WaitOptions => ({ timeoutMs: 10 * HOUR, clock, random: () => 0, journal, ...extra });
  return { clock, fake, journal, outcomes, opts, path };
}

const flex = (window: string) => ({ model: 'o3', input: 'long report', service_tier: 'flex', background_options: { completion_window: window } });

describe('completion_window jobs', () => {
  test('are created without stream, polled (never streamed) at a pace that fits hours', async () => {
    const { clock, fake, journal, outcomes, opts } = setup();
    fake.defaults = { durationMs: 4 * HOUR };
    const res = await clock.run(createAndWait(fake, flex('8h'), opts({ jobKey: 'flex' })));
    assert.equal(res.status, 'completed');
    const body = [...fake.jobs.values()][0]!.body;
    assert.equal(body['stream'], false, 'created without stream');
    assert.deepEqual(body['background_options'], { completion_window: '8h' });
    assert.equal(fake.calls.stream, 0);
    const polls = clock.sleeps.filter((ms) => ms < HOUR);
    assert.equal(Math.max(...polls), 300_000, 'healthy polls up to 5 min apart');
    // The default 30-second cap would spend ~515 polls on four hours; the 5-minute cap about 110.
    assert.ok(fake.calls.retrieve < 120, `polls: ${fake.calls.retrieve}`);
    assert.equal((await journal.get('flex'))?.windowMs, 8 * HOUR);
    assert.equal(outcomes.length, 1);
    await journal.close();
  });

  test('an explicit maxDelayMs still wins; stream: true is refused before anything is sent', async () => {
    const { clock, fake, journal, opts } = setup();
    fake.defaults = { durationMs: HOUR };
    await clock.run(createAndWait(fake, flex('2h'), opts({ maxDelayMs: 60_000 })));
    assert.equal(Math.max(...clock.sleeps.filter((ms) => ms < HOUR)), 60_000);
    for (const bad of [{ ...flex('2h'), stream: true }, flex('soonest')]) {
      const stream = 'stream' in bad ? undefined : true;
      const err = await createAndWait(fake, bad, opts(stream !== undefined ? { stream } : {})).catch((e: unknown) => e);
      assert.ok(err instanceof TypeError, String(err));
      assert.match((err as Error).message, /^createAndWait: (params\.stream|options\.stream) must be false or absent for a job with background_options\.completion_window \(the API streams none of those\), got true$/);
    }
    assert.equal(fake.calls.create, 1);
    await journal.close();
  });

  test('the journal keeps a windowed job across restarts: resumed by polling at the long pace, delivered once', async () => {
    const { clock, fake, journal, opts, path } = setup();
    fake.defaults = { durationMs: 3 * HOUR };
    const ac = new AbortController();
    const p = createAndWait(fake, flex('8h'), opts({ jobKey: 'restart', signal: ac.signal }));
    await clock.advance(60_000);
    ac.abort(); // the process goes away; the job keeps running
    await clock.run(p).catch(() => {});
    await journal.close();
    await clock.advance(HOUR);
    const outcomes: JobOutcome[] = [];
    const j2 = openJournal(path, { clock, onResult: (o) => void outcomes.push(o) });
    const before = clock.sleeps.length;
    const report = await clock.run(j2.resumeAll(fake, { timeoutMs: 10 * HOUR, random: () => 0 }));
    assert.equal(report.delivered, 1);
    assert.equal(outcomes[0]?.ok, true);
    assert.equal(fake.calls.stream, 0);
    const polls = clock.sleeps.slice(before).filter((ms) => ms !== j2Lease && ms < HOUR);
    assert.equal(Math.max(...polls), 300_000);
    await j2.close();
  });

  test('an orphan of a windowed job is held for its window plus orphanAfterMs: a late webhook still delivers it', async () => {
    const { clock, fake, journal, outcomes } = setup();
    const t0 = clock.now();
    // The create was sent (the row journaled with its window) and the process died before the answer.
    await journal.store.insert({ key: 'late', kind: 'response', stream: false, windowMs: 2 * HOUR }, t0);
    // 10 minutes (the default orphanAfterMs) pass: not lost, it may still be running.
    await clock.advance(11 * 60_000);
    const r1 = await clock.run(journal.resumeAll(fake, { timeoutMs: 1000 }));
    assert.equal(r1.lost, 0);
    assert.equal((await journal.get('late'))?.state, 'creating');
    // 90 minutes in, its webhook arrives: recovered through metadata.faultline_job.
    await clock.advance(80 * 60_000);
    const id = fake.add({ durationMs: 1000 }, { metadata: { faultline_job: 'late' } });
    await clock.advance(2000);
    assert.equal(await journal.recordObject(fake.snapshot(id)), 'late');
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0]?.ok, true);
    // Another orphan with no webhook is delivered as lost once window + orphanAfterMs has passed.
    await journal.store.insert({ key: 'never', kind: 'response', stream: false, windowMs: 2 * HOUR }, clock.now());
    await clock.advance(2 * HOUR);
    assert.equal((await clock.run(journal.resumeAll(fake, { timeoutMs: 1000 }))).lost, 0);
    await clock.advance(11 * 60_000);
    const r3 = await clock.run(journal.resumeAll(fake, { timeoutMs: 1000 }));
    assert.equal(r3.lost, 1);
    assert.equal(outcomes.at(-1)?.key, 'never');
    await journal.close();
  });
});

/** The journal's lease renewal sleeps a third of its 30 s lease: not a poll. */
const j2Lease = 10_000;

test('a journal file from before window_ms gets the column on open, its rows kept', async () => {
  const { DatabaseSync } = await import('node:sqlite');
  const path = join(dir, 'old.db');
  const db = new DatabaseSync(path);
  db.exec(`CREATE TABLE faultline_jobs (key TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL, object_id TEXT UNIQUE, stream INTEGER NOT NULL DEFAULT 0,
    cursor INTEGER, result TEXT, failure_code TEXT, lost_reason TEXT, lease_owner TEXT, lease_until INTEGER, delivery_attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deadline_at INTEGER)`);
  db.exec(`INSERT INTO faultline_jobs (key, kind, state, object_id, created_at, updated_at) VALUES ('old', 'response', 'pending', 'resp_old', 1, 1)`);
  db.close();
  const j = openJournal(path);
  assert.equal((await j.get('old'))?.objectId, 'resp_old');
  assert.equal((await j.get('old'))?.windowMs, undefined);
  await j.store.insert({ key: 'new', kind: 'response', stream: false, windowMs: 2 * HOUR }, 2);
  assert.equal((await j.get('new'))?.windowMs, 2 * HOUR);
  await j.close();
});

test('against a loopback server: the create is sent without stream, with its window, then polled at the long pace', async () => {
  const clock = createManualClock(1_700_000_000_000);
  let createdAt = 0;
  const response = (status: string) => ({ id: 'resp_flex', object: 'response', created_at: 1_700_000_000, status, background: true, model: 'o3', service_tier: 'flex', error: null, incomplete_details: null, metadata: {}, output: [] });
  const server = await serveLoopback((req, res) => {
    if (req.method === 'POST' && req.url === '/v1/responses') {
      createdAt = clock.now();
      return json(res, 200, response('queued'));
    }
    if (req.method === 'GET' && req.url.startsWith('/v1/responses/resp_flex')) return json(res, 200, response(clock.now() - createdAt >= 4 * HOUR ? 'completed' : 'in_progress'));
    json(res, 404, { error: { message: 'not found', type: 'invalid_request_error', code: null, param: null } });
  });
  try {
    const client = new OpenAI({ apiKey: ['sk', 'test', 'flex', '0000'].join('-'), baseURL: server.url, fetch: server.fetch, maxRetries: 0 });
    const res = await driveIO(clock, server, createAndWait<{ id: string; status: string }>(client as never, flex('8h'), { timeoutMs: 10 * HOUR, clock, random: () => 0 }));
    assert.equal(res.status, 'completed');
    const creates = server.requests.filter((r) => r.method === 'POST');
    assert.equal(creates.length, 1);
    const body = creates[0]!.body as Record<string, unknown>;
    assert.notEqual(body['stream'], true, 'created without stream');
    assert.deepEqual(body['background_options'], { completion_window: '8h' });
    const polls = server.requests.filter((r) => r.method === 'GET');
    assert.ok(polls.every((r) => !r.url.includes('stream=true')), 'never streamed');
    assert.ok(polls.length > 1 && polls.length < 120, `polls: ${polls.length}`);
    assert.equal(Math.max(...clock.sleeps.filter((ms) => ms < HOUR)), 300_000, 'healthy polls up to 5 min apart');
  } finally {
    await server.close();
  }
});
