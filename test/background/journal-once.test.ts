/**
 * One job, one follower, one create: however many entry points of one process reach a job
 * (createAndWait, waitForResponse, resumeAll), it is followed once and delivered once; and a job key that
 * the journal already knows is adopted, never created a second time.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { openJournal, type JobOutcome } from '../../src/journal/index.ts';
import { createAndWait, waitForResponse, type WaitOptions } from '../../src/background/wait.ts';
import { ConflictError, ExpiredError, RateLimitError } from '../../src/core/errors.ts';
import { FakeResponses } from './fake-client.ts';
import { createManualClock, type ManualClock } from '../../src/mock/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'faultline-once-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function setup() {
  const clock = createManualClock(1_700_000_000_000);
  const fake = new FakeResponses(clock);
  const outcomes: JobOutcome[] = [];
  const leaseLost: string[] = [];
  const journal = openJournal(join(dir, `o${++n}.db`), { clock, onResult: async (o) => {
    outcomes.push(o);
    await clock.sleep(1_000); // a handler that takes a while (a database write)
  }, onLeaseLost: (k) => leaseLost.push(k) });
  const opts = (extra: Partial<WaitOptions> = {}): WaitOptions => ({ timeoutMs: 600_000, clock, random: () => 0.5, journal, ...extra });
  return { clock, fake, journal, outcomes, leaseLost, opts };
}

/** A client whose create takes `ms` of virtual time to answer (the job exists on the server meanwhile). */
function slowCreate(fake: FakeResponses, clock: ManualClock, ms: number) {
  return {
    responses: {
      retrieve: fake.responses.retrieve,
      cancel: fake.responses.cancel,
      create: async (body: Record<string, unknown>, o?: { signal?: AbortSignal }) => {
        await clock.sleep(ms, o?.signal);
        return fake.responses.create(body, o);
      },
    },
  };
}

/** A process on this host that no longer exists. */
const deadOwner = (): string => `${hostname()}:999999:dead`;

describe('one process follows a job once', () => {
  test('resumeAll while createAndWait jobs are in flight joins them: each delivered once, attempt 1, no lease-lost warning', async () => {
    const { clock, fake, journal, outcomes, leaseLost, opts } = setup();
    fake.defaults = { durationMs: 20_000 };
    const client = slowCreate(fake, clock, 2_000);
    const waits = [0, 1, 2, 3].map((i) => createAndWait(client, { model: 'm', input: `j${i}` }, opts({ jobKey: `k${i}`, stream: i % 2 === 0 })));
    for (const w of waits) w.catch(() => {});
    // k0, k1 in flight with their ids journaled; k2, k3 still `creating` when resumeAll starts.
    await clock.advance(3_000);
    const late = [4, 5].map((i) => createAndWait(client, { model: 'm', input: `j${i}` }, opts({ jobKey: `k${i}` })));
    await clock.advance(500);
    assert.equal((await journal.get('k4'))?.state, 'creating');
    const report = await clock.run(journal.resumeAll(fake, { timeoutMs: 600_000, random: () => 0.5 }));
    const results = await clock.run(Promise.all([...waits, ...late]));
    assert.deepEqual(results.map((r) => r.status), results.map(() => 'completed'));
    assert.deepEqual(outcomes.map((o) => o.key).sort(), ['k0', 'k1', 'k2', 'k3', 'k4', 'k5']);
    assert.deepEqual(outcomes.map((o) => o.attempt), outcomes.map(() => 1));
    assert.deepEqual(leaseLost, []);
    assert.deepEqual(report.unfinished, []);
    assert.equal(report.delivered + report.deliveredElsewhere, 6);
    assert.equal(fake.calls.create, 6);
    // Each id followed by one waiter: one stream (no reconnect) for a streamed job; polls at one pace for a polled one.
    for (const [id, job] of fake.jobs) {
      if (job.body['stream'] === true) assert.equal(fake.requestsById.get(id) ?? 0, 0, `${id} was streamed by its create only`);
    }
    // k1 polled at one waiter's pace: as many polls as a lone createAndWait of the same job spends.
    const lone = setup();
    lone.fake.defaults = { durationMs: 20_000 };
    await lone.clock.run(createAndWait(slowCreate(lone.fake, lone.clock, 2_000), { model: 'm' }, lone.opts({ jobKey: 'k1', stream: false })));
    assert.equal(fake.requestsById.get([...fake.jobs.keys()][1]!), lone.fake.calls.retrieve, 'k1 polled by one waiter');
    await lone.journal.close();
    await journal.close();
  });

  test("joining this process's long waits does not hold up resumeAll's workers: a dead peer's job is delivered first", async () => {
    const { clock, fake, journal, outcomes, opts } = setup();
    fake.defaults = { durationMs: 3_600_000 };
    const mine = [0, 1, 2].map((i) => createAndWait(fake, { model: 'm' }, opts({ jobKey: `mine${i}`, stream: i === 0, timeoutMs: 7_200_000 })));
    for (const w of mine) w.catch(() => {});
    await clock.advance(1_000);
    const peerId = fake.add({ durationMs: 20_000 });
    const t0 = clock.now();
    await journal.store.insert({ key: 'peer', kind: 'response', stream: false, objectId: peerId }, t0);
    assert.ok(await journal.store.acquireLease('peer', deadOwner(), t0 + 3_600_000, t0));
    let peerAt = 0;
    journal.onResult(async (o) => {
      outcomes.push(o);
      if (o.key === 'peer') peerAt = clock.now();
    });
    const report = await clock.run(journal.resumeAll(fake, { timeoutMs: 7_200_000, concurrency: 1, random: () => 0.5 }));
    await clock.run(Promise.all(mine));
    assert.equal(outcomes[0]?.key, 'peer');
    assert.ok(peerAt - t0 < 60_000, `the peer's job waited ${peerAt - t0} ms`);
    assert.deepEqual(outcomes.map((o) => o.key).sort(), ['mine0', 'mine1', 'mine2', 'peer']);
    assert.deepEqual(report.unfinished, []);
    assert.equal(report.delivered, 4);
    await journal.close();
  });

  test('waitForResponse on an id that resumeAll follows in this process reads the journal, no second poller', async () => {
    const run = async (join: boolean) => {
      const { clock, fake, journal, outcomes, leaseLost, opts } = setup();
      const id = fake.add({ durationMs: 30_000 });
      await journal.store.insert({ key: 'w', kind: 'response', stream: false, objectId: id }, clock.now());
      const resume = journal.resumeAll(fake, { timeoutMs: 600_000, random: () => 0.5 });
      await clock.advance(5_000);
      const joined = join ? waitForResponse(fake, id, opts()) : Promise.resolve(undefined);
      const [report, res] = await clock.run(Promise.all([resume, joined]));
      await journal.close();
      return { report, res, outcomes, leaseLost, polls: fake.calls.retrieve };
    };
    const alone = await run(false);
    const both = await run(true);
    assert.equal(both.res?.status, 'completed');
    assert.equal(both.report.delivered, 1);
    assert.equal(both.outcomes.length, 1);
    assert.deepEqual(both.leaseLost, []);
    assert.equal(both.polls, alone.polls, 'the joined wait added no poll of its own');
  });
});

describe('a job key names one job', () => {
  test('createAndWait with the key of a row a dead process left pending adopts it: no second create, the old job delivered', async () => {
    const { clock, fake, journal, outcomes, opts } = setup();
    const id = fake.add({ durationMs: 20_000 }, { metadata: { faultline_job: 'paid' } });
    const t0 = clock.now();
    await journal.store.insert({ key: 'paid', kind: 'response', stream: true, objectId: id }, t0);
    await journal.store.setCursor('paid', 0, t0);
    assert.ok(await journal.store.acquireLease('paid', deadOwner(), t0 + 3_600_000, t0));
    const res = await clock.run(createAndWait(fake, { model: 'm', input: 'again' }, opts({ jobKey: 'paid' })));
    assert.equal(fake.calls.create, 0, 'no second paid create');
    assert.equal(res.id, id);
    assert.equal(res.status, 'completed');
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0]?.id, id);
    assert.equal((outcomes[0]?.result as { id: string }).id, id);
    await journal.close();
  });

  test('createAndWait with the key of an orphan (create sent, id never seen) refuses with a ConflictError; nothing created', async () => {
    const { clock, fake, journal, outcomes, opts } = setup();
    const t0 = clock.now();
    await journal.store.insert({ key: 'orphan', kind: 'response', stream: true }, t0);
    assert.ok(await journal.store.acquireLease('orphan', deadOwner(), t0 + 3_600_000, t0));
    const err = await clock.run(createAndWait(fake, { model: 'm' }, opts({ jobKey: 'orphan' }))).catch((e: unknown) => e);
    assert.ok(err instanceof ConflictError, String(err));
    assert.equal(err.code, 'conflict');
    assert.match(err.message, /orphan/);
    assert.match(err.message, /jobKey/);
    assert.equal(fake.calls.create, 0);
    assert.equal(outcomes.length, 0);
    const row = await journal.get('orphan');
    assert.equal(row?.state, 'creating', 'left for its webhook or the orphan rule');
    assert.equal(row?.leaseOwner, undefined, 'the lease was given back');
    await journal.close();
  });

  test('createAndWait with the key of a delivered job settles with the recorded outcome, without a request', async () => {
    const { clock, fake, journal, outcomes, opts } = setup();
    const first = await clock.run(createAndWait(fake, { model: 'm' }, opts({ jobKey: 'once', stream: false })));
    const requests = fake.calls.create + fake.calls.retrieve + fake.calls.stream;
    const again = await clock.run(createAndWait(fake, { model: 'm' }, opts({ jobKey: 'once' })));
    assert.equal(again.id, first.id);
    assert.equal(again.status, 'completed');
    assert.equal(fake.calls.create + fake.calls.retrieve + fake.calls.stream, requests);
    assert.equal(outcomes.length, 1, 'not delivered again');
    // A failed job's key rejects with its typed error; a lost one's with ExpiredError.
    fake.defaults = { final: 'failed', error: { code: 'rate_limit_exceeded', message: 'Rate limit reached' } };
    await clock.run(createAndWait(fake, { model: 'm' }, opts({ jobKey: 'bad', stream: false }))).catch(() => {});
    assert.ok((await clock.run(createAndWait(fake, { model: 'm' }, opts({ jobKey: 'bad' })).catch((e: unknown) => e))) instanceof RateLimitError);
    await journal.store.insert({ key: 'gone', kind: 'response', stream: false }, clock.now());
    await journal.store.markLost('gone', 'orphan', clock.now());
    await clock.run(journal.resumeAll(fake, { timeoutMs: 1000 }));
    assert.ok((await clock.run(createAndWait(fake, { model: 'm' }, opts({ jobKey: 'gone' })).catch((e: unknown) => e))) instanceof ExpiredError);
    assert.equal(fake.calls.create, 2);
    await journal.close();
  });

  test('two createAndWait calls with one key in one process: one create, both get the result, one delivery', async () => {
    const { clock, fake, journal, outcomes, leaseLost, opts } = setup();
    const client = slowCreate(fake, clock, 2_000);
    const a = createAndWait(client, { model: 'm' }, opts({ jobKey: 'same' }));
    await clock.advance(500);
    const b = createAndWait(client, { model: 'm' }, opts({ jobKey: 'same' }));
    const [ra, rb] = await clock.run(Promise.all([a, b]));
    assert.equal(fake.calls.create, 1);
    assert.equal(ra.id, rb.id);
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0]?.attempt, 1);
    assert.deepEqual(leaseLost, []);
    await journal.close();
  });

  test('a joined wait takes the job over when the wait it joined ends without a result (aborted)', async () => {
    const { clock, fake, journal, outcomes, leaseLost, opts } = setup();
    fake.defaults = { durationMs: 60_000 };
    const ac = new AbortController();
    const a = createAndWait(fake, { model: 'm' }, opts({ jobKey: 'handover', signal: ac.signal, stream: false }));
    await clock.advance(5_000);
    const b = createAndWait(fake, { model: 'm' }, opts({ jobKey: 'handover' }));
    await clock.advance(5_000);
    const pollsBefore = fake.calls.retrieve;
    ac.abort();
    const [ea, rb] = await clock.run(Promise.all([a.catch((e: unknown) => e), b]));
    assert.equal((ea as { code?: string }).code, 'aborted');
    assert.equal(rb.status, 'completed');
    assert.ok(fake.calls.retrieve > pollsBefore, 'the joined wait polled after the take-over');
    assert.equal(fake.calls.create, 1);
    assert.equal(outcomes.length, 1);
    assert.deepEqual(leaseLost, []);
    await journal.close();
  });

  test('a join is bounded by its own deadline and signal', async () => {
    const { clock, fake, journal, opts } = setup();
    fake.defaults = { durationMs: 300_000 };
    const a = createAndWait(fake, { model: 'm' }, opts({ jobKey: 'long', stream: false }));
    a.catch(() => {});
    await clock.advance(1_000);
    const t0 = clock.now();
    const timedOut = await clock.run(createAndWait(fake, { model: 'm' }, opts({ jobKey: 'long', timeoutMs: 30_000 })).catch((e: unknown) => e));
    assert.equal((timedOut as { code?: string }).code, 'timeout');
    assert.equal(clock.now() - t0, 30_000);
    const ac = new AbortController();
    const aborted = createAndWait(fake, { model: 'm' }, opts({ jobKey: 'long', signal: ac.signal })).catch((e: unknown) => e);
    await clock.advance(2_000);
    ac.abort();
    assert.equal(((await clock.run(aborted)) as { code?: string }).code, 'aborted');
    assert.equal(fake.calls.create, 1);
    assert.equal((await clock.run(a)).status, 'completed');
    await journal.close();
  });

  test('a key whose outcome is journaled but undelivered (a process died before delivering) settles from the journal, no request', async () => {
    const { clock, fake, journal, outcomes, opts } = setup();
    const id = fake.add({ durationMs: 1000, retentionMs: 1000 });
    const t0 = clock.now();
    await journal.store.insert({ key: 'kept', kind: 'response', stream: false, objectId: id }, t0);
    await clock.advance(5_000); // terminal, and already gone from the server (retention)
    await journal.store.recordTerminal('kept', fake.snapshot(id, t0 + 2_000), undefined, clock.now());
    assert.ok(await journal.store.acquireLease('kept', deadOwner(), clock.now() + 3_600_000, clock.now()));
    const before = fake.calls.retrieve + fake.calls.create;
    const res = await clock.run(createAndWait(fake, { model: 'm' }, opts({ jobKey: 'kept' })));
    assert.equal(res.id, id);
    assert.equal(res.status, 'completed');
    assert.equal(fake.calls.retrieve + fake.calls.create, before, 'no request');
    assert.equal(outcomes.length, 1);
    assert.equal((await journal.get('kept'))?.state, 'delivered');
    await journal.close();
  });
});
