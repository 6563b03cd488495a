/**
 * `faultline/redis`: state shared by many processes and machines, on Redis (or Valkey).
 * - {@link redisBudget}: one requests-and-tokens-per-minute budget per model for every process naming
 *   the same key, decided atomically on the Redis server's clock.
 * - {@link acquireTurn}: waits for a budget's grant (for callers without a pacer).
 *
 * Needs a Redis client: `ioredis` (an optional peer dependency, loaded only when `url` is given) or
 * any client with `call(command, ...args)` passed as `client`. The root `faultline` entry never loads it.
 */
export { redisBudget } from './budget.ts';
export { acquireTurn, type AcquireTurnOptions } from './turn.ts';
export type { AcquireOptions, BudgetDecision, BudgetGrant, BudgetStatus, RedisBudgetOptions, RedisClientLike, SharedBudget } from './types.ts';
export type { RateLimitHeaders, LimitReading } from '../retry/headers.ts';
export type { Clock } from '../internal/clock.ts';
export { RedisJournalStore, type RedisJournalStoreOptions } from './journal-store.ts';
export type { JournalStore, JobRecord, JobState, JobKind, NewJob } from '../journal/store.ts';
