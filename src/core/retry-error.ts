/**
 * The error thrown when retrying gives up: it keeps every attempt's {@link Failure}, the reason, and the
 * last attempt's original error on `cause`.
 */
import type { FailureCode } from './catalog.ts';
import type { Failure } from './failure.ts';
import { INSPECT_CUSTOM, redact, redactingInspect } from './redact.ts';

const RETRY_BRAND: unique symbol = Symbol.for('faultline.retry-error') as never;

/** Why retrying stopped. */
export type RetryGiveUpReason =
  /** `retries` retries were made and the last one failed too. */
  | 'retries_exhausted'
  /** The next wait would end after `maxRetryTime`. */
  | 'retry_time_exhausted';

/** Thrown when every allowed attempt failed with a retryable failure. */
export class RetryError extends Error {
  /** The last attempt's code (so `switch (err.code)` works as for the typed errors). */
  readonly code: FailureCode;
  /** Every attempt's failure, first to last. */
  readonly attempts: readonly Failure[];
  /** Why retrying stopped. */
  readonly reason: RetryGiveUpReason;
  declare readonly [RETRY_BRAND]: true;

  /**
   * @param waitingFor what was being waited for when no attempt was made at all (a request that could
   *   not get a turn within its budget because the model is paused): its code and message.
   */
  constructor(reason: RetryGiveUpReason, attempts: readonly Failure[], cause: unknown, waitingFor?: { readonly code: FailureCode; readonly message: string }) {
    const last = attempts[attempts.length - 1] ?? waitingFor;
    const what = reason === 'retries_exhausted' ? 'no retries left' : 'the retry time budget is spent';
    super(`Gave up after ${attempts.length} attempt${attempts.length === 1 ? '' : 's'} (${what}); last failure: ${last?.code ?? 'unknown'}: ${last?.message ?? ''}`, { cause });
    this.code = last?.code ?? 'unknown';
    this.attempts = Object.freeze([...attempts]);
    this.reason = reason;
    Object.defineProperty(this, RETRY_BRAND, { value: true });
  }

  /** The last attempt's failure. */
  get lastFailure(): Failure | undefined {
    return this.attempts[this.attempts.length - 1];
  }

  /** True for a `RetryError` from any installed copy or version of faultline. */
  static isInstance(value: unknown): value is RetryError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[RETRY_BRAND] === true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return RetryError.isInstance(value);
  }

  /** A JSON-safe summary with no secrets (failures are already redacted data). */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, reason: this.reason, message: redact(this.message), attempts: this.attempts };
  }
}
Object.defineProperty(RetryError.prototype, 'name', { value: 'RetryError', writable: true, configurable: true });
// As for FaultlineError: util.inspect / console.log show a redacted view of the cause chain (the last
// attempt's SDK error may hold a key the server echoed); `cause` itself stays the original.
Object.defineProperty(RetryError.prototype, INSPECT_CUSTOM, { value: redactingInspect, writable: true, configurable: true });

/**
 * @internal Thrown by a wait inside an attempt (the pacer's queue) that cannot end within the request's
 * `maxRetryTime`; the retry loop turns it into a {@link RetryError} (`retry_time_exhausted`).
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
