/**
 * The {@link Failure} record, and {@link failureOf}: the one function that builds one.
 */
import { entryOf, type Category, type ErrorName, type FailureCode } from './catalog.ts';
import { redact } from './redact.ts';

/** The longest message a {@link Failure} keeps, in characters (4 KiB); a longer one is cut and marked. */
export const MAX_MESSAGE = 4096;
/** The longest wire code, type, param or id a {@link Failure} keeps, in characters. */
export const MAX_SHORT = 256;

/** Where a failure was found. */
export type FailureSource =
  /** An error thrown by the official `openai` SDK (any major), read by shape. */
  | 'sdk'
  /** A plain HTTP record `{ status, headers, body }` or a fetch `Response`-like object. */
  | 'http'
  /** A Responses API `Response` object that ended failed, incomplete or cancelled. */
  | 'response'
  /** A Chat Completions object or chunk (`finish_reason`). */
  | 'chat_completion'
  /** A Batch object. */
  | 'batch'
  /** One line of a batch output or error file. */
  | 'batch_line'
  /** A streaming event (Responses or Chat Completions). */
  | 'stream_event'
  /** A webhook event (it carries only an id). */
  | 'webhook'
  /** An Assistants `thread.run` or `thread.run.step` that failed, expired, was cancelled or is incomplete. */
  | 'assistants_run'
  /** A `fine_tuning.job` that failed or was cancelled. */
  | 'fine_tuning_job'
  /** A `vector_store.file` or `vector_store.files_batch` that failed or was cancelled. */
  | 'vector_store_file'
  /** An `upload` that expired or was cancelled. */
  | 'upload'
  /** An `eval.run` that failed or was canceled. */
  | 'eval_run'
  /** A Realtime API server event (`error`, or `response.done` that failed, was cut short or cancelled). */
  | 'realtime_event'
  /** An error envelope `{ error: { message, type, code, param } }` or its inner object. */
  | 'error_body'
  /** A transport failure: reset, refused, DNS, abort, client timeout. */
  | 'transport'
  /** A bare string (a message, a code, or JSON text). */
  | 'message'
  /** Anything else. */
  | 'unknown';

/**
 * What faultline knows about one failure. Plain data: safe to log, serialise and compare.
 * No field ever holds an API key or an `Authorization` header (messages are redacted).
 */
export interface Failure {
  /** The stable catalog code. */
  readonly code: FailureCode;
  /** The error class for the code. */
  readonly name: ErrorName;
  readonly category: Category;
  /**
   * Whether trying again can succeed. Starts from the catalog default; an explicit `x-should-retry`
   * header is kept separately in {@link Failure.shouldRetryHeader}. For a terminal Response it means
   * "a new create is worth trying", never "poll again".
   */
  readonly retryable: boolean;
  /**
   * How long the server asked us to wait, in milliseconds: from `retry-after-ms`, then `retry-after`
   * (seconds or an HTTP date), then the message text ("Please try again in 494ms", "retry after 20
   * seconds"). Absent when there was no hint, and for a failure that is never retried (not
   * {@link Failure.retryable} and no `x-should-retry: true`): a wait before an `insufficient_quota` or a
   * 400 would only invite a retry that cannot succeed.
   */
  readonly retryAfterMs?: number;
  /**
   * The HTTP status, only when a transport really had one. A failed background Response read from a 200
   * poll has no status: faultline never invents one.
   */
  readonly status?: number;
  /** The wire `code` (or Responses `incomplete_details.reason`, or chat `finish_reason`), as received. */
  readonly wireCode?: string;
  /** The wire `type` (e.g. `insufficient_quota`, `tokens`, `invalid_request_error`), as received. */
  readonly wireType?: string;
  /** The wire `param`, as received. */
  readonly param?: string;
  /** A human message (redacted, at most 4 KiB). */
  readonly message: string;
  /** `x-request-id`, Azure `apim-request-id`, or the batch line's `request_id`. */
  readonly requestId?: string;
  /** The Response, batch or chat completion id the failure belongs to, when known. */
  readonly objectId?: string;
  /** The `x-should-retry` header, when the server sent one. */
  readonly shouldRetryHeader?: boolean;
  /** The transport error code (`ECONNRESET`, `UND_ERR_SOCKET`, ...), when the failure is a transport one. */
  readonly transportCode?: string;
  /** Where the failure was found. */
  readonly source: FailureSource;
}

/** What a caller says about a failure; the catalog row decides the rest (`name`, `category`, `retryable`). */
export type FailureFields = {
  readonly [K in Exclude<keyof Failure, 'code' | 'name' | 'category' | 'retryable'>]?: Failure[K] | undefined;
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The fields every {@link Failure} has, from the catalog row of its code: **the only object literal
 * that makes a Failure** (the boundary test holds every other file to it). Its two callers add the
 * optional fields before they hand the object out: {@link failureOf}, and classify's builder, which
 * clips and redacts while it scans and must stay the cheapest code of the library.
 */
export function failureBase(e: ReturnType<typeof entryOf>, message: string, source: FailureSource): Mutable<Failure> {
  // Not frozen: the type is readonly already, and Object.freeze() cost about 80 ns per classify()
  // (measured: some 10 % of reading an SDK error).
  return { code: e.code, name: e.name, category: e.category, retryable: e.retryable, message, source };
}

/**
 * Whether a failure keeps the wait the server asked for: only when a retry can follow (its row is
 * retryable, or the server sent `x-should-retry: true`). A wait before an `insufficient_quota` or a 400
 * would only invite a retry that cannot succeed.
 */
export function keepsWait(e: ReturnType<typeof entryOf>, shouldRetryHeader: boolean | undefined): boolean {
  return e.retryable || shouldRetryHeader === true;
}

const clip = (text: string, max: number, mark: string): string => redact(text.length > max ? `${text.slice(0, max)}${mark}` : text);

/**
 * Build a {@link Failure} by hand (the errors made without a wire value, the background's deadline and
 * abort errors): `name`, `category` and `retryable` come from the catalog row of `code`; the message
 * defaults to the row's summary; the message and the wire strings are clipped and redacted; a
 * `retryAfterMs` is dropped unless {@link keepsWait}.
 */
export function failureOf(code: FailureCode, fields: FailureFields = {}): Failure {
  const e = entryOf(code);
  const f = failureBase(e, fields.message === undefined ? e.summary : clip(fields.message, MAX_MESSAGE, '… [truncated]'), fields.source ?? 'unknown');
  if (fields.retryAfterMs !== undefined && keepsWait(e, fields.shouldRetryHeader)) f.retryAfterMs = fields.retryAfterMs;
  if (fields.status !== undefined) f.status = fields.status;
  if (fields.wireCode !== undefined) f.wireCode = clip(fields.wireCode, MAX_SHORT, '');
  if (fields.wireType !== undefined) f.wireType = clip(fields.wireType, MAX_SHORT, '');
  if (fields.param !== undefined) f.param = clip(fields.param, MAX_SHORT, '');
  if (fields.requestId !== undefined) f.requestId = clip(fields.requestId, MAX_SHORT, '');
  if (fields.objectId !== undefined) f.objectId = clip(fields.objectId, MAX_SHORT, '');
  if (fields.transportCode !== undefined) f.transportCode = clip(fields.transportCode, MAX_SHORT, '');
  if (fields.shouldRetryHeader !== undefined) f.shouldRetryHeader = fields.shouldRetryHeader;
  return f;
}
