/**
 * The failure catalog: faultline's public contract.
 *
 * Every failure faultline sees, however it arrives (a thrown SDK error, an HTTP record, a `failed`
 * Response on a 200 poll, a stream event, a batch line, a cut socket), is given exactly one of these
 * codes. Types, error classes, the generated docs (`docs/codes.md`) and the CLI's `explain` are all
 * derived from this table. A code is never renamed or removed within a major version: doing so is a
 * breaking change (see the README's versioning policy).
 *
 * `retryable` is THE answer to "is trying again worth it?": retry(), createFetch, the background
 * waiter and stream-follow all read it through {@link isRetryableFailure}, and nothing else decides it
 * (test/retry/one-rule.test.ts fails if a second list appears). For a terminal background Response it
 * means "a new `create` is worth trying", never "poll the same id again": a terminal Response never
 * changes.
 */
import type { Failure } from './failure.ts';

/** Broad families of failure, for handling several codes alike. */
export type Category =
  | 'rate_limit'
  | 'quota'
  | 'invalid_request'
  | 'content_policy'
  | 'incomplete'
  | 'auth'
  | 'permission'
  | 'not_found'
  | 'conflict'
  | 'server'
  | 'timeout'
  | 'connection'
  | 'aborted'
  | 'cancelled'
  | 'unknown';

/** One row of the catalog. */
export interface CatalogEntry {
  /** The stable code. Never renamed. */
  readonly code: string;
  /** The error class thrown for this code (also the error's `name`). */
  readonly name: string;
  readonly category: Category;
  /** Whether trying again (a new request, or a new `create` for a terminal Response) can succeed. */
  readonly retryable: boolean;
  /** One line for tables and `faultline codes`. */
  readonly summary: string;
  /** What it means. */
  readonly meaning: string;
  /** Common causes, most frequent first. */
  readonly causes: readonly string[];
  /** How to fix it. */
  readonly fix: readonly string[];
  /** How to know the fix worked. */
  readonly verify: string;
}

export const CATALOG = [
  {
    code: 'rate_limit_exceeded',
    name: 'RateLimitError',
    category: 'rate_limit',
    retryable: true,
    summary: 'Too many requests or tokens per minute for this organization and model; wait and retry.',
    meaning:
      'The organization sent more requests (RPM) or tokens (TPM) than its limit for this model allows in the current window. The request itself is fine and will succeed once the window refills.',
    causes: [
      'Bursts of concurrent requests with no client-side pacing.',
      'Many processes or machines sharing one API key with no shared budget.',
      'Retrying immediately after a 429 instead of honouring `retry-after-ms` / `retry-after`.',
      'A background response that failed with `error.code: "rate_limit_exceeded"` (arrives on a 200 poll, not as a thrown 429).',
    ],
    fix: [
      'Wait `failure.retryAfterMs` (from `retry-after-ms`, `retry-after` or the message) before retrying, with jitter.',
      'Pace requests to the limits in the `x-ratelimit-*` headers (`createFetch` does this).',
      'Share one budget across processes (faultline/redis).',
      'Ask for a higher tier if the sustained load is above the limit.',
    ],
    verify:
      'The `x-ratelimit-remaining-requests` / `-tokens` headers stay above zero and no 429s appear over a full minute of the same load.',
  },
  {
    code: 'insufficient_quota',
    name: 'QuotaExceededError',
    category: 'quota',
    retryable: false,
    summary: 'The account has no credit or hit a spend/usage limit; retrying cannot help.',
    meaning:
      'The organization or project has run out of prepaid credit, has no active billing, or reached a spend or usage limit. It arrives as a 429 like a rate limit, but waiting does not fix it.',
    causes: [
      'Prepaid credit balance exhausted (`insufficient_quota`, `credit_balance_exhausted`).',
      'Billing not set up or a failed payment (`billing_not_active`).',
      'A monthly or project spend/usage limit reached ("billing hard limit").',
      'Using a key of a project or organization other than the one that holds the credit.',
    ],
    fix: [
      'Add credit or fix billing in the dashboard, or raise the project\'s spend limit.',
      'Check that the API key belongs to the project and organization you expect.',
      'Do not retry: alert a human instead.',
    ],
    verify: 'A single small request with the same key succeeds.',
  },
  {
    code: 'request_too_large',
    name: 'RequestTooLargeError',
    category: 'invalid_request',
    retryable: false,
    summary: 'This one request needs more tokens than the whole per-minute budget (or the body is too big).',
    meaning:
      'The request\'s estimated tokens (prompt plus `max_tokens` / `max_output_tokens`) exceed the organization\'s entire tokens-per-minute limit, so it can never fit, however long you wait; or the HTTP body is above the size limit (413).',
    causes: [
      'A very long prompt or many attached files on a low tier.',
      'A large `max_tokens` / `max_output_tokens` reserved up front.',
      'A 413 for an oversized upload.',
    ],
    fix: [
      'Reduce the prompt or `max_output_tokens`, or split the work.',
      'Move to a model or tier with a larger TPM limit.',
    ],
    verify: 'The 429 "Request too large … on tokens per min" no longer appears for the reduced request.',
  },
  {
    code: 'context_length_exceeded',
    name: 'ContextLengthExceededError',
    category: 'invalid_request',
    retryable: false,
    summary: 'Prompt plus requested output exceed the model\'s context window.',
    meaning: 'The input tokens (plus the requested output) do not fit into the model\'s maximum context length.',
    causes: [
      'A conversation history that grew with every turn.',
      'Large tool outputs or documents pasted into the prompt.',
      'A `max_tokens` that, added to the prompt, exceeds the window.',
    ],
    fix: [
      'Truncate or summarise older turns; use `truncation: "auto"` on the Responses API.',
      'Lower `max_output_tokens`, or use a model with a larger context window.',
    ],
    verify: 'Count the tokens of the request locally and check they are under the model\'s limit; the 400 no longer appears.',
  },
  {
    code: 'invalid_request',
    name: 'BadRequestError',
    category: 'invalid_request',
    retryable: false,
    summary: 'The request is malformed or has an invalid parameter.',
    meaning: 'The API rejected the request as invalid (usually HTTP 400 or 422); sending it again unchanged gives the same answer.',
    causes: [
      'A wrong parameter name, type or value (see `failure.param`).',
      'A parameter the chosen model does not support.',
      'Malformed JSON from a hand-built request.',
    ],
    fix: ['Read `failure.message` and `failure.param`, correct the request, and send it again.'],
    verify: 'The corrected request returns 200.',
  },
  {
    code: 'invalid_image',
    name: 'InvalidImageError',
    category: 'invalid_request',
    retryable: false,
    summary: 'An input image could not be downloaded, decoded or accepted.',
    meaning: 'An image in the input is of an unsupported format, too large or small, not decodable, or its URL could not be fetched.',
    causes: [
      'An image URL that is private, expired or slow to download.',
      'Broken base64, or an unsupported media type.',
      'An image above the size limit or below the minimum dimensions.',
    ],
    fix: ['Re-encode the image as PNG/JPEG/WebP within the limits, or send it as base64 rather than a URL.'],
    verify: 'A request with the same image succeeds.',
  },
  {
    code: 'content_policy_violation',
    name: 'ContentPolicyError',
    category: 'content_policy',
    retryable: false,
    summary: 'The input was refused by a safety system.',
    meaning: 'The prompt (or an input image) was judged to violate the usage policies, so the request was refused before any output.',
    causes: [
      'Prompt content flagged by moderation (`invalid_prompt`, `content_policy_violation`, `bio_policy`).',
      'An input image flagged (`image_content_policy_violation`).',
      'Azure\'s content filter (400 `content_filter`, `ResponsibleAIPolicyViolation`).',
    ],
    fix: ['Change the input; do not retry it unchanged. Run the Moderation API first if inputs come from users.'],
    verify: 'The changed input is accepted.',
  },
  {
    code: 'content_filtered',
    name: 'ContentFilteredError',
    category: 'content_policy',
    retryable: false,
    summary: 'The output was cut off by a content filter.',
    meaning: 'Generation started but a content filter stopped the output (`incomplete_details.reason: "content_filter"` or `finish_reason: "content_filter"`). Partial output may exist.',
    causes: ['The model began producing content that the filter blocks.'],
    fix: ['Rephrase the request; inspect the partial output on the error (`error.response`).'],
    verify: 'The response completes with `status: "completed"` / `finish_reason: "stop"`.',
  },
  {
    code: 'max_output_tokens',
    name: 'MaxOutputTokensError',
    category: 'incomplete',
    retryable: false,
    summary: 'The output stopped at the output-token limit.',
    meaning: 'Generation stopped because it reached `max_output_tokens` / `max_tokens` (`incomplete_details.reason: "max_output_tokens"` or `finish_reason: "length"`). The partial output is on the error.',
    causes: [
      'A `max_output_tokens` too small for the answer, or reasoning that used the whole budget.',
      'A model that loops or rambles.',
    ],
    fix: ['Raise `max_output_tokens`, lower reasoning effort, or ask for a shorter answer.'],
    verify: 'The response completes with `status: "completed"` and `usage.output_tokens` below the limit.',
  },
  {
    code: 'incomplete',
    name: 'IncompleteResponseError',
    category: 'incomplete',
    retryable: false,
    summary: 'The response ended `incomplete` for a reason other than the token limit or a filter.',
    meaning: 'The Response finished with `status: "incomplete"` and a reason faultline does not map to a narrower code, or no reason at all. The raw reason is kept in `failure.wireCode`.',
    causes: ['A new incomplete reason introduced by the API.', 'A relay that dropped `incomplete_details`.'],
    fix: ['Inspect `failure.wireCode` and the partial output; report unknown reasons so the catalog can learn them.'],
    verify: 'The response completes with `status: "completed"`.',
  },
  {
    code: 'authentication_error',
    name: 'AuthenticationError',
    category: 'auth',
    retryable: false,
    summary: 'The API key is missing, wrong, revoked or for another organization.',
    meaning: 'The request was not authenticated (HTTP 401).',
    causes: [
      'A missing or mistyped `OPENAI_API_KEY`.',
      'A revoked or rotated key.',
      'An `OpenAI-Organization` / `OpenAI-Project` header that does not match the key.',
    ],
    fix: ['Set a valid key; check the organization and project headers.'],
    verify: '`GET /v1/models` with the same key returns 200.',
  },
  {
    code: 'permission_denied',
    name: 'PermissionDeniedError',
    category: 'permission',
    retryable: false,
    summary: 'The key is valid but may not do this.',
    meaning: 'The request was authenticated but is not allowed (HTTP 403): a model, region or feature the key has no access to.',
    causes: [
      'A model that needs organization verification or a higher tier.',
      'A request from an unsupported country or region.',
      'A project key restricted to other endpoints or models.',
    ],
    fix: ['Grant the key or project access, verify the organization, or use an allowed model.'],
    verify: 'The same request succeeds with the changed permissions.',
  },
  {
    code: 'model_not_found',
    name: 'ModelNotFoundError',
    category: 'not_found',
    retryable: false,
    summary: 'The model or Azure deployment does not exist or is not available to this key.',
    meaning: 'The requested model (or Azure deployment) is unknown, retired, or not available to this key.',
    causes: [
      'A typo in the model name, or a retired model.',
      'Azure: a deployment name that is not deployed in this resource (`DeploymentNotFound`).',
      'A model the project has no access to.',
    ],
    fix: ['List models with `GET /v1/models` and use one that is listed; on Azure, use the deployment name.'],
    verify: 'The model appears in `GET /v1/models` and the request succeeds.',
  },
  {
    code: 'not_found',
    name: 'NotFoundError',
    category: 'not_found',
    retryable: false,
    summary: 'The resource (response, file, batch…) does not exist.',
    meaning: 'The id or path refers to nothing (HTTP 404): never created, deleted, or created with `store: false`.',
    causes: [
      'A response created with `store: false` and then retrieved.',
      'A deleted object, or an id from another project.',
      'A wrong base URL or API path.',
    ],
    fix: ['Check the id and base URL; create background responses with `store: true`.'],
    verify: 'Retrieving the id returns 200.',
  },
  {
    code: 'conflict',
    name: 'ConflictError',
    category: 'conflict',
    retryable: true,
    summary: 'The resource is in a state that conflicts with the request.',
    meaning: 'The request conflicts with the current state of a resource (HTTP 409), for example an object that is being modified concurrently.',
    causes: ['Concurrent updates to the same object.', 'An operation that is not yet possible in the current state.'],
    fix: ['Retry after a short backoff; re-read the resource first if the operation depends on its state.'],
    verify: 'The retried request succeeds.',
  },
  {
    code: 'server_error',
    name: 'InternalServerError',
    category: 'server',
    retryable: true,
    summary: 'The API (or a gateway in front of it) failed; retry with backoff.',
    meaning: 'The server failed to process a valid request (HTTP 500/502 or `error.code: "server_error"` on a background Response).',
    causes: ['A transient fault in the API.', 'A proxy or gateway returning 502.', 'Azure `model_error`.'],
    fix: ['Retry with exponential backoff and jitter; for a background Response, create it again.'],
    verify: 'The retried request succeeds; the status page shows no incident.',
  },
  {
    code: 'overloaded',
    name: 'OverloadedError',
    category: 'server',
    retryable: true,
    summary: 'The service is temporarily over capacity; back off and retry.',
    meaning: 'The service is overloaded (HTTP 503/529, `server_is_overloaded`, "engine is currently overloaded"). Unlike a rate limit this is not your quota.',
    causes: ['High global demand on the model.', 'A regional capacity incident.'],
    fix: ['Retry with a longer backoff; consider a fallback model.'],
    verify: 'Requests succeed again and the status page shows no incident.',
  },
  {
    code: 'timeout',
    name: 'TimeoutError',
    category: 'timeout',
    retryable: true,
    summary: 'The request took too long (client timeout, 408, 504, 524 or a server-side tool timeout).',
    meaning: 'No answer arrived in time: the client gave up, or a gateway or the server timed out (408, 504, Cloudflare 524, `vector_store_timeout`).',
    causes: [
      'Long generations with a short client timeout.',
      'A gateway timeout in front of a slow request.',
      'A file_search over a large vector store.',
    ],
    fix: ['Raise the timeout, stream the response, or use `background: true` for long jobs; retry with backoff.'],
    verify: 'The request completes within the new timeout.',
  },
  {
    code: 'connection_error',
    name: 'ConnectionError',
    category: 'connection',
    retryable: true,
    summary: 'The connection failed or was cut (reset, refused, DNS, socket closed mid-body).',
    meaning: 'The transport failed before a complete answer arrived: connection refused or reset, DNS failure, or a socket closed mid-body (undici `terminated`).',
    causes: ['Network blips, proxies, NAT timeouts on idle keep-alive sockets.', 'DNS failures.', 'A server restart mid-stream.'],
    fix: ['Retry with backoff. A streaming request that already delivered bytes must be resumed, not re-sent.'],
    verify: 'The retried request succeeds.',
  },
  {
    code: 'aborted',
    name: 'UserAbortError',
    category: 'aborted',
    retryable: false,
    summary: 'Your code aborted the request (AbortSignal).',
    meaning: 'The request was aborted by the caller\'s `AbortSignal`. Nothing failed on the server side.',
    causes: ['An `AbortController.abort()` call, a user cancelling, or a shutdown.'],
    fix: ['Nothing to fix; do not retry unless the caller still wants the result.'],
    verify: 'Not applicable: this is the outcome you asked for.',
  },
  {
    code: 'cancelled',
    name: 'CancelledError',
    category: 'cancelled',
    retryable: false,
    summary: 'The background response or batch was cancelled.',
    meaning: 'The job ended with `status: "cancelled"`, through a cancel call by you or someone sharing the project.',
    causes: ['A call to `POST /v1/responses/{id}/cancel` or `/v1/batches/{id}/cancel`.'],
    fix: ['Create the job again if the result is still wanted.'],
    verify: 'A new job reaches `completed`.',
  },
  {
    code: 'expired',
    name: 'ExpiredError',
    category: 'timeout',
    // Not retryable, on purpose: the same call cannot succeed (the batch's window has passed, the stored
    // response or upload is gone, the Realtime session hit its maximum duration). Submitting the work
    // again is new work — a new batch, a new session, paid again — that the caller decides, not a retry
    // with backoff. retry() and the background waiter always treated it so; the row now says it too.
    retryable: false,
    summary: 'The job or stored response expired before it finished or was read.',
    meaning: 'A batch passed its completion window (`expired`, `batch_expired`), or a background response outlived its retention and is gone.',
    causes: ['A batch that did not finish within its `completion_window`.', 'Reading a background response long after it finished.'],
    fix: ['Submit the expired work again; store results as soon as they are seen (faultline\'s journal does).'],
    verify: 'The resubmitted job completes within its window.',
  },
  {
    code: 'unknown',
    name: 'UnknownFailureError',
    category: 'unknown',
    retryable: false,
    summary: 'A failure faultline does not recognise; the raw wire values are kept.',
    meaning: 'faultline does not recognise this failure and will not guess. `failure.wireCode`, `wireType`, `status` and `message` hold what arrived, for example a `failed` Response with `error: null`.',
    causes: ['A new error code introduced by the API.', 'A relay or proxy that rewrote the error.', 'A `failed` Response with no error object.'],
    fix: ['Inspect the raw values; report the payload so the catalog can learn it.'],
    verify: 'Not applicable.',
  },
] as const satisfies readonly CatalogEntry[];

/** Every stable failure code. */
export type FailureCode = (typeof CATALOG)[number]['code'];
/** Every error class name. */
export type ErrorName = (typeof CATALOG)[number]['name'];
/** The error class name for a code. */
export type NameOf<C extends FailureCode> = Extract<(typeof CATALOG)[number], { code: C }>['name'];

/** One row of {@link CATALOG}, with its literal types (module-private: the public types inline it). */
type Row = (typeof CATALOG)[number];

/** Every failure code, in catalog order. */
export const FAILURE_CODES: readonly FailureCode[] = Object.freeze(CATALOG.map((e) => e.code));

const BY_CODE: ReadonlyMap<string, Row> = new Map(CATALOG.map((e) => [e.code, e]));

/** The catalog row for a code, or `undefined` for a string that is not a code. */
export function getEntry(code: string): CatalogEntry | undefined {
  return BY_CODE.get(code);
}

/** True when `value` is one of the stable failure codes. */
export function isFailureCode(value: unknown): value is FailureCode {
  return typeof value === 'string' && BY_CODE.has(value);
}

/** The codes whose catalog row says trying again can succeed. */
export const RETRYABLE_CODES: ReadonlySet<FailureCode> = new Set(CATALOG.filter((e) => e.retryable).map((e) => e.code));

/**
 * The codes never retried, whatever a header says: every row that is not {@link RETRYABLE_CODES} except
 * `unknown`, which a server's explicit `x-should-retry: true` may still open (as the SDK would).
 */
export const NEVER_RETRIED_CODES: ReadonlySet<FailureCode> = new Set(CATALOG.filter((e) => !e.retryable && e.code !== 'unknown').map((e) => e.code));

/**
 * Whether a failure is worth another attempt: its catalog row, then the server's `x-should-retry`
 * (`false` stops any retry; `true` opens one for `unknown`). The one rule every retrying part follows.
 */
export function isRetryableFailure(failure: Pick<Failure, 'code' | 'shouldRetryHeader'>): boolean {
  if (NEVER_RETRIED_CODES.has(failure.code)) return false;
  if (failure.shouldRetryHeader === false) return false;
  return RETRYABLE_CODES.has(failure.code) || failure.shouldRetryHeader === true;
}

/** The catalog row for a code (not exported from an entry: users call {@link getEntry}). */
export function entryOf(code: FailureCode): Row {
  // Every FailureCode is in the map by construction.
  return BY_CODE.get(code) as Row;
}
