/**
 * The durable journal: background jobs are never lost.
 *
 * - The id is written before anything else once `create` returns it (or the first stream event names it),
 *   and the terminal object as soon as it is seen: server retention may be short.
 * - `resumeAll()` picks up every unfinished job on start and delivers each terminal result once to the
 *   registered handler.
 * - A lease with renewal keeps two processes from polling the same id; a crashed holder's lease expires
 *   (at once when the holder was a process on this machine that no longer exists) and another takes over.
 * - Orphans (a create that timed out before its id was seen) are recovered through their webhook
 *   (`metadata.faultline_job`) or marked lost after `orphanAfterMs` and delivered as lost.
 *
 * Delivery is exactly once unless a process dies *inside* the handler: then the job is delivered again
 * with `attempt` > 1 (the handler can tell), never silently dropped.
 *
 * Within one process a job is followed once, however many entry points reach it: a registry of the keys
 * this journal is following (or delivering) makes `resumeAll()` join a `createAndWait` in flight instead of
 * starting a second waiter, and a second `createAndWait`/`waitForResponse` on the same job read the journal
 * instead of polling. Leases arbitrate between processes; the registry, inside one.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { toError, type FaultlineError, ExpiredError } from '../core/errors.ts';
import type { Clock } from '../internal/clock.ts';
import { clock as clockOption, count, durationMs, fn, misuse, nonEmptyString, oneOf, optionsObject, rejectRenamed, rejectUnknown } from '../internal/options.ts';
import type { ResponsesClient } from '../background/types.ts';
import { registerJournal, type HeldElsewhere, type JournalLink, type TrackRequest, type WaitJournal } from '../internal/journal-port.ts';
import { isAlive, localHolderPid } from '../internal/holder.ts';
import { isTerminal, withOutputText } from '../background/types.ts';
import { resolveOptions, WAIT_OPTION_KEYS, type Resolved, type WaitOptions } from '../background/options.ts';
import { waitLinked, JOB_METADATA_KEY } from '../background/wait.ts';
import { detectFailure } from '../core/classify/index.ts';
import { redact } from '../core/redact.ts';
import { keepLease, type KeptLease } from './lease.ts';
import { SqliteJournalStore } from './sqlite.ts';
import type { JobRecord, JournalStore } from './store.ts';

/** What the handler receives, once per job. */
export interface JobOutcome {
  /** The job key. */
  readonly key: string;
  readonly kind: 'response' | 'batch';
  /** The server id, when it was ever seen. */
  readonly id?: string;
  /** True for a completed job. */
  readonly ok: boolean;
  /** The terminal status (`completed`, `failed`, `incomplete`, `cancelled`, ...) or `lost`. */
  readonly status: string;
  /** The terminal object (Response or Batch) as received, with any partial output. */
  readonly result?: unknown;
  /** The typed error for anything but success (an `ExpiredError` for a lost job). */
  readonly error?: FaultlineError;
  /** 1 normally; more only when a process died inside the handler during an earlier delivery. */
  readonly attempt: number;
}

/** Receives every job's outcome. Awaited: the job counts as delivered only once it returns. */
export type OutcomeHandler = (outcome: JobOutcome) => void | Promise<void>;

/** Options of {@link Journal}. */
export interface JournalOptions {
  /** The SQLite database file (created if missing). One of `path` and `store` is required. */
  path?: string;
  /** A custom store (Redis, Postgres...) instead of SQLite. */
  store?: JournalStore;
  /**
   * This process's name in leases. Must be unique among live processes.
   * @default `${hostname}:${pid}:${random}`
   */
  owner?: string;
  /**
   * How long a lease lasts without renewal, in milliseconds; it is renewed every third of that. A crashed
   * holder's jobs are taken over after this long (at once for a dead process on the same machine).
   * @default 30000
   */
  leaseMs?: number;
  /**
   * How often to read the journal while another process holds a job, in milliseconds.
   * @default 1000
   */
  watchIntervalMs?: number;
  /**
   * How long a job whose id was never seen waits for its webhook before it is marked lost, in milliseconds
   * (measured from when it was journaled; for a job created with `background_options.completion_window`,
   * from the end of that window, since it may run, and its webhook come, until then).
   * @default 600000
   */
  orphanAfterMs?: number;
  /** The outcome handler (same as calling {@link Journal.onResult}). */
  onResult?: OutcomeHandler;
  /**
   * Applied to every terminal object (Response or Batch) before it is stored, whether a waiter or a
   * webhook saw it. The journal stores the terminal object as received, with its output, metadata and
   * whatever the server echoed, unless this hook removes it; handlers then receive the scrubbed object.
   * It gets a copy (mutate it or return a new object) and must keep `id`, `status`, `error` and
   * `incomplete_details`, which the delivered outcome is read from; a Response's `output_text` is then
   * recomputed from the scrubbed `output`. The wait's caller still gets the object as received. Must not
   * throw: a throw fails the wait, and the job stays pending.
   * @default the object is stored as it is
   */
  scrub?: (result: unknown) => unknown;
  /**
   * Called when the handler throws; the job stays undelivered and is retried by the next `resumeAll`.
   * @default a process warning with code `FAULTLINE_JOURNAL_HANDLER`, its text passed through `redact()`
   */
  onHandlerError?: (error: unknown, outcome: JobOutcome) => void;
  /**
   * Called when this process ran the handler for a job but lost its lease before recording the delivery
   * (its renewals failed for longer than `leaseMs`): the job's new holder delivers it again.
   * @default a process warning with code `FAULTLINE_JOURNAL_LEASE_LOST`
   */
  onLeaseLost?: (key: string) => void;
  /**
   * The clock of leases, renewals, orphan ages and journal reads; also the default clock of
   * {@link Journal.resumeAll}'s waits.
   * @default the system clock (`Date.now` and timers cleared when each wait ends)
   */
  clock?: Clock;
}

/** Options of {@link Journal.resumeAll}: the wait options plus concurrency. Jobs are detached on abort, never cancelled. */
export interface ResumeOptions extends Omit<WaitOptions, 'journal' | 'jobKey' | 'signal' | 'onProgress' | 'abort'> {
  /**
   * How many jobs are followed at once.
   * @default 16
   */
  concurrency?: number;
  /** Stops resuming (jobs are detached, never cancelled). */
  signal?: AbortSignal;
}

/** What {@link Journal.resumeAll} did. */
export interface ResumeReport {
  /** Jobs this process delivered to its handler (including jobs another wait of this process was following, which resumeAll joined). */
  readonly delivered: number;
  /** Of those, jobs delivered as lost. */
  readonly lost: number;
  /** Jobs another process delivered while we watched. */
  readonly deliveredElsewhere: number;
  /** Jobs still unfinished when the deadline passed or the signal aborted. */
  readonly unfinished: readonly string[];
  /** Jobs whose wait failed (transient budget, auth...) and remain unfinished, with the error. */
  readonly errors: readonly { readonly key: string; readonly error: FaultlineError }[];
}

const HOST = hostname();

/** The journal. Create one per process (and per database file). */
export class Journal implements WaitJournal {
  readonly store: JournalStore;
  readonly owner: string;
  readonly #clock: Clock;
  readonly #leaseMs: number;
  readonly #watchMs: number;
  readonly #orphanMs: number;
  #handler: OutcomeHandler | undefined;
  readonly #onHandlerError: (error: unknown, outcome: JobOutcome) => void;
  readonly #onLeaseLost: (key: string) => void;
  readonly #scrub: (result: unknown) => unknown;
  readonly #links = new Map<string, KeptLease>();
  readonly #deliveredHere = new Set<string>();
  /** The keys some wait of this process follows or delivers now, each with a promise of the end of that. */
  readonly #busy = new Map<string, Busy>();

  constructor(options: JournalOptions) {
    const caller = (typeof options === 'object' && options !== null ? CALLED_AS.get(options) : undefined) ?? OWNER;
    const o = optionsObject(caller, options) as JournalOptions;
    rejectRenamed(caller, o, JOURNAL_RENAMED);
    rejectUnknown(caller, o, JOURNAL_KEYS);
    if (o.store !== undefined) this.store = storeOption(o.store);
    else this.store = new SqliteJournalStore(nonEmptyString(caller, 'path', o.path) ?? missing('path', 'a SQLite file path (or options.store a JournalStore)'));
    this.owner = nonEmptyString(caller, 'owner', o.owner) ?? `${HOST}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.#clock = clockOption(caller, o.clock);
    this.#leaseMs = durationMs(caller, 'leaseMs', o.leaseMs, { default: 30_000, exclusiveMin: true });
    this.#watchMs = durationMs(caller, 'watchIntervalMs', o.watchIntervalMs, { default: 1000, exclusiveMin: true });
    this.#orphanMs = durationMs(caller, 'orphanAfterMs', o.orphanAfterMs, { default: 600_000, exclusiveMin: true });
    for (const name of ['onResult', 'onHandlerError', 'onLeaseLost', 'scrub'] as const) fn(caller, name, o[name]);
    this.#handler = options.onResult;
    const scrub = options.scrub;
    // output_text is derived from output: recomputed, so that scrubbing `output` cannot leave the text behind.
    this.#scrub = scrub === undefined ? (result) => result : (result) => withOutputText(scrub(copyOf(result)));
    this.#onHandlerError =
      options.onHandlerError ??
      // The handler's error is the user's code talking: it may quote a key or an Authorization header.
      ((error, outcome) => process.emitWarning(redact(`faultline journal: the outcome handler threw for job ${outcome.key}: ${String(error)}`), { code: 'FAULTLINE_JOURNAL_HANDLER' }));
    this.#onLeaseLost =
      options.onLeaseLost ??
      ((key) => process.emitWarning(`faultline journal: the lease of job ${key} was taken over while its handler ran; its new holder will deliver it again`, { code: 'FAULTLINE_JOURNAL_LEASE_LOST' }));
    registerJournal(this, { track: (request) => this.#track(request) });
  }

  /** Names a journal as a wait option: `waitForResponse(client, id, { journal })`. */
  get [Symbol.toStringTag](): 'FaultlineJournal' {
    return 'FaultlineJournal';
  }

  /** Register the outcome handler (replacing any earlier one). Returns a function that removes it. */
  onResult(handler: OutcomeHandler): () => void {
    if (typeof handler !== 'function') throw misuse('type', 'Journal.onResult', '#handler', 'a function', handler);
    this.#handler = handler;
    return () => {
      if (this.#handler === handler) this.#handler = undefined;
    };
  }

  /** One job's row. */
  get(key: string): Promise<JobRecord | undefined> {
    return this.store.get(key);
  }

  /** Every job not yet delivered. */
  unfinished(): Promise<JobRecord[]> {
    return this.store.listUnfinished();
  }

  /** The owner to steal from when `holder` is a process on this machine that no longer runs. */
  #deadHolder(holder: string | undefined): string | undefined {
    if (holder === undefined || holder === this.owner) return undefined;
    const pid = localHolderPid(holder, HOST);
    if (pid === undefined || pid === process.pid) return undefined;
    return isAlive(pid) ? undefined : holder;
  }

  /**
   * Mark `key` followed by this process, or `undefined` when it already is (join that instead). Synchronous
   * on purpose: the check and the mark happen with no await between them.
   */
  #hold(key: string): Hold | undefined {
    if (this.#busy.has(key)) return undefined;
    let end!: () => void;
    const done = new Promise<void>((resolve) => (end = resolve));
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      if (this.#busy.get(key) === busy) this.#busy.delete(key);
      end();
    };
    const busy: Busy = { done, release };
    this.#busy.set(key, busy);
    return { release };
  }

  /** Wait until the wait that follows `key` in this process ends; false if the deadline or signal came first. */
  async #join(busy: Busy, deadlineAt: number, signal: AbortSignal | undefined): Promise<boolean> {
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted === true) stop.abort();
    let ended = false;
    const timer = this.#clock.sleep(Math.max(0, deadlineAt - this.#clock.now()), stop.signal);
    await Promise.race([busy.done.then(() => void (ended = true)), timer]);
    stop.abort();
    await timer;
    signal?.removeEventListener('abort', onAbort);
    return ended;
  }

  async #acquire(key: string, holder: string | undefined): Promise<boolean> {
    const now = this.#clock.now();
    return this.store.acquireLease(key, this.owner, now + this.#leaseMs, now, this.#deadHolder(holder));
  }

  /** What a wait sees of the journal (registered in the constructor; see `internal/journal-port.ts`). */
  async #track(request: TrackRequest): Promise<JournalLink | HeldElsewhere> {
    let key = request.key;
    if (request.objectId !== undefined) {
      const existing = await this.store.findByObjectId(request.objectId);
      if (existing !== undefined) key = existing.key;
    }
    if (key === undefined) throw new TypeError('track: a key or an objectId is required');
    const isNew = await this.store.insert(
      {
        key,
        kind: request.kind,
        stream: request.stream,
        ...(request.objectId !== undefined ? { objectId: request.objectId } : {}),
        ...(request.deadlineAt !== undefined ? { deadlineAt: request.deadlineAt } : {}),
        ...(request.windowMs !== undefined ? { windowMs: request.windowMs } : {}),
      },
      this.#clock.now(),
    );
    // Another wait of this process follows it: join that wait (no second poller, no second delivery), and
    // take the job over if it ended without a result. Cut short by the deadline or the signal: a link that
    // reads the journal.
    let hold = this.#hold(key);
    while (hold === undefined) {
      if (request.deadlineAt === undefined || !(await this.#join(this.#busy.get(key) as Busy, request.deadlineAt, request.signal))) {
        const now = await this.store.get(key);
        return now === undefined ? { heldBy: undefined } : this.#readOnlyLink(now, isNew, now.state === 'delivered' ? 'delivered' : 'journal');
      }
      hold = this.#hold(key);
    }
    const row = await this.store.get(key);
    if (row === undefined || row.state === 'delivered' || !(await this.#acquire(key, row.leaseOwner))) {
      hold.release();
      return row?.state === 'delivered' ? this.#readOnlyLink(row, isNew, 'delivered') : { heldBy: row?.leaseOwner };
    }
    return this.#link(row, hold, isNew);
  }

  /** A link for a wait that only reads the journal (see {@link JournalLink.mode}). */
  #readOnlyLink(row: JobRecord, isNew: boolean, mode: 'journal' | 'delivered'): JournalLink {
    const leaseLost = new AbortController();
    leaseLost.abort();
    const nothing = async (): Promise<void> => {};
    return {
      ...this.#linkFields(row, isNew),
      mode,
      leaseLost: leaseLost.signal,
      attachId: nothing,
      setCursor: nothing,
      recordTerminal: nothing,
      finish: nothing,
    };
  }

  /** What every link reads from the row, and its wait for the recorded result. */
  #linkFields(row: JobRecord, isNew: boolean): Pick<JournalLink, 'key' | 'isNew' | 'state' | 'stream' | 'objectId' | 'cursor' | 'awaitRecorded'> {
    return {
      key: row.key,
      isNew,
      state: row.state,
      stream: row.stream,
      ...(row.objectId !== undefined ? { objectId: row.objectId } : {}),
      ...(row.cursor !== undefined ? { cursor: row.cursor } : {}),
      awaitRecorded: (signal) => this.#awaitRecorded(row.key, signal),
    };
  }

  #link(row: JobRecord, hold: Hold, isNew = false): JournalLink {
    const key = row.key;
    void this.#links.get(key)?.stop();
    // A failed renewal means someone took the job over.
    const lease = keepLease(this.store, key, this.owner, this.#leaseMs, this.#clock);
    this.#links.set(key, lease);
    const clock = this.#clock;
    let lastCursor = row.cursor;
    let finished = false;
    const stopRenewal = async (): Promise<void> => {
      if (this.#links.get(key) === lease) this.#links.delete(key);
      await lease.stop();
    };
    return {
      ...this.#linkFields(row, isNew),
      mode: 'lease',
      leaseLost: lease.lost,
      attachId: (objectId) => this.store.attachId(key, objectId, clock.now()),
      setCursor: async (cursor) => {
        // Every 16 events is enough: resuming from a slightly older cursor is safe (duplicates are dropped).
        if (lastCursor === undefined || cursor - lastCursor >= 16) {
          lastCursor = cursor;
          await this.store.setCursor(key, cursor, clock.now());
        }
      },
      recordTerminal: async (result, failureCode) => {
        await this.store.recordTerminal(key, this.#scrub(result), failureCode, clock.now());
      },
      finish: async (outcome) => {
        if (finished) return; // idempotent: resumeAll also finishes defensively
        finished = true;
        await stopRenewal();
        // The key stays marked followed until the delivery is over: a resumeAll that came in meanwhile
        // would otherwise claim it again (attempt 2) while this handler runs.
        try {
          if (outcome.kind === 'detached') {
            await this.store.releaseLease(key, this.owner);
            return;
          }
          if (outcome.kind === 'lost') await this.store.markLost(key, outcome.reason, clock.now());
          await this.#deliver(key);
        } finally {
          hold.release();
        }
      },
    };
  }

  async #awaitRecorded(key: string, signal: AbortSignal): Promise<{ result: unknown } | { lost: string } | undefined> {
    // Wake early once when the wait of this process that follows the job ends (it recorded the result first).
    const ended = new AbortController();
    const onAbort = (): void => ended.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    void this.#busy.get(key)?.done.then(onAbort);
    try {
      while (!signal.aborted) {
        const row = await this.store.get(key);
        if (row?.result !== undefined) return { result: row.result };
        if (row?.lostReason !== undefined) return { lost: row.lostReason };
        await this.#clock.sleep(this.#watchMs, ended.signal.aborted ? signal : ended.signal);
      }
      return undefined;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Claim and run the delivery of a terminal or lost job whose lease we hold. True if we delivered it. */
  async #deliver(key: string): Promise<boolean> {
    const now = this.#clock.now();
    if (!(await this.store.claimDelivery(key, this.owner, now, now + this.#leaseMs))) return false;
    const row = await this.store.get(key);
    if (row === undefined) return false;
    const handler = this.#handler;
    if (handler !== undefined) {
      const outcome = outcomeOf(row);
      // Keep the lease while the handler runs, however long it takes: otherwise another process
      // could take the job over mid-delivery and deliver it a second time.
      const keep = keepLease(this.store, key, this.owner, this.#leaseMs, this.#clock);
      try {
        await handler(outcome);
      } catch (error) {
        // Not delivered: keep the row `delivering`, give the lease back; the next resumeAll retries it.
        await keep.stop();
        await this.store.releaseLease(key, this.owner);
        this.#onHandlerError(error, outcome);
        return false;
      } finally {
        await keep.stop();
      }
    }
    if (!(await this.store.markDelivered(key, this.owner, this.#clock.now()))) {
      // The lease was taken over while the handler ran (renewals failed: a stalled process or store).
      // The new holder delivers the job again; say so rather than count it as delivered here.
      this.#onLeaseLost(key);
      return false;
    }
    this.#deliveredHere.add(key);
    return true;
  }

  /**
   * Record a terminal object learnt from a webhook (by its id, or by `metadata.faultline_job` for an
   * orphan whose id was never journaled) and deliver it if no live process is waiting on it.
   * Returns the job key, or `undefined` when the object belongs to no job in this journal.
   */
  async recordObject(object: unknown): Promise<string | undefined> {
    if (typeof object !== 'object' || object === null) return undefined;
    const id = (object as { id?: unknown }).id;
    if (typeof id !== 'string') return undefined;
    let row = await this.store.findByObjectId(id);
    if (row === undefined) {
      const meta = (object as { metadata?: unknown }).metadata;
      const key = typeof meta === 'object' && meta !== null ? (meta as Record<string, unknown>)[JOB_METADATA_KEY] : undefined;
      if (typeof key !== 'string') return undefined;
      row = await this.store.get(key);
      if (row === undefined) return undefined;
      await this.store.attachId(key, id, this.#clock.now());
    }
    if (!isTerminal(object)) return row.key;
    await this.store.recordTerminal(row.key, this.#scrub(object), detectFailure(object)?.code, this.#clock.now());
    // Deliver here only when nobody is waiting on it (an orphan, or a job no process follows now). A live
    // waiter records and delivers it itself, woken by the hub.
    const hold = this.#hold(row.key);
    if (hold === undefined) return row.key;
    try {
      if (await this.#acquire(row.key, row.leaseOwner)) {
        if (!(await this.#deliver(row.key))) await this.store.releaseLease(row.key, this.owner);
      }
    } finally {
      hold.release();
    }
    return row.key;
  }

  /** Remember a webhook id; false when it was seen before (a duplicate delivery to drop). */
  rememberWebhook(webhookId: string): Promise<boolean> {
    return this.store.rememberWebhook(webhookId, this.#clock.now());
  }

  /** Forget a webhook id whose processing failed, so that the sender's retry is processed. */
  forgetWebhook(webhookId: string): Promise<void> {
    return this.store.forgetWebhook(webhookId);
  }

  /**
   * Pick up every unfinished job in the journal, follow it to its end and deliver each result once to
   * the handler. Safe to run in several processes at once on the same journal: each job is followed by
   * the lease holder only, the others watch the journal and take over if the holder dies. Safe to run while
   * this process has waits in flight, and more than once: a job another wait of this process follows is
   * joined (and taken over if that wait ends without a result), never followed twice.
   */
  async resumeAll(client: ResponsesClient, options: ResumeOptions): Promise<ResumeReport> {
    if (this.#handler === undefined) throw new TypeError('resumeAll: register a handler first (journal.onResult(handler) or the `onResult` option)');
    const clock = this.#clock;
    // One deadline and one set of wait rules for every job, decided where every wait decides them.
    // Detached on abort, never cancelled: other processes may be about to take these jobs over.
    if (typeof options === 'object' && options !== null) oneOf('resumeAll', 'abort', (options as { abort?: unknown }).abort, ['detach'], 'detach');
    const r = resolveOptions(typeof options === 'object' && options !== null ? { clock, ...options, abort: 'detach' } : options, undefined, 'resumeAll', undefined, RESUME_KEYS);
    const deadlineAt = r.deadlineAt;
    const concurrency = count('resumeAll', 'concurrency', options.concurrency, { default: 16, min: 1 });
    const signal = options.signal;

    const jobs = await this.store.listUnfinished();
    const report = { delivered: 0, lost: 0, deliveredElsewhere: 0, unfinished: [] as string[], errors: [] as { key: string; error: FaultlineError }[] };
    const queue = [...jobs];
    let idle = 0; // consecutive "later" answers: when the whole queue is busy elsewhere, wait a little
    // Workers, and joins of waits this process already runs (kept off the worker pool: a long wait in
    // flight must not hold up a dead peer's jobs). A join that ends without a result puts its job back.
    const tasks: Promise<void>[] = [];
    let workers = 0;
    const spawn = (): void => {
      workers++;
      tasks.push(worker().finally(() => void workers--));
    };
    const join = (job: JobRecord, busy: Busy): void => {
      tasks.push(
        this.#join(busy, deadlineAt, signal).then((ended) => {
          if (!ended) return void report.unfinished.push(job.key);
          queue.push(job);
          if (workers < concurrency) spawn();
        }),
      );
    };
    const worker = async (): Promise<void> => {
      for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
        const busy = this.#busy.get(job.key);
        if (busy !== undefined) {
          join(job, busy);
          continue;
        }
        const result = await this.#resumeOne(client, job.key, r, signal);
        if (result.kind === 'later') {
          queue.push(job);
          if (++idle >= queue.length) {
            idle = 0;
            await clock.sleep(Math.min(this.#watchMs, Math.max(0, deadlineAt - clock.now())), signal);
          }
          continue;
        }
        idle = 0;
        if (result.kind === 'delivered') {
          report.delivered++;
          if (result.lost) report.lost++;
        } else if (result.kind === 'elsewhere') report.deliveredElsewhere++;
        else {
          report.unfinished.push(job.key);
          if (result.error !== undefined) report.errors.push({ key: job.key, error: result.error });
        }
      }
    };
    for (let i = 0; i < Math.min(concurrency, jobs.length); i++) spawn();
    while (tasks.length > 0) await Promise.all(tasks.splice(0));
    return report;
  }

  async #resumeOne(
    client: ResponsesClient,
    key: string,
    r: Resolved,
    signal: AbortSignal | undefined,
  ): Promise<{ kind: 'delivered'; lost: boolean } | { kind: 'elsewhere' } | { kind: 'later' } | { kind: 'unfinished'; error?: FaultlineError }> {
    const clock = this.#clock;
    const deadlineAt = r.deadlineAt;
    // A wait of this process follows it already (a createAndWait in flight): join it, never a second waiter.
    let hold = this.#hold(key);
    while (hold === undefined) {
      if (!(await this.#join(this.#busy.get(key) as Busy, deadlineAt, signal))) return { kind: 'unfinished' };
      hold = this.#hold(key);
    }
    let linked = false;
    try {
      const row = await this.store.get(key);
      if (row === undefined || row.state === 'delivered') {
        return this.#deliveredHere.has(key) ? { kind: 'delivered', lost: row?.lostReason !== undefined } : { kind: 'elsewhere' };
      }
      if (signal?.aborted === true || clock.now() >= deadlineAt) return { kind: 'unfinished' };
      // Someone else follows it: come back later (and take over if their lease lapses).
      if (!(await this.#acquire(key, row.leaseOwner))) return { kind: 'later' };
      const lostBefore = row.state === 'lost' || row.lostReason !== undefined;
      if (row.state === 'terminal' || row.state === 'delivering' || row.state === 'lost') {
        if (await this.#deliver(key)) return { kind: 'delivered', lost: lostBefore };
        return { kind: 'unfinished' };
      }
      if (row.state === 'creating' || row.objectId === undefined) {
        if (clock.now() - row.createdAt >= this.#orphanMs + (row.windowMs ?? 0)) {
          await this.store.markLost(key, 'orphan: the create never returned an id and no webhook recovered it', clock.now());
          if (await this.#deliver(key)) return { kind: 'delivered', lost: true };
          return { kind: 'unfinished' };
        }
        // Wait for a webhook to recover it, or for the orphan time to pass.
        await this.store.releaseLease(key, this.owner);
        return { kind: 'later' };
      }
      linked = true;
      return await this.#followLinked(client, row, row.objectId, this.#link(row, hold), r);
    } finally {
      if (!linked) hold.release();
    }
  }

  async #followLinked(
    client: ResponsesClient,
    row: JobRecord,
    objectId: string,
    link: JournalLink,
    r: Resolved,
  ): Promise<{ kind: 'delivered'; lost: boolean } | { kind: 'elsewhere' } | { kind: 'unfinished'; error?: FaultlineError }> {
    const key = row.key;
    try {
      const token = { v: 1 as const, id: objectId, stream: row.stream, ...(row.cursor !== undefined ? { cursor: row.cursor } : {}) };
      await waitLinked(client, token, r, link, row.windowMs !== undefined);
    } catch (error) {
      await link.finish({ kind: 'detached' }); // a no-op unless the wait failed before it started
      // A terminal failure or a lost job was delivered by finish() (the typed error is the outcome).
      if (this.#deliveredHere.has(key)) return { kind: 'delivered', lost: (await this.store.get(key))?.lostReason !== undefined };
      if ((await this.store.get(key))?.state === 'delivered') return { kind: 'elsewhere' };
      return { kind: 'unfinished', error: toError(error) };
    }
    if (this.#deliveredHere.has(key)) return { kind: 'delivered', lost: false };
    return (await this.store.get(key))?.state === 'delivered' ? { kind: 'elsewhere' } : { kind: 'unfinished' };
  }

  /** Stop lease renewals and close the store. */
  async close(): Promise<void> {
    const renewals = [...this.#links.values()].map((lease) => lease.stop());
    this.#links.clear();
    await Promise.all(renewals);
    // Wake every wait joined to one of ours: they read the journal and end at their own deadline.
    for (const busy of [...this.#busy.values()]) busy.release();
    await this.store.close();
  }
}

/** A key some wait of this process follows; `done` resolves when that wait (and its delivery) ended. */
interface Busy {
  readonly done: Promise<void>;
  readonly release: () => void;
}

/** The mark of {@link Busy}, given back once (idempotent) when the wait and its delivery are over. */
interface Hold {
  release(): void;
}

/** A deep copy for the scrub hook (a terminal object is plain JSON), or the value itself if it cannot be cloned. */
function copyOf(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return value;
  }
}

const OWNER = 'Journal';
/** Options objects built by a public wrapper (`openJournal`), with the name misuse messages must give. */
export const CALLED_AS = new WeakMap<object, string>();

/** Keys of the journal options renamed before 1.0 (CHANGELOG, **breaking**). */
const JOURNAL_RENAMED: Readonly<Record<string, string>> = Object.freeze({ now: 'clock (0.2.0)', sleep: 'clock (0.2.0)' });

/** Every key of {@link JournalOptions} (a `Record` over `keyof`, so the compiler keeps the list complete). */
const JOURNAL_KEYS: ReadonlySet<string> = new Set(
  Object.keys({
    path: true, store: true, owner: true, leaseMs: true, watchIntervalMs: true, orphanAfterMs: true,
    onResult: true, scrub: true, onHandlerError: true, onLeaseLost: true, clock: true,
  } satisfies Record<keyof JournalOptions, true>),
);
/** `resumeAll`'s own keys, beyond the wait options {@link ResumeOptions} keeps. */
const RESUME_OWN_KEYS: Readonly<Record<Exclude<keyof ResumeOptions, keyof WaitOptions>, true>> = { concurrency: true };
/** The wait options `resumeAll` leaves out (`abort` is kept: it may only be `'detach'`, checked apart). */
const RESUME_OMITTED: ReadonlySet<string> = new Set(['journal', 'jobKey', 'onProgress'] satisfies (keyof WaitOptions)[]);
/** Every key of {@link ResumeOptions}. */
const RESUME_KEYS: ReadonlySet<string> = new Set([...Object.keys(WAIT_OPTION_KEYS).filter((k) => !RESUME_OMITTED.has(k)), ...Object.keys(RESUME_OWN_KEYS)]);

const STORE_METHODS = ['insert', 'get', 'acquireLease', 'renewLease', 'releaseLease', 'claimDelivery', 'markDelivered', 'close'] as const;

/** `options.store`: an object with the {@link JournalStore} methods (checked by name, at once). */
function storeOption(store: unknown): JournalStore {
  const s = store as Record<string, unknown> | null;
  if (typeof s !== 'object' || s === null || STORE_METHODS.some((m) => typeof s[m] !== 'function')) {
    throw misuse('type', OWNER, 'store', `a JournalStore (with ${STORE_METHODS.join(', ')}, …)`, store);
  }
  return store as JournalStore;
}

function missing(name: string, expectation: string): never {
  throw misuse('type', OWNER, name, expectation, undefined);
}

/** The outcome to deliver for a journal row. */
export function outcomeOf(row: JobRecord): JobOutcome {
  const base = { key: row.key, kind: row.kind, attempt: row.deliveryAttempts, ...(row.objectId !== undefined ? { id: row.objectId } : {}) };
  if (row.result === undefined) {
    const error = new ExpiredError(`Background job ${row.key}${row.objectId !== undefined ? ` (${row.objectId})` : ''} was lost: ${row.lostReason ?? 'no result was recorded'}.`);
    return { ...base, ok: false, status: 'lost', error };
  }
  const status = (row.result as { status?: unknown }).status;
  const failure = detectFailure(row.result);
  return {
    ...base,
    ok: failure === null,
    status: typeof status === 'string' ? status : 'unknown',
    result: withOutputText(row.result),
    ...(failure !== null ? { error: toError(row.result, { response: row.result }) } : {}),
  };
}
