/**
 * `faultline/journal`: the durable journal for background jobs (SQLite through `node:sqlite` by default).
 * A subpath of its own so that the root entry never loads `node:sqlite`.
 */
export { Journal, outcomeOf } from './journal.ts';
export type { JobOutcome, JournalOptions, OutcomeHandler, ResumeOptions, ResumeReport } from './journal.ts';
export { JournalSchemaError, SqliteJournalStore } from './sqlite.ts';
export type { SqliteStoreOptions } from './sqlite.ts';
export type { JobKind, JobRecord, JobState, JournalStore, NewJob } from './store.ts';
// Every type a signature of this entry uses, so a user can name it from here (types only: no code).
export type { BackgroundResponse, CallOptions, ProgressSource, ResponsesClient, WaitJournal } from '../background/types.ts';
export type { HubListener, ResultHub } from '../background/hub.ts';
export type { PollOptions } from '../background/poll-backoff.ts';
export type { WaitOptions, WaitProgress } from '../background/options.ts';
export type { WaitToken } from '../background/token.ts';
export type { Clock } from '../internal/clock.ts';
export type { CATALOG, CatalogEntry, Category, ErrorName, FailureCode } from '../core/catalog.ts';
export type { Failure, FailureSource } from '../core/failure.ts';
export type { FaultlineError, FaultlineErrorOptions, ForeignFailure } from '../core/errors.ts';

import { CALLED_AS, Journal, type JournalOptions } from './journal.ts';

/** Open (creating if needed) a journal in the SQLite file at `path`. */
export function openJournal(path: string, options: Omit<JournalOptions, 'path' | 'store'> = {}): Journal {
  const o = { ...options, path };
  CALLED_AS.set(o, 'openJournal');
  return new Journal(o);
}
