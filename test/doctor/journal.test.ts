/**
 * `faultline doctor --journal`: a journal written by the real `SqliteJournalStore`, read back read-only:
 * schema version, unfinished jobs by state, leases held, leases of a dead process, expired leases.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { DOCTOR_EXIT } from '../../src/cli/doctor/index.ts';
import { SqliteJournalStore } from '../../src/journal/index.ts';
import { createManualClock } from '../../src/mock/index.ts';
import { check, doctorJson, emptyDir, testDeps } from './helpers.ts';

const offline = { lookup: async (): Promise<never> => Promise.reject(Object.assign(new Error('offline'), { code: 'ENOTFOUND' })) };

/** No key and no network (those checks fail first, which these tests ignore): the journal line. */
async function journalCheck(path: string, overrides: Parameters<typeof testDeps>[0] = {}) {
  const { code, report } = await doctorJson(['--journal', path], testDeps({ ...offline, ...overrides }));
  return { code, journal: check(report, 'journal'), report };
}

function digest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

test('a journal with unfinished jobs, a live lease, a dead process\'s lease and an expired lease', async () => {
  const clock = createManualClock();
  const path = join(emptyDir(), 'jobs.db');
  const store = new SqliteJournalStore(path);
  const now = clock.now();
  for (const key of ['a', 'b', 'c', 'd', 'e']) await store.insert({ key, kind: 'response', stream: false, ...(key !== 'a' ? { objectId: `resp_${key}` } : {}) }, now);
  await store.recordTerminal('e', { id: 'resp_e', status: 'completed' }, undefined, now);
  await store.acquireLease('e', 'test-host:1:x', now + 1000, now);
  assert.ok(await store.claimDelivery('e', 'test-host:1:x', now, now + 1000));
  assert.ok(await store.markDelivered('e', 'test-host:1:x', now));
  await store.acquireLease('b', 'test-host:4242:live', now + 60_000, now); // alive (isAlive says so)
  await store.acquireLease('c', 'test-host:4343:gone', now + 60_000, now); // dead on this host
  await store.acquireLease('d', 'other-host:4343:far', now - 1, now - 10); // expired
  await store.close();
  const before = digest(path);

  const { code, journal } = await journalCheck(path, { clock, journal: { hostname: 'test-host', isAlive: (pid) => pid !== 4343 } });
  assert.equal(code, DOCTOR_EXIT.credentials); // no key set (checked first); the journal only warns
  assert.equal(journal.status, 'warn');
  assert.equal(journal.data.schemaVersion, 2);
  assert.deepEqual(journal.data.unfinished, { creating: 1, pending: 3 });
  assert.equal(journal.data.unfinishedTotal, 4);
  assert.equal(journal.data.leased, 2);
  assert.equal(journal.data.leasedByDeadProcess, 1);
  assert.equal(journal.data.leasesExpired, 1);
  assert.match(journal.summary, /schema 2 · 4 unfinished \(1 creating, 3 pending\) · 2 leased · 1 by a dead process · 1 expired lease/);
  assert.match(journal.fix, /resumeAll/);
  // Read-only: the file is byte for byte what the store left.
  assert.equal(digest(path), before);

  // The same holder on another machine is not judged: only this host's processes can be checked.
  const elsewhere = await journalCheck(path, { clock, journal: { hostname: 'not-test-host', isAlive: () => false } });
  assert.equal(elsewhere.journal.data.leasedByDeadProcess, 0);
  assert.equal(elsewhere.journal.status, 'ok');
});

test('the real liveness rule: this process is alive, a finished child is not', async () => {
  const path = join(emptyDir(), 'jobs.db');
  const store = new SqliteJournalStore(path);
  const { spawnSync } = await import('node:child_process');
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(child.stdout);
  await store.insert({ key: 'mine', kind: 'response', stream: false, objectId: 'resp_1' }, Date.now());
  await store.insert({ key: 'theirs', kind: 'response', stream: false, objectId: 'resp_2' }, Date.now());
  await store.acquireLease('mine', `${hostname()}:${process.pid}:me`, Date.now() + 600_000, Date.now());
  await store.acquireLease('theirs', `${hostname()}:${deadPid}:gone`, Date.now() + 600_000, Date.now());
  await store.close();
  const { defaultDeps } = await import('../../src/cli/doctor/index.ts');
  const { journal } = await journalCheck(path, { journal: defaultDeps().journal });
  assert.equal(journal.data.leased, 2);
  assert.equal(journal.data.leasedByDeadProcess, 1);
});

test('an empty journal is ok; a schema-1 file (before window_ms) is reported and left as it is', async () => {
  const dir = emptyDir();
  const fresh = join(dir, 'fresh.db');
  await new SqliteJournalStore(fresh).close();
  let r = await journalCheck(fresh);
  assert.equal(r.journal.status, 'ok');
  assert.match(r.journal.summary, /^schema 2 · no unfinished job · 0 leased$/);
  assert.equal(r.journal.data.schemaVersionFrom, 'user_version');

  const old = join(dir, 'old.db');
  const db = new DatabaseSync(old);
  db.exec(`CREATE TABLE faultline_jobs (key TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL, object_id TEXT UNIQUE, stream INTEGER NOT NULL DEFAULT 0, cursor INTEGER, result TEXT, failure_code TEXT, lost_reason TEXT, lease_owner TEXT, lease_until INTEGER, delivery_attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deadline_at INTEGER);
           INSERT INTO faultline_jobs (key, kind, state, created_at, updated_at) VALUES ('x', 'batch', 'pending', 1, 1);`);
  db.close();
  r = await journalCheck(old);
  assert.equal(r.journal.data.schemaVersion, 1);
  assert.equal(r.journal.data.schemaVersionFrom, 'columns');
  assert.match(r.journal.summary, /schema 1 \(no version recorded, read from the columns; upgraded to 2 on the next open\) · 1 unfinished \(1 pending\)/);
  const columns = (new DatabaseSync(old, { readOnly: true }).prepare('PRAGMA table_info(faultline_jobs)').all() as { name: string }[]).map((c) => c.name);
  assert.ok(!columns.includes('window_ms'), 'the doctor migrated the file');
});

test('journal failures: exit 10 for a missing file, a file that is not a journal, and no node:sqlite', async () => {
  const dir = emptyDir();
  const ok = { lookup: async () => [{ address: '127.0.0.1', family: 4 }], fetch: async () => new Response(JSON.stringify({ data: [] }), { status: 200 }) };
  const env = { OPENAI_API_KEY: ['sk', 'proj', 'journal0test0only0'].join('-') };
  const missing = join(dir, 'missing.db');
  let r = await doctorJson(['--journal', missing], testDeps({ ...ok, env }));
  assert.equal(r.code, DOCTOR_EXIT.journal, JSON.stringify(r.report.checks, null, 1));
  assert.equal(check(r.report, 'journal').summary, 'no such file');
  assert.equal(check(r.report, 'journal').code, undefined);
  assert.throws(() => readFileSync(missing), /ENOENT/); // not created

  const text = join(dir, 'notes.db');
  writeFileSync(text, 'not a database at all, just text that is long enough to have a header'.repeat(10));
  r = await doctorJson(['--journal', text], testDeps({ ...ok, env }));
  assert.equal(r.code, DOCTOR_EXIT.journal);
  assert.match(check(r.report, 'journal').summary, /^cannot be read: /);

  const other = join(dir, 'other.db');
  const db = new DatabaseSync(other);
  db.exec('CREATE TABLE t (x)');
  db.close();
  r = await doctorJson(['--journal', other], testDeps({ ...ok, env }));
  assert.equal(r.code, DOCTOR_EXIT.journal);
  assert.match(check(r.report, 'journal').summary, /not a faultline journal/);

  r = await doctorJson(['--journal', other], testDeps({ ...ok, env, hasSqlite: () => false }));
  assert.equal(r.code, DOCTOR_EXIT.journal);
  assert.equal(check(r.report, 'sqlite').status, 'warn');
  assert.equal(check(r.report, 'journal').summary, 'node:sqlite is not available');
});

test('the version is read from PRAGMA user_version; a file of schema 2 that records none is inferred; a newer one is named', async () => {
  const dir = emptyDir();
  // user_version wins over the columns: a file that says 2 is 2 even with a column set that reads as 1.
  const recorded = join(dir, 'recorded.db');
  let db = new DatabaseSync(recorded);
  db.exec(`CREATE TABLE faultline_jobs (key TEXT PRIMARY KEY, state TEXT, lease_owner TEXT, lease_until INTEGER); PRAGMA user_version = 2;`);
  db.close();
  let r = await journalCheck(recorded);
  assert.equal(r.journal.data.schemaVersion, 2);
  assert.equal(r.journal.data.schemaVersionFrom, 'user_version');
  assert.match(r.journal.summary, /^schema 2 · no unfinished job/);

  const unrecorded = join(dir, 'unrecorded.db');
  db = new DatabaseSync(unrecorded);
  db.exec(`CREATE TABLE faultline_jobs (key TEXT PRIMARY KEY, state TEXT, lease_owner TEXT, lease_until INTEGER, window_ms INTEGER);`);
  db.close();
  r = await journalCheck(unrecorded);
  assert.equal(r.journal.data.schemaVersion, 2);
  assert.equal(r.journal.data.schemaVersionFrom, 'columns');
  assert.match(r.journal.summary, /^schema 2 \(no version recorded, read from the columns\) · /);

  const newer = join(dir, 'newer.db');
  db = new DatabaseSync(newer);
  db.exec(`CREATE TABLE faultline_jobs (key TEXT PRIMARY KEY, state TEXT, lease_owner TEXT, lease_until INTEGER); PRAGMA user_version = 7;`);
  db.close();
  r = await journalCheck(newer);
  assert.equal(r.journal.data.schemaVersion, 7);
  assert.match(r.journal.summary, /^schema 7 \(newer than this faultline's 2: upgrade faultline\) · /);
});
