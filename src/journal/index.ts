/**
 * `faultline/journal`: the durable journal for background jobs (SQLite through `node:sqlite` by default).
 * A subpath of its own so that the root entry never loads `node:sqlite`.
 */
export { Journal, outcomeOf } from './journal.ts';
export type { JobOutcome, JournalOptions, OutcomeHandler, ResumeOptions, ResumeReport } from './journal.ts';
export { SqliteJournalStore } from './sqlite.ts';
export type { SqliteStoreOptions } from './sqlite.ts';
export type { JobKind, JobRecord, JobState, JournalStore, NewJob } from './store.ts';

import { Journal, type JournalOptions } from './journal.ts';

/** Open (creating if needed) a journal in the SQLite file at `path`. */
export function openJournal(path: string, options: Omit<JournalOptions, 'path' | 'store'> = {}): Journal {
  return new Journal({ ...options, path });
}
