/**
 * The journal's `resumeAll` is traced: each job it resumes is a wait (`resumeAll {id}`) with its outcome
 * code, in both recording modes, and counted in the waits metric. The jobs are written to a journal file
 * by the real store, then resumed against faultline's mock (in-process) on a manual clock, and against an
 * independent loopback server (node:http) that answers the polls from the wire shapes alone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import OpenAI from 'openai';
import { openJournal, SqliteJournalStore, type JobOutcome } from '../../src/journal/index.ts';
import { createManualClock, createMock, type Mock } from '../../src/mock/index.ts';
import { fakeKey, record, serveLoopback, useAsyncContext, type Recorder } from './harness.ts';

let rec: Recorder | undefined;
afterEach(() => rec?.stop());

/** The loopback server's objects, by path; GET of anything else is a 404 in OpenAI's error shape. */
const objects: Record<string, unknown> = {};
const polls: string[] = [];
const server = serveLoopback((req, res) => {
  const path = (req.url ?? '').split('?')[0]!;
  polls.push(`${req.method} ${path}`);
  const body = objects[path];
  const text = JSON.stringify(body ?? { error: { message: 'No such object', type: 'invalid_request_error', param: null, code: null } });
  res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-request-id': `req_${polls.length}` });
  res.end(text);
});

/** Two background Responses on the mock, the second failing with server_error, each journaled as a pending job. */
async function pendingJobs(): Promise<{ mock: Mock; client: OpenAI; path: string; ids: [string, string]; clock: ReturnType<typeof createManualClock> }> {
  const clock = createManualClock();
  const mock = createMock({ clock, background: { queuedMs: 0, runMs: 1000 }, scenario: [{ match: { path: '/v1/responses', nth: 2 }, fault: { type: 'outcome', status: 'failed', code: 'server_error' } }] });
  const client = new OpenAI({ apiKey: fakeKey(), baseURL: 'http://mock/v1', fetch: mock.fetch, maxRetries: 0 });
  const a = await client.responses.create({ model: 'gpt-4o-mini', input: 'one', background: true });
  const b = await client.responses.create({ model: 'gpt-4o-mini', input: 'two', background: true });
  await clock.advance(5000); // both are terminal on the server now
  const path = join(mkdtempSync(join(tmpdir(), 'faultline-otel-resume-')), 'jobs.db');
  const store = new SqliteJournalStore(path);
  await store.insert({ key: 'job-a', kind: 'response', stream: false, objectId: a.id }, clock.now());
  await store.insert({ key: 'job-b', kind: 'response', stream: false, objectId: b.id }, clock.now());
  await store.close();
  return { mock, client, path, ids: [a.id, b.id], clock };
}

async function resume(path: string, client: OpenAI, clock: ReturnType<typeof createManualClock>): Promise<JobOutcome[]> {
  const outcomes: JobOutcome[] = [];
  const journal = openJournal(path, { clock, onResult: (o) => void outcomes.push(o) });
  try {
    const report = await journal.resumeAll(client, { timeoutMs: 60_000 });
    assert.equal(report.delivered, 2, JSON.stringify(report));
  } finally {
    await journal.close();
  }
  return outcomes;
}

test('resumeAll: one wait span per resumed job, named resumeAll {id}, the failed one with error.type; counted as waits', async () => {
  useAsyncContext();
  const { mock, client, path, ids, clock } = await pendingJobs();
  rec = record();
  try {
    const outcomes = await resume(path, client, clock);
    assert.deepEqual(outcomes.map((o) => o.key).sort(), ['job-a', 'job-b']);
    const waits = rec.spans().filter((s) => s.attributes['faultline.wait.operation'] === 'resumeAll');
    assert.deepEqual(waits.map((s) => s.name).sort(), ids.map((id) => `resumeAll ${id}`).sort());
    const [ok, failed] = ids.map((id) => waits.find((s) => s.attributes['faultline.object_id'] === id)!);
    assert.equal(ok!.attributes['faultline.wait.kind'], 'response');
    assert.equal(ok!.attributes['faultline.object_status'], 'completed');
    assert.equal(ok!.attributes['error.type'], undefined);
    assert.equal(ok!.status.code, SpanStatusCode.UNSET);
    assert.equal(failed!.attributes['faultline.object_status'], 'failed');
    assert.equal(failed!.attributes['error.type'], 'server_error');
    assert.equal(failed!.status.code, SpanStatusCode.ERROR);
    const points = (await rec.points('faultline.background.waits')).filter((p) => p.attributes['faultline.wait.operation'] === 'resumeAll');
    const by = (outcome: string) => points.filter((p) => p.attributes['faultline.outcome'] === outcome).reduce((n, p) => n + (p.value as number), 0);
    assert.equal(by('success'), 1);
    assert.equal(by('server_error'), 1);
  } finally {
    await mock.close();
  }
});

test("resumeAll with record: 'events': one faultline.wait event per job on the caller's span, no span of faultline's own", async () => {
  useAsyncContext();
  const { mock, client, path, ids, clock } = await pendingJobs();
  rec = record('events');
  try {
    const tracer = rec.tracerProvider.getTracer('app');
    await tracer.startActiveSpan('startup', async (span: Span) => {
      try {
        await resume(path, client, clock);
      } finally {
        span.end();
      }
    });
    const spans = rec.spans();
    assert.deepEqual(spans.map((s) => s.name), ['startup']);
    const waits = spans[0]!.events.filter((e) => e.name === 'faultline.wait');
    assert.equal(waits.length, 2);
    for (const w of waits) assert.equal(w.attributes!['faultline.wait.operation'], 'resumeAll');
    const failed = waits.find((w) => w.attributes!['faultline.object_id'] === ids[1])!;
    assert.equal(failed.attributes!['error.type'], 'server_error');
    assert.equal(spans[0]!.status.code, SpanStatusCode.UNSET);
  } finally {
    await mock.close();
  }
});

test('resumeAll against an independent loopback server: a wait span per job, with its code, and one GET per job', async () => {
  const wire = (id: string, status: string, error: unknown) => ({ id, object: 'response', created_at: 1, status, model: 'gpt-4o-mini', output: [], error, incomplete_details: null });
  objects['/v1/responses/resp_lb_ok'] = wire('resp_lb_ok', 'completed', null);
  // A failed background Response: `error` is `{ code, message }` (the Responses API reference's shape).
  objects['/v1/responses/resp_lb_failed'] = wire('resp_lb_failed', 'failed', { code: 'server_error', message: 'Something went wrong while processing the response.' });
  const path = join(mkdtempSync(join(tmpdir(), 'faultline-otel-resume-lb-')), 'jobs.db');
  const clock = createManualClock({ autoAdvance: true });
  const store = new SqliteJournalStore(path);
  await store.insert({ key: 'lb-ok', kind: 'response', stream: false, objectId: 'resp_lb_ok' }, clock.now());
  await store.insert({ key: 'lb-failed', kind: 'response', stream: false, objectId: 'resp_lb_failed' }, clock.now());
  await store.close();
  polls.length = 0;
  rec = record();
  const client = new OpenAI({ apiKey: fakeKey(), baseURL: server.base, maxRetries: 0 });
  const outcomes = await resume(path, client, clock);
  assert.deepEqual(outcomes.map((o) => [o.key, o.ok ? 'ok' : (o.error as { code?: string } | undefined)?.code]).sort(), [['lb-failed', 'server_error'], ['lb-ok', 'ok']]);
  assert.deepEqual(polls.sort(), ['GET /v1/responses/resp_lb_failed', 'GET /v1/responses/resp_lb_ok']);
  const waits = rec.spans().filter((s) => s.attributes['faultline.wait.operation'] === 'resumeAll');
  assert.deepEqual(waits.map((s) => s.name).sort(), ['resumeAll resp_lb_failed', 'resumeAll resp_lb_ok']);
  const failed = waits.find((s) => s.attributes['faultline.object_id'] === 'resp_lb_failed')!;
  assert.equal(failed.attributes['error.type'], 'server_error');
  assert.equal(failed.status.code, SpanStatusCode.ERROR);
  const ok = waits.find((s) => s.attributes['faultline.object_id'] === 'resp_lb_ok')!;
  assert.equal(ok.status.code, SpanStatusCode.UNSET);
});
