/**
 * The journal's storage contract. The embedded default is SQLite (`sqlite.ts`); a Redis or Postgres store
 * for many machines implements the same interface. Every method is atomic on its own: the lease and
 * delivery transitions are compare-and-set operations, which is what makes "two processes never poll
 * the same id" and "each result is delivered once" hold without any other coordination.
 */

/**
 * Where a job is in its life.
 * - `creating`: the create request was sent; its id has not been seen yet (an orphan if the process dies).
 * - `pending`: the id is known; the job has not been seen in a terminal state.
 * - `terminal`: the terminal object is stored; it has not been handed to a handler yet.
 * - `delivering`: a process has claimed the delivery and is running the handler.
 * - `delivered`: the handler returned. Final.
 * - `lost`: the id was never seen and no webhook recovered it in time. Final (and delivered as lost).
 */
export type JobState = 'creating' | 'pending' | 'terminal' | 'delivering' | 'delivered' | 'lost';

/** What kind of background object a job waits for. */
export type JobKind = 'response' | 'batch';

/** One journal row, as plain data. */
export interface JobRecord {
  /** The caller's job key (also sent as `metadata.faultline_job` so an orphan can be matched later). */
  readonly key: string;
  readonly kind: JobKind;
  readonly state: JobState;
  /** The server id (`resp_…`, `batch_…`) once seen. */
  readonly objectId?: string;
  /** True when the Response was created with `stream: true`. */
  readonly stream: boolean;
  /** The last stream `sequence_number` recorded. */
  readonly cursor?: number;
  /** The terminal object (Response or Batch) exactly as received, once seen. */
  readonly result?: unknown;
  /** The catalog code of the terminal outcome, or absent for a success. */
  readonly failureCode?: string;
  /** Why a job was marked lost. */
  readonly lostReason?: string;
  /** The process holding the lease, if any. */
  readonly leaseOwner?: string;
  /** When the lease ends, in epoch milliseconds. */
  readonly leaseUntil?: number;
  /** How many times a delivery was claimed (more than 1 only after a crash inside a handler). */
  readonly deliveryAttempts: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** The overall deadline of the wait, in epoch milliseconds, if one was set. */
  readonly deadlineAt?: number;
  /**
   * The job's completion window (`background_options.completion_window`), in milliseconds: the job may
   * run this long, so an orphan of it is held this much longer before it is declared lost.
   */
  readonly windowMs?: number;
}

/** The fields of a new job. */
export interface NewJob {
  readonly key: string;
  readonly kind: JobKind;
  readonly stream: boolean;
  readonly deadlineAt?: number;
  /** See {@link JobRecord.windowMs}. */
  readonly windowMs?: number;
  /** Set when the id is already known (a job journaled after the fact). */
  readonly objectId?: string;
}

/** Storage for the journal. Implementations must make each method atomic. */
export interface JournalStore {
  /** Insert a job in state `creating` (or `pending` when `objectId` is given). False if the key exists. */
  insert(job: NewJob, now: number): Promise<boolean>;
  /** Record the server id of a `creating` job, moving it to `pending`. Idempotent. */
  attachId(key: string, objectId: string, now: number): Promise<void>;
  /** Record the last stream cursor. */
  setCursor(key: string, cursor: number, now: number): Promise<void>;
  /**
   * Store the terminal object of a `creating`/`pending` job, moving it to `terminal`. True if this call
   * made the transition; false if a terminal object was already stored (the first one wins).
   */
  recordTerminal(key: string, result: unknown, failureCode: string | undefined, now: number): Promise<boolean>;
  /** Mark a `creating`/`pending` job `lost`. True if this call made the transition. */
  markLost(key: string, reason: string, now: number): Promise<boolean>;
  get(key: string): Promise<JobRecord | undefined>;
  /** The job that owns a server id, if any. */
  findByObjectId(objectId: string): Promise<JobRecord | undefined>;
  /** Every job that is not `delivered` (including `lost` jobs whose loss has not been delivered). */
  listUnfinished(): Promise<JobRecord[]>;
  /**
   * Take the lease of a job for `owner` until `until`: succeeds when no one holds it, `owner` already
   * holds it, it expired (`leaseUntil <= now`), or `stealFrom` names the current holder (a holder known
   * to be dead). Returns true when `owner` holds the lease afterwards.
   */
  acquireLease(key: string, owner: string, until: number, now: number, stealFrom?: string): Promise<boolean>;
  /** Extend a lease `owner` still holds. False when it was lost (expired and taken by someone else). */
  renewLease(key: string, owner: string, until: number): Promise<boolean>;
  /** Give up a lease `owner` holds. */
  releaseLease(key: string, owner: string): Promise<void>;
  /**
   * Claim the delivery of a `terminal` (or `lost`, or crashed `delivering`) job for the lease holder
   * `owner`, extending the lease to `leaseUntil` in the same step (so no one can take an expiring lease
   * over between the claim and the handler). True for exactly one claimant per attempt; false when
   * `owner` no longer holds the lease.
   */
  claimDelivery(key: string, owner: string, now: number, leaseUntil: number): Promise<boolean>;
  /**
   * Mark a claimed delivery done. False when `owner` lost the lease meanwhile (the row is then left as
   * it is: its new holder delivers it again, so the handler must tolerate a repeat).
   */
  markDelivered(key: string, owner: string, now: number): Promise<boolean>;
  /** Remember a webhook id. True the first time an id is seen, false for a duplicate. */
  rememberWebhook(webhookId: string, now: number): Promise<boolean>;
  /** Forget a webhook id whose processing failed, so the sender's retry is processed. */
  forgetWebhook(webhookId: string): Promise<void>;
  close(): Promise<void>;
}
