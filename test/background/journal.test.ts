import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { Journal, openJournal, type JobOutcome } from '../../src/journal/index.ts';
import { createAndWait, waitForResponse, type WaitOptions } from '../../src/background/wait.ts';
import { ConflictError, RateLimitError, UserAbortError, ExpiredError } from '../../src/core/errors.ts';
import { FakeResponses, resumeSplit } from './fake-client.ts';
import { createManualClock } from '../../src/mock/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'faultline-journal-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const dbPath = (): string => join(dir, `j${++n}.db`);

function setup(path = dbPath()) {
  const clock = createManualClock(1_700_000_000_000);
  const fake = new FakeResponses(clock);
  const outcomes: JobOutcome[] = [];
  const journal = openJournal(path, { clock, onResult: (o) => void outcomes.push(o) });
  const opts = (extra: Partial<WaitOptions> = {}): WaitOptions => ({ timeoutMs: 600_000, clock, random: () => 0.5, journal, ...extra });
  return { clock, fake, journal, outcomes, opts, path };
}

describe('journal with createAndWait', () => {
  test('the id is journaled before any progress; the result is delivered once', async () => {
    const { clock, fake, journal, outcomes, opts } = setup();
    const idsAtFirstProgress: (string | undefined)[] = [];
    let key = '';
    const res = await clock.run(
      createAndWait(fake, { model: 'm', metadata: { mine: 'x' } }, opts({
        jobKey: 'job-1',
        onProgress: (p) => {
          if (idsAtFirstProgress.length === 0) void journal.get('job-1').then((r) => idsAtFirstProgress.push(r?.objectId));
          key = p.id;
        },
      })),
    );
    assert.equal(res.status, 'completed');
    assert.deepEqual(idsAtFirstProgress, [key]);
    const body = [...fake.jobs.values()][0]!.body;
    assert.deepEqual(body['metadata'], { mine: 'x', faultline_job: 'job-1' });
    const row = await journal.get('job-1');
    assert.equal(row?.state, 'delivered');
    assert.equal((row?.result as { status: string }).status, 'completed');
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0]?.ok, true);
    assert.equal(outcomes[0]?.attempt, 1);
    await journal.close();
  });

  test('a terminal failure is delivered with its typed error, and the caller gets it too', async () => {
    const { clock, fake, journal, outcomes, opts } = setup();
    fake.defaults = { final: 'failed', error: { code: 'rate_limit_exceeded', message: 'Rate limit reached' } };
    const err = await clock.run(createAndWait(fake, { model: 'm' }, opts({ stream: false }))).catch((e: unknown) => e);
    assert.ok(err instanceof RateLimitError);
    assert.equal(outcomes.length, 1);
    assert.ok(outcomes[0]?.error instanceof RateLimitError);
    assert.equal(outcomes[0]?.status, 'failed');
    await journal.close();
  });

  test('detach leaves the job pending for resumeAll, which delivers it once', async () => {
    const { clock, fake, journal, outcomes, opts, path } = setup();
    const ac = new AbortController();
    const p = createAndWait(fake, { model: 'm' }, opts({ signal: ac.signal, jobKey: 'k' }));
    await clock.advance(3000);
    ac.abort();
    assert.ok((await clock.run(p).catch((e: unknown) => e)) instanceof UserAbortError);
    assert.equal((await journal.get('k'))?.state, 'pending');
    assert.equal(outcomes.length, 0);
    await journal.close();
    // A new process (a new Journal on the same file) resumes it.
    const outcomes2: JobOutcome[] = [];
    const j2 = openJournal(path, { clock, onResult: (o) => void outcomes2.push(o) });
    const report = await clock.run(j2.resumeAll(fake, { timeoutMs: 600_000, random: () => 0.5 }));
    assert.equal(report.delivered, 1);
    assert.deepEqual(report.unfinished, []);
    assert.equal(outcomes2.length, 1);
    assert.equal(outcomes2[0]?.key, 'k');
    // Streamed job: resumed on the stream from the journaled cursor, not polled.
    assert.equal(fake.calls.retrieve, 0);
    const again = await clock.run(j2.resumeAll(fake, { timeoutMs: 1000 }));
    assert.equal(again.delivered, 0);
    await j2.close();
  });
});

describe('leases', () => {
  test("a dead local holder's jobs are taken over at once", async () => {
    const { clock, fake, journal, outcomes } = setup();
    const id = fake.add({ durationMs: 20_000 });
    const now = clock.now();
    await journal.store.insert({ key: 'dead', kind: 'response', stream: false, objectId: id }, now);
    // A process on this host that no longer exists holds a fresh lease.
    assert.ok(await journal.store.acquireLease('dead', `${hostname()}:999999:dead`, now + 3_600_000, now));
    const report = await clock.run(journal.resumeAll(fake, { timeoutMs: 600_000 }));
    assert.equal(report.delivered, 1);
    assert.equal(outcomes[0]?.id, id);
    assert.ok(clock.now() - now < 60_000, 'did not wait for the hour-long lease');
    await journal.close();
  });

  test('a live remote holder is respected until its lease expires', async () => {
    const { clock, fake, journal, outcomes } = setup();
    const id = fake.add({ durationMs: 5_000 });
    const now = clock.now();
    await journal.store.insert({ key: 'remote', kind: 'response', stream: false, objectId: id }, now);
    await journal.store.acquireLease('remote', 'elsewhere:1:x', now + 45_000, now);
    const report = await clock.run(journal.resumeAll(fake, { timeoutMs: 600_000 }));
    assert.equal(report.delivered, 1);
    assert.equal(outcomes.length, 1);
    assert.ok(clock.now() - now >= 45_000, 'waited for the lease to lapse');
    assert.equal(fake.requestsById.get(id), 1, 'polled only after the take-over (it had finished by then)');
    await journal.close();
  });

  test('two journals on one file split the jobs: each delivered once, each id polled by one owner', async () => {
    const path = dbPath();
    const { clock, fake, journal: a, outcomes: oa } = setup(path);
    const ob: JobOutcome[] = [];
    const b = new Journal({ path, clock, onResult: (o) => void ob.push(o) });
    const [ra, rb] = await resumeSplit(clock, fake, [a, b], [oa, ob], 12);
    assert.ok(ra.delivered > 0 && rb.delivered > 0, `both worked: ${ra.delivered}/${rb.delivered}`);
    await a.close();
    await b.close();
  });

  test('lease renewal keeps a long wait leased; a stolen lease stops the polling', async () => {
    const { clock, fake, journal } = setup();
    const id = fake.add({ durationMs: 200_000 });
    const p = waitForResponse(fake, id, { timeoutMs: 600_000, clock, journal });
    await clock.advance(100_000);
    const row = await journal.get(id);
    assert.equal(row?.leaseOwner, journal.owner);
    assert.ok((row?.leaseUntil ?? 0) > clock.now());
    // Someone forcibly takes it over (as if our lease had lapsed during a long GC pause).
    await journal.store.acquireLease(id, 'thief:1:x', clock.now() + 600_000, clock.now(), journal.owner);
    await clock.advance(20_000);
    const pollsAtTheft = fake.requestsById.get(id) ?? 0;
    // The thief records the result; our waiter reads it from the journal.
    await clock.advance(90_000);
    await journal.store.recordTerminal(id, fake.snapshot(id), undefined, clock.now());
    const res = await clock.run(p);
    assert.equal(res.status, 'completed');
    assert.equal(fake.requestsById.get(id), pollsAtTheft, 'no poll after the lease was lost');
    assert.equal((await journal.get(id))?.state, 'terminal', 'delivery is left to the lease holder');
    await journal.close();
  });
});

describe('orphans and expiry', () => {
  test('an orphan (id never seen) is marked lost after orphanAfterMs and delivered as lost', async () => {
    const path = dbPath();
    const clock = createManualClock(1_700_000_000_000);
    const fake = new FakeResponses(clock);
    const outcomes: JobOutcome[] = [];
    const j = openJournal(path, { clock, orphanAfterMs: 60_000, onResult: (o) => void outcomes.push(o) });
    await j.store.insert({ key: 'orphan', kind: 'response', stream: true }, clock.now());
    const report = await clock.run(j.resumeAll(fake, { timeoutMs: 600_000 }));
    assert.equal(report.lost, 1);
    assert.equal(outcomes[0]?.status, 'lost');
    assert.ok(outcomes[0]?.error instanceof ExpiredError);
    assert.match(outcomes[0]!.error!.message, /orphan/);
    await j.close();
  });

  test('an orphan is recovered by its webhook through metadata.faultline_job', async () => {
    const { clock, fake, journal, outcomes } = setup();
    await journal.store.insert({ key: 'orph', kind: 'response', stream: true }, clock.now());
    const id = fake.add({ durationMs: 1000 }, { metadata: { faultline_job: 'orph' } });
    await clock.advance(2000);
    assert.equal(await journal.recordObject(fake.snapshot(id)), 'orph');
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0]?.id, id);
    assert.equal((await journal.get('orph'))?.state, 'delivered');
    await journal.close();
  });

  test('a job whose Response expired before resume is delivered as lost', async () => {
    const { clock, fake, journal, outcomes } = setup();
    const id = fake.add({ durationMs: 1000, retentionMs: 1000 });
    await journal.store.insert({ key: 'old', kind: 'response', stream: false, objectId: id }, clock.now());
    await clock.advance(5000);
    const report = await clock.run(journal.resumeAll(fake, { timeoutMs: 60_000 }));
    assert.equal(report.delivered, 1);
    assert.equal(report.lost, 1);
    assert.equal(outcomes[0]?.status, 'lost');
    await journal.close();
  });

  test('a handler slower than the lease keeps it: another journal never delivers the job a second time', async () => {
    const { clock, fake, journal: a, path } = setup();
    const id = fake.add({ durationMs: 1000 });
    await a.store.insert({ key: 'slow', kind: 'response', stream: false, objectId: id }, clock.now());
    const delivered: string[] = [];
    a.onResult(async (o) => {
      delivered.push(`A:${o.key}`);
      await clock.sleep(45_000); // 1.5 leases
    });
    const b = openJournal(path, { clock, onResult: (o) => void delivered.push(`B:${o.key}`) });
    const started = a.resumeAll(fake, { timeoutMs: 600_000 });
    // B starts once A is inside its handler, and keeps watching past A's original lease.
    const late = (async () => {
      await clock.sleep(5_000);
      return b.resumeAll(fake, { timeoutMs: 120_000 });
    })();
    const [ra, rb] = await clock.run(Promise.all([started, late]));
    assert.deepEqual(delivered, ['A:slow']);
    assert.equal(ra.delivered, 1);
    assert.equal(rb.delivered, 0);
    assert.equal((await a.get('slow'))?.state, 'delivered');
    await b.close();
    await a.close();
  });

  test('a lease taken over while the handler runs is reported, not counted as delivered; the new holder delivers again', async () => {
    const { clock, fake, journal: a, path } = setup();
    const id = fake.add({ durationMs: 1000 });
    await a.store.insert({ key: 'stolen', kind: 'response', stream: false, objectId: id }, clock.now());
    const lost: string[] = [];
    const seen: string[] = [];
    const thief = 'other-host:1:thief';
    const j: Journal = new Journal({
      store: a.store,
      clock,
      onLeaseLost: (key) => lost.push(key),
      onResult: async (o): Promise<void> => {
        seen.push(`A:${o.attempt}`);
        // A stalled renewal: someone who believes this process dead takes the lease over.
        assert.equal(await a.store.acquireLease(o.key, thief, clock.now() + 30_000, clock.now(), j.owner), true);
      },
    });
    const r1 = await clock.run(j.resumeAll(fake, { timeoutMs: 60_000 }));
    assert.deepEqual(lost, ['stolen']);
    assert.equal(r1.delivered, 0);
    assert.equal((await a.get('stolen'))?.state, 'delivering');
    // The thief's journal finds the row `delivering` under its lease and delivers it (attempt 2).
    const b = openJournal(path, { owner: thief, clock, onResult: (o) => void seen.push(`B:${o.attempt}`) });
    const r2 = await clock.run(b.resumeAll(fake, { timeoutMs: 60_000 }));
    assert.equal(r2.delivered, 1);
    assert.deepEqual(seen, ['A:1', 'B:2']);
    assert.equal((await b.get('stolen'))?.state, 'delivered');
    await b.close();
    await j.close();
  });

  test('a job whose lease another live process holds rejects with a ConflictError (not misuse), before any request', async () => {
    const { clock, fake, journal, opts } = setup();
    const id = fake.add({ durationMs: 60_000 });
    const holder = 'other-host:4242:peer';
    assert.equal(await journal.store.insert({ key: id, kind: 'response', stream: false, objectId: id }, clock.now()), true);
    assert.equal(await journal.store.acquireLease(id, holder, clock.now() + 30_000, clock.now()), true);
    const err = await clock.run(waitForResponse(fake, id, opts())).catch((e: unknown) => e);
    assert.ok(err instanceof ConflictError, String(err));
    assert.equal(err.code, 'conflict');
    assert.equal((err as ConflictError).failure.objectId, id);
    assert.match(err.message, new RegExp(`lease of ${id} is held by another live process \\(other-host:4242\\)`));
    assert.doesNotMatch(err.message, /peer/, 'the holder as host:pid only');
    assert.equal(fake.calls.retrieve, 0);
    assert.equal((await journal.get(id))?.leaseOwner, holder, 'the holder keeps its lease');
    await journal.close();
  });

  test('misuse', async () => {
    assert.throws(() => new Journal({} as never), /^TypeError: Journal: options\.path must be a SQLite file path \(or options\.store a JournalStore\), got undefined$/);
    assert.throws(() => openJournal(dbPath(), { leaseMs: 0 }), /^RangeError: openJournal: options\.leaseMs must be a number of milliseconds > 0, got 0$/);
    // Renamed before 1.0: the old key fails at once, naming the new one.
    assert.throws(() => openJournal(dbPath(), { now: () => 0 } as never), /^TypeError: openJournal: options\.now was renamed to options\.clock \(0\.2\.0\)$/);
    assert.throws(() => openJournal(dbPath(), { sleep: async () => {} } as never), /^TypeError: openJournal: options\.sleep was renamed to options\.clock/);
    assert.throws(() => openJournal(dbPath(), { clock: { now: () => 0 } as never }), /^TypeError: openJournal: options\.clock\.sleep must be a function/);
    assert.throws(() => new Journal({ store: { get: async () => undefined } as never }), /^TypeError: Journal: options\.store must be a JournalStore \(with insert, get, acquireLease/);
    assert.throws(() => openJournal(dbPath(), { onLeaseLost: 'warn' as never }), (e: unknown) => e instanceof TypeError && /onLeaseLost/.test(e.message));
    assert.throws(() => openJournal(dbPath(), { onHandlerError: 1 as never }), (e: unknown) => e instanceof TypeError && /onHandlerError/.test(e.message));
    const j = openJournal(dbPath());
    // The wait option is opaque: only a Journal is one.
    assert.equal(String(j), '[object FaultlineJournal]');
    const fake = new FakeResponses(createManualClock(1_700_000_000_000));
    await assert.rejects(
      waitForResponse(fake, 'resp_1', { timeoutMs: 1, journal: { track: async () => null } as never }),
      /^TypeError: waitForResponse: options\.journal must be a Journal from faultline\/journal \(openJournal\(path\)\), got an object$/,
    );
    await assert.rejects(waitForResponse(fake, 'resp_1', { timeoutMs: 1, hub: {} as never }), /^TypeError: waitForResponse: options\.hub must be a ResultHub \(createResultHub\(\)\), got an object$/);
    assert.equal(fake.calls.retrieve, 0);
    await assert.rejects(j.resumeAll({} as never, { timeoutMs: 1 }), /handler/);
    j.onResult(() => {});
    await assert.rejects(j.resumeAll({} as never, {} as never), /^TypeError: resumeAll: options\.timeoutMs must be a number of milliseconds, or options\.deadline a moment/);
    await assert.rejects(j.resumeAll({} as never, { timeoutMs: 1, abort: 'cancel' } as never), /^RangeError: resumeAll: options\.abort must be one of "detach", got "cancel"$/);
    await assert.rejects(j.resumeAll({} as never, { timeoutMs: 1, onAbort: 'detach' } as never), /^TypeError: resumeAll: options\.onAbort was renamed to options\.abort/);
    await assert.rejects(j.resumeAll({} as never, { timeoutMs: 1, concurrency: 0 }), /^RangeError: resumeAll: options\.concurrency must be an integer from 1 to/);
    await j.close();
  });
});
