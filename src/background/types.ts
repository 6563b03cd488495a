/**
 * The shapes the background layer needs from the outside world, read structurally so that any `openai`
 * SDK from v5 on (or a scripted fake in tests) fits, and so that the root entry never imports `openai`
 * or `node:sqlite`.
 */

/** The part of a Responses API `Response` the waiter reads. The full object is passed through untouched. */
export interface BackgroundResponse {
  readonly id: string;
  readonly object?: string;
  /** `queued`, `in_progress`, `completed`, `failed`, `incomplete` or `cancelled`. */
  readonly status?: string | null;
  /** Unix seconds. */
  readonly created_at?: number;
  readonly metadata?: Readonly<Record<string, string>> | null;
}

/** Request options faultline passes to every SDK call (the SDK's own retries are turned off: we pace). */
export interface CallOptions {
  signal?: AbortSignal;
  maxRetries?: number;
  timeout?: number;
}

/**
 * A client with the Responses API of `openai` v5 or later: `new OpenAI(...)` fits as it is.
 * Method syntax (not arrow properties) on purpose: it lets the SDK's overloads match.
 */
export interface ResponsesClient {
  readonly responses: {
    retrieve(id: string, query?: Record<string, unknown>, options?: CallOptions): PromiseLike<unknown>;
    cancel(id: string, options?: CallOptions): PromiseLike<unknown>;
    create(body: Record<string, unknown>, options?: CallOptions): PromiseLike<unknown>;
  };
}

/** A client with the Batch and Files APIs of `openai` v4 or later. */
export interface BatchesClient {
  readonly batches: {
    retrieve(id: string, options?: CallOptions): PromiseLike<unknown>;
    cancel?(id: string, options?: CallOptions): PromiseLike<unknown>;
  };
  readonly files: {
    content(id: string, options?: CallOptions): PromiseLike<unknown>;
  };
}

/** Where a piece of progress came from. */
export type ProgressSource = 'poll' | 'stream' | 'webhook' | 'create';

/** The terminal Response statuses. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'incomplete', 'cancelled']);

/** True when `value` is a Response-like object in a terminal status. */
export function isTerminal(value: unknown): value is BackgroundResponse {
  const status = typeof value === 'object' && value !== null ? (value as { status?: unknown }).status : undefined;
  return typeof status === 'string' && TERMINAL_STATUSES.has(status);
}

/**
 * Give a Response the `output_text` convenience that the SDK sets on non-streamed results (openai v5 on;
 * v4 on `create` only): the text of every `output_text` part of every `message` output item, in order,
 * joined with nothing. Applied to every terminal Response a wait settles with, so a streamed result, a
 * polled one and a webhook's have one shape on every SDK major. Only for `object: 'response'`; the object
 * is updated in place, as the SDK does (a frozen one is left as it is).
 */
export function withOutputText<T>(value: T): T {
  if (typeof value !== 'object' || value === null || (value as { object?: unknown }).object !== 'response') return value;
  const output = (value as { output?: unknown }).output;
  const texts: string[] = [];
  for (const item of Array.isArray(output) ? (output as unknown[]) : []) {
    const message = item as { type?: unknown; content?: unknown } | null;
    if (message?.type !== 'message' || !Array.isArray(message.content)) continue;
    for (const part of message.content as ({ type?: unknown; text?: unknown } | null)[]) {
      if (part?.type === 'output_text' && typeof part.text === 'string') texts.push(part.text);
    }
  }
  try {
    (value as Record<string, unknown>)['output_text'] = texts.join('');
  } catch {
    // frozen or sealed: leave it
  }
  return value;
}

/** True for a Response-like object (has a string `id`). */
export function isResponseLike(value: unknown): value is BackgroundResponse {
  return typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string';
}

/**
 * The journal as the waiter sees it (implemented by `faultline/journal`). Kept as a type here so the
 * root entry has no `node:sqlite` import.
 */
export interface WaitJournal {
  /**
   * Start tracking a job: insert it (state `creating`, or `pending` when `objectId` is given) or adopt the
   * existing row with that key or id, and take its lease. Resolves `null` when another live process holds
   * the lease (the caller must not poll the id then). When another wait *in this process* already follows
   * the job, this call joins it: it resolves when that wait is over, with a `mode: 'delivered'` link if it
   * delivered the job, or a lease link if it ended without a result (this wait takes over). When
   * `deadlineAt` passes or `signal` aborts first, the link is in `mode: 'journal'` (read the journal only).
   */
  track(request: TrackRequest): Promise<JournalLink | null>;
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
  /** Ends a join of another wait of this process on the same job (see {@link WaitJournal.track}). */
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
