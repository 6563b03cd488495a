/**
 * The contracts of `faultline/redis`: a {@link SharedBudget} that a per-process pacer consults instead
 * of (or in front of) its own buckets, and the small slice of a Redis client it needs.
 */
import type { Clock } from '../internal/clock.ts';
import type { RateLimitHeaders } from '../retry/headers.ts';

/**
 * The few commands `faultline/redis` sends, in the shape of ioredis's `call()` (iovalkey has the same).
 * Any client can be adapted to it in one line, for example node-redis:
 * `{ call: (...args) => client.sendCommand(args.map(String)) }`.
 */
export interface RedisClientLike {
  /** Sends one command (`'EVALSHA'`, `'EVAL'`, `'HGETALL'`, …) and resolves with its reply. */
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
}

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

/** Options of {@link redisBudget}. One of `url` and `client` is required. */
export interface RedisBudgetOptions {
  /** A Redis URL (`redis://127.0.0.1:6379`); the budget opens its own ioredis connection. */
  readonly url?: string;
  /** A ready client instead of `url` (left open by {@link SharedBudget.close}). */
  readonly client?: RedisClientLike;
  /** The budget's name: every process naming the same key shares one budget (one per API key, say). */
  readonly key: string;
  /**
   * Requests per minute for every model, overriding what the headers say (set it below the real limit to
   * leave room for clients that do not share the budget).
   * @default learned from the headers
   */
  readonly rpm?: number;
  /**
   * Tokens per minute for every model.
   * @default learned from the headers
   */
  readonly tpm?: number;
  /**
   * How much of a minute's budget may go out at once, in milliseconds (the GCRA burst tolerance).
   * @default 1000
   */
  readonly burstWindowMs?: number;
  /**
   * The largest reservation, in tokens, for the uncertain part of a request (its guessed output), so
   * a request with no `max_tokens` cannot hold everyone's budget; the difference is charged when its
   * `usage` arrives.
   * @default a tenth of the model's tokens-per-minute limit
   */
  readonly maxReservedTokens?: number;
  /**
   * How far ahead a slot may be reserved, in milliseconds. A request whose slot would be further ahead
   * reserves nothing and is told when to ask again, so the booked backlog stays bounded.
   * @default 10000
   */
  readonly maxAheadMs?: number;
  /**
   * While no limit is known for a model, one request (the probe) goes alone; the others wait for its
   * answer's headers at most this long, in milliseconds.
   * @default 5000
   */
  readonly probeTimeoutMs?: number;
  /**
   * How long a model's shared state is kept after its last use, in milliseconds (learned limits
   * included). Every key expires, so the state stays bounded however many models are used.
   * @default 600000
   */
  readonly stateTtlMs?: number;
  /**
   * The bound on every Redis call, in milliseconds. A call that takes longer sends the budget to its
   * fallback (a call that timed out may still have charged the shared state: that errs toward sending less).
   * @default 250
   */
  readonly commandTimeoutMs?: number;
  /**
   * The share of each last known limit this process may use on its own while Redis is down or slow,
   * from 0 (exclusive) to 1. Set it to 1/N for N processes.
   * @default 0.25
   */
  readonly fallbackShare?: number;
  /**
   * In fallback, how often Redis is tried again, in milliseconds (one call at most per interval, so a
   * slow Redis does not slow every request down).
   * @default 1000
   */
  readonly recoverCheckMs?: number;
  /**
   * Called once each time the budget enters the fallback, with the error that sent it there.
   * @default a one-time process warning (`FAULTLINE_REDIS_FALLBACK`)
   */
  readonly onFallback?: (error: unknown) => void;
  /** Called when Redis answers again and the shared budget decides once more. */
  readonly onRecover?: () => void;
  /**
   * The clock: `sendAt`/`retryAt` are on it, and it times the fallback. Budget decisions themselves use
   * the Redis server's clock (`TIME`).
   * @default the system clock
   */
  readonly clock?: Clock;
}
