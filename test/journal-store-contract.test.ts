/**
 * The JournalStore contract, run on every store: SQLite (one file) and Redis (many machines). The same
 * cases drive the store directly (each compare-and-set transition) and through the Journal
 * (createAndWait, resumeAll, leases, orphans, handler failures), with a second store instance on the
 * same backing standing in for a second process. Time is virtual; the one real wait is Redis I/O, which
 * the clock lets settle before it moves (see IoClock).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { Journal, type JobOutcome, type JournalOptions } from '../src/journal/index.ts';
import { SqliteJournalStore } from '../src/journal/sqlite.ts';
import type { JournalStore } from '../src/journal/store.ts';
import { RedisJournalStore } from '../src/redis/journal-store.ts';
import { createAndWait, type WaitOptions } from '../src/background/wait.ts';
import { ExpiredError, UserAbortError } from '../src/core/errors.ts';
import { FakeResponses, resumeSplit } from './background/fake-client.ts';
import { createManualClock, type ManualClock } from '../src/mock/index.ts';
import { anyRedis, redisSkip, uniqueKey } from './redis/harness.ts';

/** A manual clock that counts store calls in flight, so virtual time never moves while one is on the wire. */
interface IoClock extends ManualClock {
  inflight: number;
  done(): void;
}

function ioClock(): IoClock {
  const idle: (() => void)[] = [];
  const turns = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
  };
  const clock: IoClock = Object.assign(
    createManualClock({
      start: 1_700_000_000_000,
      async settle() {
        for (;;) {
          await turns();
          if (clock.inflight === 0) return;
          await new Promise<void>((r) => idle.push(r));
        }
      },
    }),
    {
      inflight: 0,
      done(): void {
        if (--clock.inflight === 0) for (const r of idle.splice(0)) r();
      },
    },
  );
  return clock;
}

function tracked(store: JournalStore, clock: IoClock): JournalStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        clock.inflight++;
        const p = Promise.resolve((v as (...a: unknown[]) => Promise<unknown>).apply(target, args));
        return p.finally(() => clock.done());
      };
    },
  });
}

interface Backend {
  readonly name: string;
  readonly skip: string | false;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A store on the backing named `shared` (a second call with the same name is a second process). */
  open(shared: string): JournalStore;
}

const dir = mkdtempSync(join(tmpdir(), 'faultline-contract-'));
let redisUrl = '';
let stopRedis: () => Promise<void> = async () => {};
const redisSkipped = redisSkip();

const backends: Backend[] = [
  { name: 'SqliteJournalStore', skip: false, start: async () => {}, stop: async () => rmSync(dir, { recursive: true, force: true }), open: (shared) => new SqliteJournalStore(join(dir, `${shared}.db`)) },
  {
    name: 'RedisJournalStore',
    skip: redisSkipped,
    start: async () => {
      ({ url: redisUrl, stop: stopRedis } = await anyRedis());
    },
    stop: () => stopRedis(),
    open: (shared) => new RedisJournalStore({ url: redisUrl, name: shared }),
  },
];

for (const backend of backends) {
  describe(`JournalStore contract: ${backend.name}`, { skip: backend.skip, timeout: 60_000 }, () => {
    const stores: JournalStore[] = [];
    before(() => backend.start());
    after(async () => {
      await Promise.all(stores.map((s) => s.close()));
      await backend.stop();
    });

    /** One "process": a store on the shared backing and a Journal over it (the one place Journal options are spelled). */
    const world = () => {
      const shared = uniqueKey('j');
      const clock = ioClock();
      const fake = new FakeResponses(clock);
      const store = (): JournalStore => {
        const s = tracked(backend.open(shared), clock);
        stores.push(s);
        return s;
      };
      const journal = (extra: Partial<JournalOptions> = {}, outcomes: JobOutcome[] = []): Journal =>
        new Journal({ store: store(), clock, onResult: (o) => void outcomes.push(o), ...extra });
      const wait = (j: Journal, extra: Partial<WaitOptions> = {}): WaitOptions => ({ timeoutMs: 600_000, clock, random: () => 0.5, journal: j, ...extra });
      return { clock, fake, store, journal, wait };
    };

    test('insert, attachId, setCursor, recordTerminal, markLost: each transition once, first one wins', async () => {
      const { store } = world();
      const s = store();
      const t = 1_700_000_000_000;
      assert.equal(await s.insert({ key: 'a', kind: 'response', stream: true, deadlineAt: t + 9, windowMs: 7 }, t), true);
      assert.equal(await s.insert({ key: 'a', kind: 'response', stream: false }, t), false, 'the key exists');
      assert.deepEqual(await s.get('a'), { key: 'a', kind: 'response', state: 'creating', stream: true, deliveryAttempts: 0, createdAt: t, updatedAt: t, deadlineAt: t + 9, windowMs: 7 });
      await s.attachId('a', 'resp_a', t + 1);
      await s.attachId('a', 'resp_a', t + 2); // idempotent
      await s.attachId('a', 'resp_other', t + 3); // a second id is ignored
      assert.equal((await s.get('a'))?.objectId, 'resp_a');
      assert.equal((await s.get('a'))?.state, 'pending');
      assert.equal((await s.findByObjectId('resp_a'))?.key, 'a');
      assert.equal(await s.findByObjectId('resp_none'), undefined);
      assert.equal(await s.insert({ key: 'b', kind: 'batch', stream: false, objectId: 'resp_a' }, t), false, 'the id belongs to another job');
      await s.setCursor('a', 5, t + 4);
      await s.setCursor('a', 3, t + 5); // never backwards
      assert.equal((await s.get('a'))?.cursor, 5);
      assert.equal(await s.recordTerminal('a', { id: 'resp_a', status: 'failed' }, 'server_error', t + 6), true);
      assert.equal(await s.recordTerminal('a', { id: 'resp_a', status: 'completed' }, undefined, t + 7), false, 'the first terminal object wins');
      const row = await s.get('a');
      assert.deepEqual([row?.state, row?.failureCode, row?.result], ['terminal', 'server_error', { id: 'resp_a', status: 'failed' }]);
      assert.equal(await s.markLost('a', 'too late', t + 8), false, 'a terminal job is not lost');
      assert.equal(await s.insert({ key: 'c', kind: 'batch', stream: false, objectId: 'batch_c' }, t + 1), true);
      assert.equal(await s.markLost('c', 'orphan', t + 9), true);
      assert.equal(await s.markLost('c', 'again', t + 10), false);
      assert.deepEqual([(await s.get('c'))?.state, (await s.get('c'))?.lostReason, (await s.get('c'))?.kind], ['lost', 'orphan', 'batch']);
      assert.deepEqual((await s.listUnfinished()).map((r) => r.key), ['a', 'c'], 'in creation order');
    });

    test('leases: free, own, expired or stolen from a named holder; renew and release only by the holder', async () => {
      const { store } = world();
      const s = store();
      const other = store(); // another process
      const t = 1_700_000_000_000;
      await s.insert({ key: 'l', kind: 'response', stream: false, objectId: 'resp_l' }, t);
      assert.equal(await s.acquireLease('l', 'a', t + 100, t), true, 'free');
      assert.equal(await other.acquireLease('l', 'b', t + 200, t + 50), false, 'held');
      assert.equal(await s.acquireLease('l', 'a', t + 150, t + 60), true, 'own');
      assert.equal(await other.renewLease('l', 'b', t + 500), false, 'not the holder');
      assert.equal(await s.renewLease('l', 'a', t + 300), true);
      assert.equal(await other.acquireLease('l', 'b', t + 400, t + 299), false, 'renewed');
      assert.equal(await other.acquireLease('l', 'b', t + 400, t + 300), true, 'expired (leaseUntil <= now)');
      assert.equal(await s.acquireLease('l', 'a', t + 900, t + 301, 'b'), true, 'stolen from a dead holder');
      await other.releaseLease('l', 'b'); // not the holder: no effect
      assert.equal((await s.get('l'))?.leaseOwner, 'a');
      await s.releaseLease('l', 'a');
      const row = await other.get('l');
      assert.equal(row?.leaseOwner, undefined);
      assert.equal(row?.leaseUntil, undefined);
    });

    test('claiming a delivery extends the lease; only the lease holder claims and marks it delivered', async () => {
      const { store } = world();
      const s = store();
      const t0 = 1_700_000_000_000;
      await s.insert({ key: 'c', kind: 'response', stream: false, objectId: 'resp_c' }, t0);
      assert.equal(await s.acquireLease('c', 'a', t0 + 10, t0), true);
      assert.equal(await s.claimDelivery('c', 'a', t0, t0 + 30_000), false, 'nothing terminal yet');
      await s.recordTerminal('c', { object: 'response', id: 'resp_c', status: 'completed' }, undefined, t0);
      assert.equal(await s.claimDelivery('c', 'b', t0, t0 + 30_000), false, 'not the holder');
      assert.equal(await s.claimDelivery('c', 'a', t0 + 5, t0 + 30_005), true);
      const claimed = await s.get('c');
      assert.deepEqual([claimed?.state, claimed?.leaseOwner, claimed?.leaseUntil, claimed?.deliveryAttempts], ['delivering', 'a', t0 + 30_005, 1]);
      assert.equal(await s.acquireLease('c', 'b', t0 + 60_000, t0 + 11), false);
      assert.equal(await s.markDelivered('c', 'b', t0 + 12), false, 'not the holder');
      assert.equal(await s.markDelivered('c', 'a', t0 + 12), true);
      assert.equal(await s.markDelivered('c', 'a', t0 + 13), false, 'already delivered');
      const done = await s.get('c');
      assert.deepEqual([done?.state, done?.leaseOwner], ['delivered', undefined]);
      assert.equal(await s.acquireLease('c', 'a', t0 + 99, t0 + 14), false, 'a delivered job is never leased');
      assert.deepEqual(await s.listUnfinished(), []);
      assert.equal((await s.findByObjectId('resp_c'))?.state, 'delivered');
    });

    test('webhook ids: the first sighting is true, a duplicate false (in another process too), a forgotten id counts again', async () => {
      const { store } = world();
      const a = store();
      const b = store();
      assert.equal(await a.rememberWebhook('wh_1', 1), true);
      assert.equal(await b.rememberWebhook('wh_1', 2), false);
      await b.forgetWebhook('wh_1');
      assert.equal(await a.rememberWebhook('wh_1', 3), true);
    });

    test('createAndWait journals the id before any progress and delivers once', async () => {
      const { clock, fake, journal, wait } = world();
      const outcomes: JobOutcome[] = [];
      const j = journal({}, outcomes);
      const res = await clock.run(createAndWait(fake, { model: 'm' }, wait(j, { jobKey: 'job-1' })));
      assert.equal(res.status, 'completed');
      const row = await j.get('job-1');
      assert.equal(row?.state, 'delivered');
      assert.equal((row?.result as { status: string }).status, 'completed');
      assert.equal(outcomes.length, 1);
      assert.equal(outcomes[0]?.attempt, 1);
    });

    test('a detached job is resumed by another process, delivered once', async () => {
      const { clock, fake, journal, wait } = world();
      const j = journal();
      const ac = new AbortController();
      const p = createAndWait(fake, { model: 'm' }, wait(j, { signal: ac.signal, jobKey: 'k' }));
      await clock.advance(3000);
      ac.abort();
      assert.ok((await clock.run(p).catch((e: unknown) => e)) instanceof UserAbortError);
      assert.equal((await j.get('k'))?.state, 'pending');
      const outcomes2: JobOutcome[] = [];
      const j2 = journal({}, outcomes2);
      const report = await clock.run(j2.resumeAll(fake, { timeoutMs: 600_000, random: () => 0.5 }));
      assert.equal(report.delivered, 1);
      assert.deepEqual(outcomes2.map((o) => o.key), ['k']);
      const again = await clock.run(j2.resumeAll(fake, { timeoutMs: 1000 }));
      assert.equal(again.delivered, 0);
    });

    test("a dead local holder's job is taken over at once; a live remote holder is waited for", async () => {
      const { clock, fake, journal } = world();
      const outcomes: JobOutcome[] = [];
      const j = journal({}, outcomes);
      const dead = fake.add({ durationMs: 20_000 });
      const remote = fake.add({ durationMs: 5_000 });
      const now = clock.now();
      await j.store.insert({ key: 'dead', kind: 'response', stream: false, objectId: dead }, now);
      await j.store.acquireLease('dead', `${hostname()}:999999:dead`, now + 3_600_000, now);
      await j.store.insert({ key: 'remote', kind: 'response', stream: false, objectId: remote }, now);
      await j.store.acquireLease('remote', 'elsewhere:1:x', now + 45_000, now);
      const report = await clock.run(j.resumeAll(fake, { timeoutMs: 600_000 }));
      assert.equal(report.delivered, 2);
      const at = new Map(outcomes.map((o) => [o.key, o]));
      assert.equal(at.get('dead')?.id, dead);
      assert.ok(clock.now() - now >= 45_000, 'waited for the remote lease to lapse');
      assert.equal(fake.requestsById.get(remote), 1, 'the remote job polled only after the take-over');
    });

    test('two processes split the jobs: each delivered once, each id polled by one owner', async () => {
      const { clock, fake, journal } = world();
      const oa: JobOutcome[] = [];
      const ob: JobOutcome[] = [];
      const a = journal({}, oa);
      const b = journal({}, ob);
      await resumeSplit(clock, fake, [a, b], [oa, ob], 8);
    });

    test('an orphan is marked lost after orphanAfterMs and delivered as lost', async () => {
      const { clock, fake, journal } = world();
      const outcomes: JobOutcome[] = [];
      const j = journal({ orphanAfterMs: 60_000 }, outcomes);
      await j.store.insert({ key: 'orphan', kind: 'response', stream: true }, clock.now());
      const report = await clock.run(j.resumeAll(fake, { timeoutMs: 600_000 }));
      assert.equal(report.lost, 1);
      assert.equal(outcomes[0]?.status, 'lost');
      assert.ok(outcomes[0]?.error instanceof ExpiredError);
      assert.equal((await j.get('orphan'))?.lostReason !== undefined, true);
    });

    test('a handler that throws leaves the job undelivered; the next resume delivers it with attempt 2', async () => {
      const { clock, fake, journal } = world();
      const errors: unknown[] = [];
      const j = journal({ onHandlerError: (e) => errors.push(e), onResult: () => Promise.reject(new Error('db down')) });
      const id = fake.add({ durationMs: 1000 });
      await j.store.insert({ key: 'h', kind: 'response', stream: false, objectId: id }, clock.now());
      const r1 = await clock.run(j.resumeAll(fake, { timeoutMs: 60_000 }));
      assert.equal(r1.delivered, 0);
      assert.equal(errors.length, 1);
      const seen: JobOutcome[] = [];
      j.onResult((o) => void seen.push(o));
      const r2 = await clock.run(j.resumeAll(fake, { timeoutMs: 60_000 }));
      assert.equal(r2.delivered, 1);
      assert.equal(seen[0]?.attempt, 2);
    });

    test('a lease taken over while the handler runs is reported; the new holder delivers again', async () => {
      const { clock, fake, journal } = world();
      const lost: string[] = [];
      const seen: string[] = [];
      const thief = 'other-host:1:thief';
      const id = fake.add({ durationMs: 1000 });
      const j: Journal = journal({
        onLeaseLost: (key) => lost.push(key),
        onResult: async (o): Promise<void> => {
          seen.push(`A:${o.attempt}`);
          assert.equal(await j.store.acquireLease(o.key, thief, clock.now() + 30_000, clock.now(), j.owner), true);
        },
      });
      await j.store.insert({ key: 'stolen', kind: 'response', stream: false, objectId: id }, clock.now());
      const r1 = await clock.run(j.resumeAll(fake, { timeoutMs: 60_000 }));
      assert.deepEqual(lost, ['stolen']);
      assert.equal(r1.delivered, 0);
      const b = journal({ owner: thief, onResult: (o) => void seen.push(`B:${o.attempt}`) });
      const r2 = await clock.run(b.resumeAll(fake, { timeoutMs: 60_000 }));
      assert.equal(r2.delivered, 1);
      assert.deepEqual(seen, ['A:1', 'B:2']);
      assert.equal((await b.get('stolen'))?.state, 'delivered');
    });
  });
}
