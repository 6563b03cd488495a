/**
 * The SQLite journal's schema version, in a file of its own (no `node:sqlite` import) so that
 * `faultline doctor` can name it on a Node without `node:sqlite`. `SqliteJournalStore` writes it into
 * the file's `PRAGMA user_version` and the doctor reads it back.
 *
 * History: 1 is the first schema; 2 added `faultline_jobs.window_ms` (completion windows). Files written
 * before the version was recorded have `user_version` 0; their version is read from their columns.
 */
export const JOURNAL_SCHEMA_VERSION = 2;

/** The schema version of a file that records none (`user_version` 0), from the columns of `faultline_jobs`. */
export function inferSchemaVersion(columns: readonly string[]): number {
  return columns.includes('window_ms') ? 2 : 1;
}
