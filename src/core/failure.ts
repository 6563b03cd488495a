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

const clipShort = (text: string): string => redact(text.length > MAX_SHORT ? text.slice(0, MAX_SHORT) : text);

/**
 * The one place a {@link Failure} is built (classify's builder, the hand-made errors and the background's
 * deadline and abort errors all call it): `name`, `category` and `retryable` come from the catalog row
 * of `code`; the message defaults to the row's summary; a `retryAfterMs` is dropped for a failure that is
 * never retried (not retryable and no `x-should-retry: true`), since a wait before it would only invite
 * a retry that cannot succeed.
 *
 * @param strings `'redact'` (the default) clips the message and the wire strings and redacts them;
 *   `'clean'` trusts the caller to have done so already (classify's builder, which redacts while it
 *   scans and must not pay for a second pass).
 */
export function failureOf(code: FailureCode, fields: FailureFields = {}, strings: 'redact' | 'clean' = 'redact'): Failure {
  const e = entryOf(code);
  const clean = strings === 'clean';
  const text = fields.message;
  const message = text === undefined ? e.summary : clean ? text : redact(text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}… [truncated]` : text);
  const f: Mutable<Failure> = { code, name: e.name, category: e.category, retryable: e.retryable, message, source: fields.source ?? 'unknown' };
  if (fields.retryAfterMs !== undefined && (e.retryable || fields.shouldRetryHeader === true)) f.retryAfterMs = fields.retryAfterMs;
  if (fields.status !== undefined) f.status = fields.status;
  if (fields.wireCode !== undefined) f.wireCode = clean ? fields.wireCode : clipShort(fields.wireCode);
  if (fields.wireType !== undefined) f.wireType = clean ? fields.wireType : clipShort(fields.wireType);
  if (fields.param !== undefined) f.param = clean ? fields.param : clipShort(fields.param);
  if (fields.requestId !== undefined) f.requestId = clean ? fields.requestId : clipShort(fields.requestId);
  if (fields.objectId !== undefined) f.objectId = clean ? fields.objectId : clipShort(fields.objectId);
  if (fields.transportCode !== undefined) f.transportCode = clean ? fields.transportCode : clipShort(fields.transportCode);
  if (fields.shouldRetryHeader !== undefined) f.shouldRetryHeader = fields.shouldRetryHeader;
  // Not frozen: the type is readonly already, and Object.freeze() here cost about 80 ns per classify()
  // (measured: some 10 % of reading an SDK error), on the hottest path of the library.
  return f;
}
