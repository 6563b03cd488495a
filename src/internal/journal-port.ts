/**
 * How a wait reaches the journal, without the root entry importing `faultline/journal` (and so
 * `node:sqlite`). The public {@link WaitJournal} type is opaque; a `Journal` registers its `track` here
 * when it is constructed, and a wait looks it up with {@link journalPort}. `JournalLink` and
 * `TrackRequest` stay here, in no public signature.
 */

/** The journal as a wait option: a `Journal` from `faultline/journal`, opaque to everyone else. */
export interface WaitJournal {
  readonly [Symbol.toStringTag]: 'FaultlineJournal';
}

/** The lease of the job is held by another live process (`holder`, its owner name, when known). */
export interface HeldElsewhere {
  readonly heldBy: string | undefined;
}

/**
 * The journal as the waiter sees it (implemented by `faultline/journal`). Kept as a type here so the
 * root entry has no `node:sqlite` import.
 */
export interface JournalPort {
  /**
   * Start tracking a job: insert it (state `creating`, or `pending` when `objectId` is given) or adopt the
   * existing row with that key or id, and take its lease. Resolves {@link HeldElsewhere} when another
   * live process holds the lease (the caller must not poll the id then). When another wait *in this process* already follows
   * the job, this call joins it: it resolves when that wait is over, with a `mode: 'delivered'` link if it
   * delivered the job, or a lease link if it ended without a result (this wait takes over). When
   * `deadlineAt` passes or `signal` aborts first, the link is in `mode: 'journal'` (read the journal only).
   */
  track(request: TrackRequest): Promise<JournalLink | HeldElsewhere>;
}

/** What to track. */
export interface TrackRequest {
  /** The job key; defaults to the object id. */
  readonly key?: string;
  readonly kind: 'response' | 'batch';
  readonly objectId?: string;
  readonly stream: boolean;
  readonly deadlineAt?: number;
  /** How long the job may take on the server (its `background_options.completion_window`), in milliseconds. */
  readonly windowMs?: number;
  /** Ends a join of another wait of this process on the same job (see {@link JournalPort.track}). */
  readonly signal?: AbortSignal;
}

/** One tracked job, leased by this process until {@link JournalLink.release}. */
export interface JournalLink {
  readonly key: string;
  /** The last stream cursor recorded in the journal, if any. */
  readonly cursor?: number;
  /** The server id already journaled under this key, if any: a wait adopts it instead of creating again. */
  readonly objectId?: string;
  /** Whether the journaled job was created with `stream: true` (absent: unknown). */
  readonly stream?: boolean;
  /**
   * False when the key was already in the journal (the job exists, or its create was sent): `createAndWait`
   * then adopts the job and sends no create. Absent: treated as new.
   */
  readonly isNew?: boolean;
  /** The journal row's state when tracked (`creating`, `pending`, `terminal`, `delivering`, `lost`, `delivered`). */
  readonly state?: string;
  /**
   * `'lease'` (or absent): this wait holds the lease and follows the job itself. `'journal'`: another wait
   * in this process follows it (the join was cut short); `leaseLost` is already aborted, so this wait
   * reads the journal, and every write and `finish()` is a no-op. `'delivered'`: the job was delivered
   * before; `awaitRecorded()` answers its recorded outcome at once.
   */
  readonly mode?: 'lease' | 'journal' | 'delivered';
  /** Aborts when the lease was lost to another process: stop polling then and read the journal instead. */
  readonly leaseLost: AbortSignal;
  /** Record the id. Called before anything else once the id is known. */
  attachId(objectId: string): Promise<void>;
  /** Record the last stream cursor (the journal may batch these). */
  setCursor(cursor: number): Promise<void>;
  /** Record the terminal object as soon as it is seen; `failureCode` is absent for a success. */
  recordTerminal(result: unknown, failureCode: string | undefined): Promise<void>;
  /**
   * Wait for another process to record the terminal object (used after the lease was lost, reading the
   * journal only). Resolves `{ result }`, `{ lost: reason }` if the job was marked lost, or `undefined`
   * when `signal` aborted first.
   */
  awaitRecorded(signal: AbortSignal): Promise<{ readonly result: unknown } | { readonly lost: string } | undefined>;
  /**
   * The wait is over. `result`: the terminal object was recorded; hand it to the journal's handler (if
   * one is registered) and mark it delivered. `lost`: the result can never be read (create rejected,
   * 404 after retention); mark the job lost and deliver that. `detached`: the wait ended without a result
   * (deadline, abort); give the lease back so the job can be resumed.
   */
  finish(outcome: { readonly kind: 'result' } | { readonly kind: 'lost'; readonly reason: string } | { readonly kind: 'detached' }): Promise<void>;
}

const ports = new WeakMap<object, JournalPort>();

/** Called by the `Journal` constructor: `journal` answers waits through `port`. */
export function registerJournal(journal: WaitJournal, port: JournalPort): void {
  ports.set(journal, port);
}

/** The port of a registered journal, or `undefined` for anything else. */
export function journalPort(journal: unknown): JournalPort | undefined {
  return typeof journal === 'object' && journal !== null ? ports.get(journal) : undefined;
}
