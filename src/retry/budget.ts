/**
 * The contract of a rate-limit budget shared by many processes (`createFetch({ budget })`). Types only:
 * the core implements none of it and depends on nothing; `faultline/redis`'s `redisBudget()` is the
 * implementation this package ships, and any object of this shape plugs in the same way.
 */
import type { RateLimitHeaders } from './headers.ts';

/**
 * What one process holds after {@link SharedBudget.acquire} reserved room for a request. Hand it back
 * exactly once to {@link SharedBudget.reconcile} (the request was sent) or {@link SharedBudget.release}
 * (it never reached the server, or the server charged nothing). Its bookkeeping is private.
 */
export interface BudgetGrant {
  /** The model whose budget was charged. */
  readonly model: string;
  /** The tokens reserved for it (the estimate, capped: see `maxReservedTokens`). */
  readonly tokens: number;
  /** `'shared'`: charged to the Redis state; `'local'`: charged to this process's fallback limiter. */
  readonly source: 'shared' | 'local';
}

/**
 * The answer of {@link SharedBudget.acquire}: a value, never a sleep. Every time in it is on the
 * caller's clock (the server computes durations on its own clock; only durations cross the wire, so a
 * client clock that is hours off changes nothing).
 */
export type BudgetDecision =
  /** Room is reserved: send at `sendAt` (epoch ms of the caller's clock; `<= now` means now). */
  | { readonly kind: 'grant'; readonly grant: BudgetGrant; readonly sendAt: number }
  /** Nothing reserved (the next free slot is further ahead than `maxAheadMs`): ask again at `retryAt`. */
  | { readonly kind: 'wait'; readonly retryAt: number };

/** Options of one {@link SharedBudget.acquire} call. */
export interface AcquireOptions {
  /** Aborts the call; a reservation made meanwhile is given back. */
  readonly signal?: AbortSignal;
  /**
   * The part of `tokens` that is certain (the prompt, or prompt plus an explicit `max_tokens`), which
   * the reservation cap never cuts.
   * @default 0
   */
  readonly minTokens?: number;
}

/** Where a budget currently decides. */
export interface BudgetStatus {
  /** `'shared'`: Redis answers; `'fallback'`: Redis failed or was slow, the per-process fallback decides. */
  readonly mode: 'shared' | 'fallback';
  /** The last error that sent it to the fallback, while in fallback. */
  readonly lastError?: unknown;
}

/**
 * A rate-limit budget shared by every process that names the same key: requests and tokens per minute,
 * per model, reserved before a request is sent and corrected when its cost is known. The per-process
 * `RateLimiter`'s `when/acquire`, `reconcile`, `observe` and `pause` map onto it one to one, so a pacer
 * can delegate to it (see the README's `faultline/redis` section).
 */
export interface SharedBudget {
  /**
   * Reserves one request and `tokens` tokens of `model`'s budget, or says when to ask again. Rejects with
   * a `RequestTooLargeError` (`request_too_large`) when `tokens` exceeds the whole per-minute token limit,
   * and with the signal's reason on abort. Never hangs: every Redis call is bounded by `commandTimeoutMs`.
   */
  acquire(model: string, tokens: number, options?: AcquireOptions): Promise<BudgetDecision>;
  /** The request was sent and cost `actualTokens` (from `usage`): the difference is refunded or charged. */
  reconcile(grant: BudgetGrant, actualTokens: number): Promise<void>;
  /** The request was never sent (cancel, abort) or the server charged nothing: the reservation is given back. */
  release(grant: BudgetGrant): Promise<void>;
  /**
   * Teaches every process the limits read from an answer's `x-ratelimit-*` headers (and moves the shared
   * buckets forward when the server is further ahead than they are). `grant` is the request it answers.
   */
  observe(model: string, headers: RateLimitHeaders, grant?: BudgetGrant): Promise<void>;
  /** Holds every process's requests for `model` for `ms` milliseconds (a 429's `retry-after-ms`). */
  pause(model: string, ms: number): Promise<void>;
  /** Where it decides now. */
  status(): BudgetStatus;
  /** Closes the Redis connection if the budget opened it (a client passed in is left open). */
  close(): Promise<void>;
}
