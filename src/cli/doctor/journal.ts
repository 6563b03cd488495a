/**
 * `--journal path`: opens the SQLite journal **read-only** (the doctor never creates, migrates or
 * writes a journal), and counts what `resumeAll()` would find. The table and column names are the
 * ones `SqliteJournalStore` writes (src/journal/sqlite.ts); the schema version is the file's
 * `PRAGMA user_version`, or for a file written before it was recorded, inferred from the columns
 * (src/journal/schema.ts, both rules in one place); the dead-holder rule is the journal's
 * (src/internal/holder.ts, which `Journal` uses too): a holder is `host:pid:random`, and it is dead when
 * the host is this machine and no process has that pid.
 */
import { existsSync } from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';
import { localHolderPid } from '../../internal/holder.ts';
import { inferSchemaVersion, JOURNAL_SCHEMA_VERSION } from '../../journal/schema.ts';
import type { CheckResult, JournalDeps } from './types.ts';

/** What was found in a journal file. */
export interface JournalCounts {
  readonly schemaVersion: number;
  /**
   * Where the version was read: `user_version` (the store records it there), or `columns` for a file
   * written before the version was recorded (inferred from the columns of `faultline_jobs`).
   */
  readonly schemaVersionFrom: 'user_version' | 'columns';
  /** Jobs not yet delivered, by state. */
  readonly unfinished: Readonly<Record<string, number>>;
  readonly unfinishedTotal: number;
  /** Leases held now (not expired). */
  readonly leased: number;
  /** Leases held by a process of this machine that no longer runs (taken over at once by `resumeAll()`). */
  readonly leasedByDeadProcess: number;
  /** Leases past their end (anyone may take them). */
  readonly leasesExpired: number;
}

type Open = (path: string) => DatabaseSync;

/** `node:sqlite`'s read-only open, loaded only when a journal is checked (Node 20 has no `node:sqlite`). */
export function openReadOnly(path: string): DatabaseSync {
  const sqlite = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite');
  return new sqlite.DatabaseSync(path, { readOnly: true });
}

/** Reads the counts; throws when the file is not a faultline journal. */
export function readJournal(db: DatabaseSync, deps: JournalDeps, now: number): JournalCounts {
  const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((t) => t.name);
  if (!tables.includes('faultline_jobs')) throw new Error('no faultline_jobs table: not a faultline journal');
  const recorded = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
  const schemaVersionFrom = recorded > 0 ? 'user_version' : 'columns';
  const schemaVersion = recorded > 0 ? recorded : inferSchemaVersion((db.prepare('PRAGMA table_info(faultline_jobs)').all() as { name: string }[]).map((c) => c.name));
  const rows = db.prepare(`SELECT state, lease_owner, lease_until FROM faultline_jobs WHERE state != 'delivered'`).all() as { state: string; lease_owner: string | null; lease_until: number | null }[];
  const unfinished: Record<string, number> = {};
  let leased = 0;
  let dead = 0;
  let expired = 0;
  for (const row of rows) {
    unfinished[row.state] = (unfinished[row.state] ?? 0) + 1;
    if (row.lease_owner === null) continue;
    if (row.lease_until !== null && row.lease_until <= now) {
      expired++;
      continue;
    }
    leased++;
    const pid = localHolderPid(row.lease_owner, deps.hostname);
    if (pid !== undefined && !deps.isAlive(pid)) dead++;
  }
  return { schemaVersion, schemaVersionFrom, unfinished, unfinishedTotal: rows.length, leased, leasedByDeadProcess: dead, leasesExpired: expired };
}

/** What the summary adds to the schema version: how it was found, and what the next open does to it. */
function schemaNote(c: JournalCounts): string {
  const notes = [
    ...(c.schemaVersionFrom === 'columns' ? ['no version recorded, read from the columns'] : []),
    ...(c.schemaVersion < JOURNAL_SCHEMA_VERSION ? [`upgraded to ${JOURNAL_SCHEMA_VERSION} on the next open`] : []),
    ...(c.schemaVersion > JOURNAL_SCHEMA_VERSION ? [`newer than this faultline's ${JOURNAL_SCHEMA_VERSION}: upgrade faultline`] : []),
  ];
  return notes.length === 0 ? '' : ` (${notes.join('; ')})`;
}

export function checkJournal(path: string, deps: JournalDeps & { readonly hasSqlite: boolean; readonly open?: Open }, now: number): CheckResult {
  const base = { id: 'journal', group: 'journal' as const, title: `journal ${path}` };
  const fail = (summary: string, fix: string): CheckResult => ({ ...base, status: 'fail', summary, problem: 'journal', fix, data: { path } });
  if (!deps.hasSqlite) return fail('node:sqlite is not available', 'See the node:sqlite line above for the fix on this Node.');
  if (!existsSync(path)) return fail('no such file', 'Check the path: a journal is created by the first openJournal(path) (the doctor never creates one).');
  let db: DatabaseSync | undefined;
  try {
    db = (deps.open ?? openReadOnly)(path);
    const c = readJournal(db, deps, now);
    const states = Object.entries(c.unfinished).map(([s, n]) => `${n} ${s}`).join(', ');
    const summary = [
      `schema ${c.schemaVersion}${schemaNote(c)}`,
      c.unfinishedTotal === 0 ? 'no unfinished job' : `${c.unfinishedTotal} unfinished (${states})`,
      `${c.leased} leased`,
      ...(c.leasedByDeadProcess > 0 ? [`${c.leasedByDeadProcess} by a dead process`] : []),
      ...(c.leasesExpired > 0 ? [`${c.leasesExpired} expired lease${c.leasesExpired === 1 ? '' : 's'}`] : []),
    ].join(' · ');
    const data = { path, ...c };
    if (c.leasedByDeadProcess > 0) {
      return { ...base, status: 'warn', summary, fix: 'Run journal.resumeAll() in a live process: it takes over the jobs of a dead process on this machine at once.', data };
    }
    return { ...base, status: 'ok', summary, data };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return fail(`cannot be read: ${message}`, 'Point --journal at the file given to openJournal(); check its permissions (the -wal and -shm files beside it too).');
  } finally {
    db?.close();
  }
}
