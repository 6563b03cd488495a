import type { Category, ErrorName, FailureCode } from './catalog.ts';

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
