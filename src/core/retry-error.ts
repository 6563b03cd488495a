/**
 * The error thrown when retrying gives up: it keeps every attempt's {@link Failure}, the reason, and the
 * last attempt's original error on `cause`.
 */
import { ERROR_BRAND, isBranded, RETRY_ERROR_BRAND, stampBrand } from './brand.ts';
import type { FailureCode } from './catalog.ts';
import { FaultlineError } from './errors.ts';
import { failureOf, type Failure } from './failure.ts';
import { redact } from './redact.ts';

/** Why retrying stopped. */
export type RetryGiveUpReason =
  /** `retries` retries were made and the last one failed too. */
  | 'retries_exhausted'
  /** The next wait would end after `maxRetryTimeMs`. */
  | 'retry_time_exhausted';

/**
 * Thrown when every allowed attempt failed with a retryable failure. A {@link FaultlineError}: its
 * `code` and `failure` are the last attempt's, so `catch (e) { if (e instanceof FaultlineError) … }` and
 * `switch (e.code)` see a retry that gave up like any other failure, and `e instanceof RateLimitError` is
 * true when the last attempt was rate limited.
 */
export class RetryError<C extends FailureCode = FailureCode> extends FaultlineError<C> {
  /** Every attempt's failure, first to last. */
  readonly attempts: readonly Failure[];
  /** Why retrying stopped. */
  readonly reason: RetryGiveUpReason;
  declare readonly [RETRY_ERROR_BRAND]: true;

  /**
   * @param waitingFor what was being waited for when no attempt was made at all (a request that could
   *   not get a turn within its budget because the model is paused): its code and message.
   */
  constructor(reason: RetryGiveUpReason, attempts: readonly Failure[], cause: unknown, waitingFor?: { readonly code: FailureCode; readonly message: string }) {
    const last = attempts[attempts.length - 1] ?? failureOf(waitingFor?.code ?? 'unknown', waitingFor === undefined ? {} : { message: waitingFor.message });
    super(last, { cause });
    const what = reason === 'retries_exhausted' ? 'no retries left' : 'the retry time budget is spent';
    // The summary of the whole loop; `failure.message` stays the last attempt's own. (V8 formats
    // `stack` on first read, so it starts with this message too.)
    this.message = redact(`Gave up after ${attempts.length} attempt${attempts.length === 1 ? '' : 's'} (${what}); last failure: ${last.code}: ${last.message}`);
    this.attempts = Object.freeze([...attempts]);
    this.reason = reason;
    stampBrand(this, RETRY_ERROR_BRAND);
  }

  /** The last attempt's failure (`undefined` when no attempt was made). */
  get lastFailure(): Failure | undefined {
    return this.attempts[this.attempts.length - 1];
  }

  /** True for a `RetryError` from any installed copy or version of faultline. */
  static override isInstance(value: unknown): value is RetryError {
    return isBranded(value, RETRY_ERROR_BRAND) && isBranded(value, ERROR_BRAND);
  }

  /** `instanceof RetryError` reads the brand, so it holds for a `RetryError` from any copy of faultline. */
  static override [Symbol.hasInstance]<T extends FaultlineError>(this: abstract new (...args: never[]) => T, value: unknown): value is T {
    return RetryError.isInstance(value);
  }

  /** A JSON-safe summary with no secrets: the base's, plus why retrying stopped and every attempt. */
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), reason: this.reason, attempts: this.attempts };
  }
}
Object.defineProperty(RetryError.prototype, 'name', { value: 'RetryError', writable: true, configurable: true });

/**
 * Thrown by a wait inside an attempt (the pacer's queue) that cannot end within the request's
 * `maxRetryTimeMs`; the retry loop turns it into a {@link RetryError} (`retry_time_exhausted`). Not
 * exported from an entry.
 */
export class RetryTimeSpent extends Error {
  /** What the request was waiting for (a rate-limit pause). */
  readonly waitingFor: { readonly code: FailureCode; readonly message: string };
  constructor(message: string, code: FailureCode) {
    super(message);
    this.waitingFor = { code, message };
  }
}

/** True for a {@link RetryError} from any copy of faultline. */
export function isRetryError(value: unknown): value is RetryError {
  return RetryError.isInstance(value);
}
