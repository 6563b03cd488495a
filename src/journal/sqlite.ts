/**
 * The embedded journal store: one SQLite database file through `node:sqlite` (no server, no native
 * addon). WAL mode lets several processes on one machine share the file; every transition is a single
 * UPDATE with its precondition in the WHERE clause, so SQLite's write lock makes it a compare-and-set.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { JobKind, JobRecord, JobState, JournalStore, NewJob } from './store.ts';
import { count, misuse, optionsObject, rejectUnknown } from '../internal/options.ts';
import { inferSchemaVersion, JOURNAL_SCHEMA_VERSION } from './schema.ts';

/**
 * A journal file written by a newer faultline (its `PRAGMA user_version` is above
 * {@link JOURNAL_SCHEMA_VERSION}): its rows may carry meaning this faultline cannot read or keep, so
 * writing to it could lose paid work. It is left exactly as it is; `faultline doctor` names it too.
 */
export class JournalSchemaError extends Error {
  /** `'JournalSchemaError'`. */
  override readonly name = 'JournalSchemaError';
  /** `'FAULTLINE_JOURNAL_SCHEMA'`, for a check that does not import the class. */
  readonly code = 'FAULTLINE_JOURNAL_SCHEMA';
  /** The version the file records. */
  readonly found: number;
  /** The newest version this faultline reads. */
  readonly supported: number = JOURNAL_SCHEMA_VERSION;
  constructor(found: number) {
    super(`SqliteJournalStore: the journal file has schema version ${found}, newer than this faultline's ${JOURNAL_SCHEMA_VERSION}; upgrade faultline to open it (the file was not changed)`);
    this.found = found;
  }
}

const SQLITE_STORE_KEYS: ReadonlySet<string> = new Set(['busyTimeoutMs']);

/** Options for {@link SqliteJournalStore}. */
export interface SqliteStoreOptions {
  /**
   * How long a statement waits for another process's write lock before failing, in milliseconds.
   * @default 5000
   */
  busyTimeoutMs?: number;
}

interface Row {
  key: string;
  kind: string;
  state: string;
  object_id: string | null;
  stream: number;
  cursor: number | null;
  result: string | null;
  failure_code: string | null;
  lost_reason: string | null;
  lease_owner: string | null;
  lease_until: number | null;
  delivery_attempts: number;
  created_at: number;
  updated_at: number;
  deadline_at: number | null;
  window_ms: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS faultline_jobs (
  key TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  object_id TEXT UNIQUE,
  stream INTEGER NOT NULL DEFAULT 0,
  cursor INTEGER,
  result TEXT,
  failure_code TEXT,
  lost_reason TEXT,
  lease_owner TEXT,
  lease_until INTEGER,
  delivery_attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deadline_at INTEGER,
  window_ms INTEGER
);
CREATE INDEX IF NOT EXISTS faultline_jobs_state ON faultline_jobs(state);
CREATE TABLE IF NOT EXISTS faultline_webhooks (
  webhook_id TEXT PRIMARY KEY,
  seen_at INTEGER NOT NULL
);
`;

function toRecord(row: Row): JobRecord {
  return {
    key: row.key,
    kind: row.kind as JobKind,
    state: row.state as JobState,
    stream: row.stream === 1,
    deliveryAttempts: row.delivery_attempts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.object_id !== null ? { objectId: row.object_id } : {}),
    ...(row.cursor !== null ? { cursor: row.cursor } : {}),
    ...(row.result !== null ? { result: JSON.parse(row.result) as unknown } : {}),
    ...(row.failure_code !== null ? { failureCode: row.failure_code } : {}),
    ...(row.lost_reason !== null ? { lostReason: row.lost_reason } : {}),
    ...(row.lease_owner !== null ? { leaseOwner: row.lease_owner } : {}),
    ...(row.lease_until !== null ? { leaseUntil: row.lease_until } : {}),
    ...(row.deadline_at !== null ? { deadlineAt: row.deadline_at } : {}),
    ...(row.window_ms !== null && row.window_ms !== undefined ? { windowMs: row.window_ms } : {}),
  };
}

/** A {@link JournalStore} in one SQLite file. */
export class SqliteJournalStore implements JournalStore {
  readonly #db: DatabaseSync;
  readonly #stmts = new Map<string, StatementSync>();

  /**
   * Open (creating if needed) the database at `path`; `':memory:'` gives a private in-memory journal. A
   * file of an older schema is migrated, and the schema version is kept in `PRAGMA user_version`.
   * @throws TypeError when `path` is not a non-empty string (`SqliteJournalStore: path must be a non-empty file path, got …`).
   */
  constructor(path: string, options: SqliteStoreOptions = {}) {
    if (typeof path !== 'string' || path === '') throw misuse('type', 'SqliteJournalStore', '#path', 'a non-empty file path', path);
    // A whole number: it is written into the PRAGMA, and SQLite's busy timeout is a C int.
    const o = optionsObject('SqliteJournalStore', options);
    rejectUnknown('SqliteJournalStore', o, SQLITE_STORE_KEYS);
    const busy = count('SqliteJournalStore', 'busyTimeoutMs', o['busyTimeoutMs'], { default: 5000, max: 2_147_483_647 });
    this.#db = new DatabaseSync(path);
    this.#db.exec(`PRAGMA busy_timeout = ${busy};`);
    try {
      // Before anything writes (even the journal mode is written into the file's header).
      const found = this.#recorded();
      if (found > JOURNAL_SCHEMA_VERSION) throw new JournalSchemaError(found);
      if (path !== ':memory:') this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
      this.#migrate(found);
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  #recorded(): number {
    return Number((this.#db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
  }

  /**
   * Creates the tables, or brings an older file up to {@link JOURNAL_SCHEMA_VERSION}, and records the
   * version in `PRAGMA user_version`. One write transaction: two processes opening one old file
   * migrate it once (the second waits for the lock, then finds the version written).
   */
  #migrate(found: number): void {
    if (found >= JOURNAL_SCHEMA_VERSION) return;
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      let version = this.#recorded();
      // A newer faultline may have written it between the first reading and the lock.
      if (version > JOURNAL_SCHEMA_VERSION) throw new JournalSchemaError(version);
      if (version === 0) {
        // No version recorded: a new file, or one written before the version was (read from its columns).
        const columns = (this.#db.prepare('PRAGMA table_info(faultline_jobs)').all() as { name: string }[]).map((c) => c.name);
        version = columns.length === 0 ? JOURNAL_SCHEMA_VERSION : inferSchemaVersion(columns);
      }
      this.#db.exec(SCHEMA);
      // 1 → 2: the completion window (absent: no window).
      if (version < 2) this.#db.exec('ALTER TABLE faultline_jobs ADD COLUMN window_ms INTEGER');
      this.#db.exec(`PRAGMA user_version = ${JOURNAL_SCHEMA_VERSION}`);
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  #stmt(sql: string): StatementSync {
    let s = this.#stmts.get(sql);
    if (s === undefined) {
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  #changes(sql: string, ...params: (string | number | null)[]): boolean {
    return Number(this.#stmt(sql).run(...params).changes) > 0;
  }

  async insert(job: NewJob, now: number): Promise<boolean> {
    return this.#changes(
      `INSERT OR IGNORE INTO faultline_jobs (key, kind, state, object_id, stream, created_at, updated_at, deadline_at, window_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      job.key,
      job.kind,
      job.objectId !== undefined ? 'pending' : 'creating',
      job.objectId ?? null,
      job.stream ? 1 : 0,
      now,
      now,
      job.deadlineAt ?? null,
      job.windowMs ?? null,
    );
  }

  async attachId(key: string, objectId: string, now: number): Promise<void> {
    this.#stmt(
      `UPDATE faultline_jobs SET object_id = ?, state = CASE WHEN state = 'creating' THEN 'pending' ELSE state END, updated_at = ?
       WHERE key = ? AND (object_id IS NULL OR object_id = ?)`,
    ).run(objectId, now, key, objectId);
  }

  async setCursor(key: string, cursor: number, now: number): Promise<void> {
    this.#stmt(`UPDATE faultline_jobs SET cursor = ?, updated_at = ? WHERE key = ? AND (cursor IS NULL OR cursor < ?)`).run(cursor, now, key, cursor);
  }

  async recordTerminal(key: string, result: unknown, failureCode: string | undefined, now: number): Promise<boolean> {
    return this.#changes(
      `UPDATE faultline_jobs SET state = 'terminal', result = ?, failure_code = ?, updated_at = ?
       WHERE key = ? AND state IN ('creating', 'pending')`,
      JSON.stringify(result),
      failureCode ?? null,
      now,
      key,
    );
  }

  async markLost(key: string, reason: string, now: number): Promise<boolean> {
    return this.#changes(
      `UPDATE faultline_jobs SET state = 'lost', lost_reason = ?, updated_at = ? WHERE key = ? AND state IN ('creating', 'pending')`,
      reason,
      now,
      key,
    );
  }

  async get(key: string): Promise<JobRecord | undefined> {
    const row = this.#stmt('SELECT * FROM faultline_jobs WHERE key = ?').get(key) as Row | undefined;
    return row === undefined ? undefined : toRecord(row);
  }

  async findByObjectId(objectId: string): Promise<JobRecord | undefined> {
    const row = this.#stmt('SELECT * FROM faultline_jobs WHERE object_id = ?').get(objectId) as Row | undefined;
    return row === undefined ? undefined : toRecord(row);
  }

  async listUnfinished(): Promise<JobRecord[]> {
    const rows = this.#stmt(`SELECT * FROM faultline_jobs WHERE state != 'delivered' ORDER BY created_at, key`).all() as unknown as Row[];
    return rows.map(toRecord);
  }

  async acquireLease(key: string, owner: string, until: number, now: number, stealFrom?: string): Promise<boolean> {
    return this.#changes(
      `UPDATE faultline_jobs SET lease_owner = ?, lease_until = ?
       WHERE key = ? AND state != 'delivered'
         AND (lease_owner IS NULL OR lease_owner = ? OR lease_until <= ? OR lease_owner = ?)`,
      owner,
      until,
      key,
      owner,
      now,
      stealFrom ?? null,
    );
  }

  async renewLease(key: string, owner: string, until: number): Promise<boolean> {
    return this.#changes(`UPDATE faultline_jobs SET lease_until = ? WHERE key = ? AND lease_owner = ?`, until, key, owner);
  }

  async releaseLease(key: string, owner: string): Promise<void> {
    this.#stmt(`UPDATE faultline_jobs SET lease_owner = NULL, lease_until = NULL WHERE key = ? AND lease_owner = ?`).run(key, owner);
  }

  async claimDelivery(key: string, owner: string, now: number, leaseUntil: number): Promise<boolean> {
    return this.#changes(
      `UPDATE faultline_jobs SET state = 'delivering', delivery_attempts = delivery_attempts + 1, updated_at = ?, lease_until = ?
       WHERE key = ? AND lease_owner = ? AND state IN ('terminal', 'lost', 'delivering')`,
      now,
      leaseUntil,
      key,
      owner,
    );
  }

  async markDelivered(key: string, owner: string, now: number): Promise<boolean> {
    return this.#changes(
      `UPDATE faultline_jobs SET state = 'delivered', lease_owner = NULL, lease_until = NULL, updated_at = ?
       WHERE key = ? AND lease_owner = ? AND state = 'delivering'`,
      now,
      key,
      owner,
    );
  }

  async rememberWebhook(webhookId: string, now: number): Promise<boolean> {
    return this.#changes('INSERT OR IGNORE INTO faultline_webhooks (webhook_id, seen_at) VALUES (?, ?)', webhookId, now);
  }

  async forgetWebhook(webhookId: string): Promise<void> {
    this.#stmt('DELETE FROM faultline_webhooks WHERE webhook_id = ?').run(webhookId);
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }
}
