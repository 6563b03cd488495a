/**
 * Retry and pacing: `createFetch()` for the SDKs, the `retry()` executor, and the policy pieces as
 * values (backoff, rate limiter) for use without the fetch.
 *
 * Left out on purpose: the pacer queue and the retry loop's internal hooks (implementation details of
 * `createFetch`), any implementation of a cross-process budget (`faultline/redis` has one; only its
 * contract, {@link SharedBudget}, is here), and a second name for `createFetch`: a `fetch` export would
 * hide the global `fetch` in every module that imports it.
 */
export { backoffDelays, constantBackoff, exponentialBackoff } from './backoff.ts';
export type { Backoff, BackoffStep, ExponentialBackoffOptions } from './backoff.ts';
export { actualCost, estimateCost, readUsage } from './estimate.ts';
export type { CostEstimate, UsageTokens } from './estimate.ts';
export { createFetch } from './fetch.ts';
export type { CreateFetchOptions, FetchFunction, PacingLimits } from './fetch.ts';
export type { AcquireOptions, BudgetDecision, BudgetGrant, BudgetStatus, SharedBudget } from './budget.ts';
export { readRateLimitHeaders } from './headers.ts';
export type { HeaderSource, LimitReading, RateLimitHeaders } from './headers.ts';
export { RateLimiter } from './limiter.ts';
export type { Grant, LimiterMode, LimiterState, RateLimiterOptions } from './limiter.ts';
export { isRetryableFailure, NEVER_RETRIED_CODES, retry, RETRYABLE_CODES } from './retry.ts';
export type { AttemptContext, RetryInfo, RetryOptions } from './retry.ts';
export { isRetryError, RetryError } from '../core/retry-error.ts';
export type { RetryGiveUpReason } from '../core/retry-error.ts';
