/**
 * SqliteJournalStore records its schema version in `PRAGMA user_version` and migrates files written
 * before it did (schema 1 without `window_ms`, schema 2 without a recorded version), keeping their jobs;
 * a file of a newer schema is refused, untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { JournalSchemaError, SqliteJournalStore } from '../../src/journal/sqlite.ts';
import { openJournal } from '../../src/journal/index.ts';

const V1_TABLE = `CREATE TABLE faultline_jobs (key TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL, object_id TEXT UNIQUE, stream INTEGER NOT NULL DEFAULT 0, cursor INTEGER, result TEXT, failure_code TEXT, lost_reason TEXT, lease_owner TEXT, lease_until INTEGER, delivery_attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deadline_at INTEGER)`;

function file(name: string): string {
  return join(mkdtempSync(join(tmpdir(), 'faultline-schema-')), name);
}

/** The file's user_version and the columns of faultline_jobs, read with a plain connection. */
function inspect(path: string): { version: number; columns: string[] } {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const version = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
    const columns = (db.prepare('PRAGMA table_info(faultline_jobs)').all() as { name: string }[]).map((c) => c.name);
    return { version, columns };
  } finally {
    db.close();
  }
}

test('a new file records schema 2 in user_version; reopening it changes nothing', async () => {
  const path = file('new.db');
  const store = new SqliteJournalStore(path);
  await store.insert({ key: 'k', kind: 'response', stream: false, objectId: 'resp_1', windowMs: 500 }, 1);
  await store.close();
  assert.equal(inspect(path).version, 2);
  const again = new SqliteJournalStore(path);
  assert.equal((await again.get('k'))?.windowMs, 500);
  await again.close();
  assert.equal(inspect(path).version, 2);
  const memory = new SqliteJournalStore(':memory:');
  await memory.close();
});

test('a schema-1 file without a version gets window_ms and user_version 2; its jobs are kept', async () => {
  const path = file('v1.db');
  const db = new DatabaseSync(path);
  db.exec(`${V1_TABLE}; INSERT INTO faultline_jobs (key, kind, state, object_id, created_at, updated_at) VALUES ('old', 'batch', 'pending', 'batch_1', 1, 2);`);
  db.close();
  assert.equal(inspect(path).version, 0);
  assert.ok(!inspect(path).columns.includes('window_ms'));
  const store = new SqliteJournalStore(path);
  const job = await store.get('old');
  assert.equal(job?.objectId, 'batch_1');
  assert.equal(job?.windowMs, undefined);
  assert.ok(await store.insert({ key: 'new', kind: 'response', stream: false, windowMs: 10 }, 3));
  assert.equal((await store.get('new'))?.windowMs, 10);
  await store.close();
  const after = inspect(path);
  assert.equal(after.version, 2);
  assert.ok(after.columns.includes('window_ms'));
});

test('a schema-2 file without a version only gets its version recorded (no second window_ms column)', async () => {
  const path = file('v2.db');
  const db = new DatabaseSync(path);
  db.exec(`${V1_TABLE.replace('deadline_at INTEGER)', 'deadline_at INTEGER, window_ms INTEGER)')}; INSERT INTO faultline_jobs (key, kind, state, created_at, updated_at, window_ms) VALUES ('w', 'response', 'creating', 1, 1, 42);`);
  db.close();
  const store = new SqliteJournalStore(path);
  assert.equal((await store.get('w'))?.windowMs, 42);
  await store.close();
  const after = inspect(path);
  assert.equal(after.version, 2);
  assert.equal(after.columns.filter((c) => c === 'window_ms').length, 1);
});

test('a file recorded at schema 1 is migrated by the version, not the columns', async () => {
  const path = file('v1-recorded.db');
  const db = new DatabaseSync(path);
  db.exec(`${V1_TABLE}; PRAGMA user_version = 1;`);
  db.close();
  await new SqliteJournalStore(path).close();
  assert.equal(inspect(path).version, 2);
  assert.ok(inspect(path).columns.includes('window_ms'));
});

test('path is checked with the one misuse format', () => {
  for (const bad of ['', 5, undefined, null]) {
    assert.throws(() => new SqliteJournalStore(bad as never), (e: unknown) => e instanceof TypeError && /^SqliteJournalStore: path must be a non-empty file path, got /.test(e.message), String(bad));
  }
});

test('a file of a newer schema is refused with JournalSchemaError and left exactly as it was', async () => {
  const path = file('newer.db');
  const db = new DatabaseSync(path);
  // What a later faultline might write: a column this one does not know, and its version.
  db.exec(`${V1_TABLE}; ALTER TABLE faultline_jobs ADD COLUMN window_ms INTEGER; ALTER TABLE faultline_jobs ADD COLUMN future TEXT NOT NULL DEFAULT 'x';
    INSERT INTO faultline_jobs (key, kind, state, object_id, created_at, updated_at) VALUES ('paid', 'response', 'pending', 'resp_9', 1, 2);
    PRAGMA user_version = 3;`);
  db.close();
  const before = readFileSync(path);
  for (const open of [() => new SqliteJournalStore(path), () => openJournal(path)]) {
    assert.throws(open, (e: unknown) => {
      assert.ok(e instanceof JournalSchemaError);
      assert.equal(e.code, 'FAULTLINE_JOURNAL_SCHEMA');
      assert.equal(e.found, 3);
      assert.equal(e.supported, 2);
      assert.match(e.message, /schema version 3, newer than this faultline's 2; upgrade faultline/);
      return true;
    });
  }
  assert.equal(inspect(path).version, 3);
  assert.ok(readFileSync(path).equals(before), 'not a byte of the file changed');
  // The refused store closed its connection: the file can be removed and reopened at once.
  const plain = new DatabaseSync(path);
  assert.equal((plain.prepare('SELECT object_id FROM faultline_jobs').get() as { object_id: string }).object_id, 'resp_9');
  plain.close();
});
