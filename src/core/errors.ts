/**
 * Typed errors: one base class and one class per catalog code.
 *
 * - Branded with `Symbol.for('faultline.error')`, so detection works across duplicate installed copies
 *   and versions of faultline (`FaultlineError.isInstance(e)` and `instanceof` both read the brand).
 * - `instanceof` on a specific class also recognises *foreign* errors by what they mean:
 *   `sdkError instanceof RateLimitError` is true for an `openai` SDK 429 that classifies as
 *   `rate_limit_exceeded`, and false for an `insufficient_quota` 429. The type narrows honestly to
 *   `RateLimitError | ForeignFailure`: call {@link toError} to read faultline's fields off a foreign error.
 * - `toJSON()` carries no secrets: messages are redacted and no headers are kept.
 * - Inspection and logging (`util.inspect`, `console.log`, `util.format('%o')`) show a redacted view of
 *   the error and of its whole `cause` chain; `cause` itself stays the original object (see
 *   {@link FaultlineError}).
 */
import { ERROR_BRAND, isBranded, stampBrand } from './brand.ts';
import { entryOf, type CatalogEntry, type FailureCode } from './catalog.ts';
import { classify, detectFailure, type ClassifyOptions } from './classify/index.ts';
import { get } from './classify/values.ts';
import { failureOf, type Failure } from './failure.ts';
import { INSPECT_CUSTOM, redact, redactingInspect } from './redact.ts';

/** An error from elsewhere (the `openai` SDK, undici, a DOMException) that classifies as a given code. */
export interface ForeignFailure extends Error {
  readonly status?: number | undefined;
  readonly code?: unknown;
}

/** Options for constructing a faultline error by hand. */
export interface FaultlineErrorOptions {
  /** The original failure (an SDK error, a Response object, a transport error...). */
  readonly cause?: unknown;
  /** The object whose partial output should stay reachable (a Response, chat completion or batch). */
  readonly response?: unknown;
}

// Foreign errors are classified at most once per `instanceof` chain.
const foreignCodes = new WeakMap<object, FailureCode>();

function foreignCode(value: object): FailureCode {
  let code = foreignCodes.get(value);
  if (code === undefined) {
    code = classify(value).code;
    foreignCodes.set(value, code);
  }
  return code;
}

function isErrorLike(value: object): boolean {
  try {
    // `instanceof` itself can throw (a Proxy's getPrototypeOf trap).
    if (value instanceof Error) return true;
    return typeof (value as { stack?: unknown }).stack === 'string' && typeof (value as { message?: unknown }).message === 'string';
  } catch {
    return false;
  }
}

/**
 * The base of every faultline error. Catch it to handle any classified OpenAI failure.
 *
 * **Secrets policy.** `message`, `stack`, `failure` and `toJSON()` never hold an API key or an
 * `Authorization` value: they are redacted when the error is built. `cause` is the original failure (an
 * SDK error, a transport error, the object that failed) kept *untouched* for programs, and it can hold
 * what the server echoed: a key in its message, its `headers` (your `Authorization`, Azure's `api-key`),
 * its `error` body. So:
 * - `util.inspect(error)`, and so `console.log(error)`, `util.format('%o' / '%O', error)` and loggers
 *   built on them, show a **redacted view**: the same class, message, stack and fields, with the `cause`
 *   chain (and any nested `cause`, `errors`, `headers`, error bodies) copied through `redact()` and
 *   `redactHeaders()`, secret-named fields (`authorization`, `api-key`, `apiKey`...) shown as
 *   `[REDACTED]`, cycles cut;
 * - `JSON.stringify(error)` uses `toJSON()`: name, code, message, failure and a summary of the cause
 *   (its name, message, code, status); no headers, no body;
 * - reading `error.cause` yourself gives you the original, secrets included: log it through
 *   `redact()`/`redactHeaders()`, or log the error instead.
 */
export class FaultlineError<C extends FailureCode = FailureCode> extends Error {
  /** The code this class stands for; `undefined` on the base class. */
  static readonly code: FailureCode | undefined = undefined;

  /** The stable catalog code. */
  readonly code: C;
  /** Everything faultline knows about the failure (plain, redacted data). */
  readonly failure: Failure;
  /** The Response, chat completion or batch that failed, with any partial output. */
  readonly response: unknown;
  declare readonly [ERROR_BRAND]: true;

  /**
   * @param failure a classified {@link Failure}, or a message (the code is the class's own).
   */
  constructor(failure?: Failure | string, options?: FaultlineErrorOptions) {
    const ctor = new.target as unknown as { code: FailureCode | undefined };
    const f = typeof failure === 'object' && failure !== null ? redactedFailure(failure) : failureOf(ctor.code ?? 'unknown', { message: failure });
    super(f.message, options && 'cause' in options ? { cause: options.cause } : undefined);
    this.code = f.code as C;
    this.failure = f;
    this.response = options?.response;
    stampBrand(this, ERROR_BRAND);
    // Keep `response` out of enumeration (and so out of util.inspect noise); it stays readable.
    Object.defineProperty(this, 'response', { enumerable: false, value: options?.response });
  }

  /** Whether trying again can succeed (see {@link Failure.retryable}). */
  get retryable(): boolean {
    return this.failure.retryable;
  }
  /** How long the server asked to wait before retrying, in milliseconds, if it said. */
  get retryAfterMs(): number | undefined {
    return this.failure.retryAfterMs;
  }
  /** The HTTP status, only if a transport really had one. */
  get status(): number | undefined {
    return this.failure.status;
  }
  /** The request id (`x-request-id`), if known. */
  get requestId(): string | undefined {
    return this.failure.requestId;
  }
  /** The catalog row: category, troubleshooting text. */
  get entry(): CatalogEntry {
    return entryOf(this.failure.code);
  }

  /** True for any faultline error, from any installed copy or version. */
  static isInstance(value: unknown): value is FaultlineError {
    return isBranded(value, ERROR_BRAND);
  }

  /**
   * `FaultlineError`: the brand. A specific class: a faultline error with that code, or a foreign error
   * (any `Error`) that classifies to that code.
   */
  static override [Symbol.hasInstance]<T extends FaultlineError>(
    this: abstract new (...args: never[]) => T,
    value: unknown,
  ): value is T | (FailureCode extends T['code'] ? never : ForeignFailure) {
    if (typeof value !== 'object' || value === null) return false;
    const code = (this as unknown as { code: FailureCode | undefined }).code;
    const branded = isBranded(value, ERROR_BRAND);
    if (code === undefined) {
      // The base class, or a user subclass of it: the brand plus the prototype chain.
      return branded && (this === (FaultlineError as unknown) || Function.prototype[Symbol.hasInstance].call(this, value));
    }
    if (branded) return (value as { code?: unknown }).code === code;
    // A foreign value: isErrorLike() and classify() read it defensively, never throwing.
    if (code === 'unknown' || !isErrorLike(value)) return false;
    return foreignCode(value) === code;
  }

  /** A JSON-safe summary with no secrets: messages are redacted, no headers, the cause summarised. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, message: redact(this.message), failure: this.failure };
    if (this.cause !== undefined) out.cause = summarize(this.cause);
    return out;
  }
}

// What `util.inspect` (and so `console.log`) shows: a redacted view of the error and its cause chain
// (see the secrets policy on FaultlineError). Keyed by `Symbol.for`, so the core needs no `node:util`.
Object.defineProperty(FaultlineError.prototype, INSPECT_CUSTOM, { value: redactingInspect, writable: true, configurable: true });

/** A hand-made {@link Failure} with its strings redacted (the same object when nothing changes). */
function redactedFailure(f: Failure): Failure {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(f)) {
    if (typeof v !== 'string') continue;
    const r = redact(v);
    if (r !== v) (out ??= { ...f })[k] = r;
  }
  return (out ?? f) as Failure;
}

/** A JSON-safe, secret-free summary of a cause: only its name, message, code and numeric status. */
function summarize(cause: unknown): unknown {
  if (typeof cause === 'string') return redact(cause.slice(0, 4096));
  if (typeof cause === 'number' || typeof cause === 'boolean' || cause === null) return cause;
  if (typeof cause !== 'object' && typeof cause !== 'function') return String(cause); // bigint, symbol, undefined
  const out: Record<string, unknown> = {};
  const read = (key: string): unknown => {
    try {
      return (cause as Record<string, unknown>)[key];
    } catch {
      return undefined;
    }
  };
  const name = read('name');
  const ctor = read('constructor');
  let ctorName: unknown;
  try {
    ctorName = typeof ctor === 'function' ? ctor.name : undefined;
  } catch {
    ctorName = undefined;
  }
  const chosen = typeof name === 'string' && name !== 'Error' ? name : ctorName;
  if (typeof chosen === 'string' && chosen !== '') out.name = redact(chosen.slice(0, 256));
  const message = read('message');
  if (typeof message === 'string') out.message = redact(message.slice(0, 4096));
  const code = read('code');
  if (typeof code === 'string') out.code = redact(code.slice(0, 256));
  else if (typeof code === 'number' && Number.isFinite(code)) out.code = code;
  const status = read('status');
  if (typeof status === 'number' && Number.isFinite(status)) out.status = status;
  return out;
}

/** `rate_limit_exceeded`: Too many requests or tokens per minute for this organization and model; wait and retry. */
export class RateLimitError extends FaultlineError<'rate_limit_exceeded'> {
  static override readonly code = 'rate_limit_exceeded';
  declare readonly name: 'RateLimitError';
}

/** `insufficient_quota`: The account has no credit or hit a spend/usage limit; retrying cannot help. */
export class QuotaExceededError extends FaultlineError<'insufficient_quota'> {
  static override readonly code = 'insufficient_quota';
  declare readonly name: 'QuotaExceededError';
}

/** `request_too_large`: This one request needs more tokens than the whole per-minute budget (or the body is too big). */
export class RequestTooLargeError extends FaultlineError<'request_too_large'> {
  static override readonly code = 'request_too_large';
  declare readonly name: 'RequestTooLargeError';
}

/** `context_length_exceeded`: Prompt plus requested output exceed the model's context window. */
export class ContextLengthExceededError extends FaultlineError<'context_length_exceeded'> {
  static override readonly code = 'context_length_exceeded';
  declare readonly name: 'ContextLengthExceededError';
}

/** `invalid_request`: The request is malformed or has an invalid parameter. */
export class BadRequestError extends FaultlineError<'invalid_request'> {
  static override readonly code = 'invalid_request';
  declare readonly name: 'BadRequestError';
}

/** `invalid_image`: An input image could not be downloaded, decoded or accepted. */
export class InvalidImageError extends FaultlineError<'invalid_image'> {
  static override readonly code = 'invalid_image';
  declare readonly name: 'InvalidImageError';
}

/** `content_policy_violation`: The input was refused by a safety system. */
export class ContentPolicyError extends FaultlineError<'content_policy_violation'> {
  static override readonly code = 'content_policy_violation';
  declare readonly name: 'ContentPolicyError';
}

/** `content_filtered`: The output was cut off by a content filter. */
export class ContentFilteredError extends FaultlineError<'content_filtered'> {
  static override readonly code = 'content_filtered';
  declare readonly name: 'ContentFilteredError';
}

/** `max_output_tokens`: The output stopped at the output-token limit. */
export class MaxOutputTokensError extends FaultlineError<'max_output_tokens'> {
  static override readonly code = 'max_output_tokens';
  declare readonly name: 'MaxOutputTokensError';
}

/** `incomplete`: The response ended `incomplete` for a reason other than the token limit or a filter. */
export class IncompleteResponseError extends FaultlineError<'incomplete'> {
  static override readonly code = 'incomplete';
  declare readonly name: 'IncompleteResponseError';
}

/** `authentication_error`: The API key is missing, wrong, revoked or for another organization. */
export class AuthenticationError extends FaultlineError<'authentication_error'> {
  static override readonly code = 'authentication_error';
  declare readonly name: 'AuthenticationError';
}

/** `permission_denied`: The key is valid but may not do this. */
export class PermissionDeniedError extends FaultlineError<'permission_denied'> {
  static override readonly code = 'permission_denied';
  declare readonly name: 'PermissionDeniedError';
}

/** `model_not_found`: The model or Azure deployment does not exist or is not available to this key. */
export class ModelNotFoundError extends FaultlineError<'model_not_found'> {
  static override readonly code = 'model_not_found';
  declare readonly name: 'ModelNotFoundError';
}

/** `not_found`: The resource (response, file, batch…) does not exist. */
export class NotFoundError extends FaultlineError<'not_found'> {
  static override readonly code = 'not_found';
  declare readonly name: 'NotFoundError';
}

/** `conflict`: The resource is in a state that conflicts with the request. */
export class ConflictError extends FaultlineError<'conflict'> {
  static override readonly code = 'conflict';
  declare readonly name: 'ConflictError';
}

/** `server_error`: The API (or a gateway in front of it) failed; retry with backoff. */
export class InternalServerError extends FaultlineError<'server_error'> {
  static override readonly code = 'server_error';
  declare readonly name: 'InternalServerError';
}

/** `overloaded`: The service is temporarily over capacity; back off and retry. */
export class OverloadedError extends FaultlineError<'overloaded'> {
  static override readonly code = 'overloaded';
  declare readonly name: 'OverloadedError';
}

/** `timeout`: The request took too long (client timeout, 408, 504, 524 or a server-side tool timeout). */
export class TimeoutError extends FaultlineError<'timeout'> {
  static override readonly code = 'timeout';
  declare readonly name: 'TimeoutError';
}

/** `connection_error`: The connection failed or was cut (reset, refused, DNS, socket closed mid-body). */
export class ConnectionError extends FaultlineError<'connection_error'> {
  static override readonly code = 'connection_error';
  declare readonly name: 'ConnectionError';
}

/** `aborted`: Your code aborted the request (AbortSignal). */
export class UserAbortError extends FaultlineError<'aborted'> {
  static override readonly code = 'aborted';
  declare readonly name: 'UserAbortError';
}

/** `cancelled`: The background response or batch was cancelled. */
export class CancelledError extends FaultlineError<'cancelled'> {
  static override readonly code = 'cancelled';
  declare readonly name: 'CancelledError';
}

/** `expired`: The job or stored response expired before it finished or was read. */
export class ExpiredError extends FaultlineError<'expired'> {
  static override readonly code = 'expired';
  declare readonly name: 'ExpiredError';
}

/** `unknown`: A failure faultline does not recognise; the raw wire values are kept. */
export class UnknownFailureError extends FaultlineError<'unknown'> {
  static override readonly code = 'unknown';
  declare readonly name: 'UnknownFailureError';
}

/** The error class for every code. */
export const ERROR_CLASSES = {
  rate_limit_exceeded: RateLimitError,
  insufficient_quota: QuotaExceededError,
  request_too_large: RequestTooLargeError,
  context_length_exceeded: ContextLengthExceededError,
  invalid_request: BadRequestError,
  invalid_image: InvalidImageError,
  content_policy_violation: ContentPolicyError,
  content_filtered: ContentFilteredError,
  max_output_tokens: MaxOutputTokensError,
  incomplete: IncompleteResponseError,
  authentication_error: AuthenticationError,
  permission_denied: PermissionDeniedError,
  model_not_found: ModelNotFoundError,
  not_found: NotFoundError,
  conflict: ConflictError,
  server_error: InternalServerError,
  overloaded: OverloadedError,
  timeout: TimeoutError,
  connection_error: ConnectionError,
  aborted: UserAbortError,
  cancelled: CancelledError,
  expired: ExpiredError,
  unknown: UnknownFailureError,
} as const satisfies { readonly [C in FailureCode]: new (failure?: Failure | string, options?: FaultlineErrorOptions) => FaultlineError<C> };

// `name` lives on each prototype (not as an own field) so stack traces start with the class name.
for (const cls of Object.values(ERROR_CLASSES)) {
  Object.defineProperty(cls.prototype, 'name', { value: entryOf(cls.code).name, writable: true, configurable: true });
}
Object.defineProperty(FaultlineError.prototype, 'name', { value: 'FaultlineError', writable: true, configurable: true });

/** The typed error class for a code. */
export type ErrorClassOf<C extends FailureCode> = InstanceType<(typeof ERROR_CLASSES)[C]>;

/**
 * The typed faultline error for anything that went wrong. A faultline error is returned as it is; any
 * other value is classified and wrapped, the original kept on `cause`.
 *
 * @throws TypeError when `input` shows success (a `completed` Response, a chat completion that stopped
 *   normally, an HTTP answer below 400…): that is a mistake in the caller, and a wrapped "not a failure"
 *   would hide it. Check such a value with {@link detectFailure} or {@link assertSucceeded}. A caught
 *   value (an `Error`) never takes this path.
 */
export function toError(input: unknown, options?: ClassifyOptions & { readonly response?: unknown }): FaultlineError {
  if (FaultlineError.isInstance(input)) return input;
  let failure = detectFailure(input, options);
  if (failure === null) {
    if (typeof input !== 'object' || input === null || !isErrorLike(input)) {
      throw new TypeError(`toError: input is a success (${successShape(input)}), not a failure; check it with detectFailure() or assertSucceeded()`);
    }
    failure = classify(input, options);
  }
  return errorFor(failure, { cause: input, response: options?.response });
}

/** A few words naming what a success looked like, for {@link toError}'s message (short, redacted). */
function successShape(input: unknown): string {
  const shown = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(redact(v.slice(0, 64))) : typeof v);
  const object = get(input, 'object');
  const status = get(input, 'status');
  if (object === 'response') return status === 'completed' ? 'a completed Response' : `a Response with status ${shown(status)}`;
  if (object === 'chat.completion' || object === 'chat.completion.chunk') return `a ${object === 'chat.completion' ? 'chat completion' : 'chat completion chunk'} that did not fail`;
  if (object === 'batch') return `a batch with status ${shown(status)}`;
  const type = get(input, 'type');
  if (typeof type === 'string') return get(input, 'data') !== undefined && get(input, 'id') !== undefined ? `a webhook event of type ${shown(type)}` : `a stream event of type ${shown(type)}`;
  if (typeof status === 'number') return `an HTTP answer with status ${status}`;
  return 'it shows no failure';
}

/** Build the typed error for a classified failure (not exported from an entry). */
export function errorFor(failure: Failure, options: FaultlineErrorOptions): FaultlineError {
  const Cls = ERROR_CLASSES[failure.code];
  return new Cls(failure, options);
}

/** Options for {@link assertSucceeded}. */
export interface AssertOptions extends ClassifyOptions {
  /**
   * What to do with an `incomplete` Response or a chat completion cut by length or a filter: `'throw'`
   * the typed error, or `'return'` the object after calling `onIncomplete`.
   * @default 'throw'
   */
  readonly incomplete?: 'throw' | 'return';
  /**
   * Called with the typed error when `incomplete: 'return'` lets an incomplete object through.
   * @default emits a process warning with code `FAULTLINE_INCOMPLETE`
   */
  readonly onIncomplete?: (error: FaultlineError) => void;
}

/**
 * Return `value` if it is a success; otherwise throw its typed error. Works on Responses
 * (`failed`, `cancelled`, `incomplete`), chat completions (`finish_reason` `length` /
 * `content_filter`), batches (`failed`, `expired`, `cancelled`, `completed` with every request failed)
 * and anything else {@link detectFailure} reads. The object stays reachable as `error.response`.
 */
export function assertSucceeded<T>(value: T, options?: AssertOptions): T {
  const incomplete = options?.incomplete === undefined ? 'throw' : options.incomplete;
  if (incomplete !== 'throw' && incomplete !== 'return') {
    throw new TypeError(`assertSucceeded: options.incomplete must be 'throw' or 'return', got ${JSON.stringify(incomplete)}`);
  }
  const failure = detectFailure(value, options);
  if (failure === null) return value;
  const error = errorFor(failure, { cause: value, response: value });
  if (incomplete === 'return' && (failure.category === 'incomplete' || failure.code === 'content_filtered')) {
    if (options?.onIncomplete) options.onIncomplete(error);
    else if (typeof process !== 'undefined' && typeof process.emitWarning === 'function') {
      process.emitWarning(`${error.name}: ${error.message}`, { code: 'FAULTLINE_INCOMPLETE' });
    }
    return value;
  }
  throw error;
}
