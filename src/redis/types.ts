/**
 * The contracts of `faultline/redis`: a {@link SharedBudget} that a per-process pacer consults instead
 * of (or in front of) its own buckets, and the small slice of a Redis client it needs.
 */
import type { Clock } from '../internal/clock.ts';
export type { AcquireOptions, BudgetDecision, BudgetGrant, BudgetStatus, SharedBudget } from '../retry/budget.ts';

/**
 * The few commands `faultline/redis` sends, in the shape of ioredis's `call()` (iovalkey has the same).
 * Any client can be adapted to it in one line, for example node-redis:
 * `{ call: (...args) => client.sendCommand(args.map(String)) }`.
 */
export interface RedisClientLike {
  /** Sends one command (`'EVALSHA'`, `'EVAL'`, `'HGETALL'`, …) and resolves with its reply. */
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
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
   * @default learned from the headers (`remaining × 60 s / limit + reset`, the largest seen, shared by every process); 1000 until then
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
   * reserves nothing and is told when to ask again, so the booked backlog stays bounded. A slot that
   * continues a backlog of tokens lies at most two learned burst windows ahead (none until the charge
   * ratio is learned from the headers), whatever this says: the estimate's error adds up at such a slot.
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
