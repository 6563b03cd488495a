/**
 * `redisBudget()`: one rate-limit budget shared by every process that names the same key, kept in Redis
 * (see `scripts.ts` for the algorithm) and consulted through the {@link SharedBudget} contract.
 *
 * When Redis is down or slow (a call fails, or takes longer than `commandTimeoutMs`), the budget falls
 * back to a per-process `RateLimiter` at `fallbackShare` of the last limits it knew, warns once (a
 * process warning at the first outage; `onFallback`, when given, hears every outage instead), and tries Redis again at most once per `recoverCheckMs`; the first call that succeeds returns
 * it to the shared state. No call ever waits for Redis longer than `commandTimeoutMs`, and nothing is
 * queued while Redis is away (the connection a URL opens has no offline queue). With `fallbackShare` at
 * 1/N for N processes the combined rate stays within the limit, except that at each switch (into the
 * fallback, or back to a Redis that restarted empty) every process may spend one fresh burst of its
 * share; `test/redis/processes.test.ts` measures exactly that bound.
 */
import { systemClock, type Clock } from '../internal/clock.ts';
import { abortReason, raceAbort } from '../internal/abort.ts';
import { RequestTooLargeError } from '../core/errors.ts';
import { RateLimiter, type Grant } from '../retry/limiter.ts';
import type { RateLimitHeaders } from '../retry/headers.ts';
import { Connection } from './connection.ts';
import { ACQUIRE, ADJUST, OBSERVE, PAUSE, type Script } from './scripts.ts';
import { clock as clockOf, count, durationMs, finite, fn, fraction, misuse, nonEmptyString, optionsObject, rejectUnknown } from '../internal/options.ts';
import type { AcquireOptions, BudgetDecision, BudgetGrant, BudgetStatus, RedisBudgetOptions, SharedBudget } from './types.ts';

const OWNER = 'redisBudget';
/** Every key of {@link RedisBudgetOptions} (a `Record` over `keyof`, so the compiler keeps the list complete). */
const BUDGET_KEYS: ReadonlySet<string> = new Set(
  Object.keys({
    url: true, client: true, key: true, rpm: true, tpm: true, burstWindowMs: true, maxReservedTokens: true, maxAheadMs: true,
    probeTimeoutMs: true, stateTtlMs: true, commandTimeoutMs: true, fallbackShare: true, recoverCheckMs: true, onFallback: true, onRecover: true, clock: true,
  } satisfies Record<keyof RedisBudgetOptions, true>),
);
/** Fallback limiters and last-known limits kept at most for this many models (oldest dropped). */
const MAX_MODELS = 1000;

type GrantState =
  | {
      readonly source: 'shared';
      readonly stateKey: string;
      readonly sentAt: number;
      /** The same slot on this process's clock (the answer's delay is measured from it). */
      readonly sendAt: number;
      readonly ri: number;
      readonly ti: number;
      /** The buckets, their correction sums and the tokens booked so far, right after this grant's charge (server ms; '-1' when unknown). */
      readonly after: readonly [string, string, string, string, string];
      settled: boolean;
    }
  | { readonly source: 'local'; readonly limiter: RateLimiter; readonly grant: Grant; settled: boolean };

const grants = new WeakMap<BudgetGrant, GrantState>();

interface Limits {
  rpm?: number;
  tpm?: number;
}

function setBounded<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_MODELS) map.delete(map.keys().next().value as K);
}

/**
 * Creates a {@link SharedBudget} on Redis. Every process that calls it with the same `key` (and the same
 * Redis) shares one budget per model.
 *
 * @example
 * import { redisBudget } from 'faultline/redis';
 * const budget = redisBudget({ url: process.env.REDIS_URL, key: 'org-main' });
 */
export function redisBudget(options: RedisBudgetOptions): SharedBudget {
  return new RedisBudget(options);
}

class RedisBudget implements SharedBudget {
  readonly #prefix: string;
  readonly #explicit: Limits;
  readonly #burstMs: number;
  readonly #cap: number;
  readonly #aheadMs: number;
  readonly #probeMs: number;
  readonly #ttlMs: number;
  readonly #share: number;
  readonly #recoverMs: number;
  readonly #onFallback: ((error: unknown) => void) | undefined;
  readonly #onRecover: (() => void) | undefined;
  readonly #clock: Clock;
  readonly #redis: Connection;
  #mode: 'shared' | 'fallback' = 'shared';
  #lastError: unknown;
  #nextCheck = 0;
  #warned = false;
  readonly #known = new Map<string, Limits>();
  readonly #local = new Map<string, RateLimiter>();

  constructor(options: RedisBudgetOptions) {
    const o = optionsObject(OWNER, options);
    rejectUnknown(OWNER, o, BUDGET_KEYS);
    const key = nonEmptyString(OWNER, 'key', o['key']);
    if (key === undefined) throw misuse('type', OWNER, 'key', 'a non-empty string', undefined);
    this.#prefix = `faultline:budget:${key}:`;
    const rpm = o['rpm'] === undefined ? undefined : finite(OWNER, 'rpm', o['rpm'], { min: 0, exclusiveMin: true });
    const tpm = o['tpm'] === undefined ? undefined : finite(OWNER, 'tpm', o['tpm'], { min: 0, exclusiveMin: true });
    this.#explicit = { ...(rpm !== undefined ? { rpm } : {}), ...(tpm !== undefined ? { tpm } : {}) };
    this.#burstMs = durationMs(OWNER, 'burstWindowMs', o['burstWindowMs'], { default: -1 });
    this.#cap = count(OWNER, 'maxReservedTokens', o['maxReservedTokens'], { default: 0, min: 1, infinity: true });
    this.#aheadMs = durationMs(OWNER, 'maxAheadMs', o['maxAheadMs'], { default: 10_000 });
    this.#probeMs = durationMs(OWNER, 'probeTimeoutMs', o['probeTimeoutMs'], { default: 5000 });
    this.#ttlMs = durationMs(OWNER, 'stateTtlMs', o['stateTtlMs'], { default: 600_000, min: 1000 });
    this.#redis = new Connection(OWNER, o, durationMs(OWNER, 'commandTimeoutMs', o['commandTimeoutMs'], { default: 250, min: 1 }));
    this.#share = fraction(OWNER, 'fallbackShare', o['fallbackShare'], { default: 0.25, exclusiveMin: true });
    this.#recoverMs = durationMs(OWNER, 'recoverCheckMs', o['recoverCheckMs'], { default: 1000 });
    this.#onFallback = fn(OWNER, 'onFallback', o['onFallback']);
    this.#onRecover = fn(OWNER, 'onRecover', o['onRecover']);
    this.#clock = o['clock'] === undefined ? systemClock : clockOf(OWNER, o['clock']);
  }

  #stateKey(model: string): string {
    return this.#prefix + model;
  }

  /** One script call, bounded by `commandTimeoutMs` (connecting included). */
  #run(script: Script, stateKey: string, args: readonly (string | number)[], onLate?: (reply: unknown) => void): Promise<unknown> {
    return this.#redis.script(script, [stateKey], args, onLate);
  }

  /** Whether to skip Redis for now (in fallback, between two recovery checks). */
  #skipRedis(): boolean {
    return this.#mode === 'fallback' && this.#clock.now() < this.#nextCheck;
  }

  #fail(error: unknown): void {
    this.#lastError = error;
    this.#nextCheck = this.#clock.now() + this.#recoverMs;
    if (this.#mode === 'fallback') return;
    this.#mode = 'fallback';
    if (this.#onFallback !== undefined) {
      try {
        this.#onFallback(error);
      } catch {
        // a throwing callback must not break pacing
      }
    } else if (!this.#warned) {
      this.#warned = true;
      const why = error instanceof Error ? error.message : String(error);
      process.emitWarning(`faultline/redis: Redis is unreachable or slow (${why}); pacing on a per-process share of ${this.#share} until it answers again`, { code: 'FAULTLINE_REDIS_FALLBACK' });
    }
  }

  #ok(): void {
    if (this.#mode !== 'fallback') return;
    this.#mode = 'shared';
    this.#lastError = undefined;
    this.#local.clear();
    try {
      this.#onRecover?.();
    } catch {
      // as above
    }
  }

  #limitsOf(model: string): Limits {
    const known = this.#known.get(model) ?? {};
    return { ...known, ...this.#explicit };
  }

  #localLimiter(model: string): RateLimiter {
    let l = this.#local.get(model);
    if (l === undefined) {
      const { rpm, tpm } = this.#limitsOf(model);
      l = new RateLimiter({
        ...(rpm !== undefined ? { rpm: rpm * this.#share } : {}),
        ...(tpm !== undefined ? { tpm: tpm * this.#share } : {}),
        burstWindowMs: this.#burstMs < 0 ? 1000 : Math.min(this.#burstMs, 60_000),
        learn: false,
        clock: this.#clock,
      });
      setBounded(this.#local, model, l);
    }
    return l;
  }

  #tooLarge(model: string, tokens: number, tpm: number): RequestTooLargeError {
    return new RequestTooLargeError(
      `This request needs ${tokens} tokens, more than the whole per-minute token budget of ${model} (${tpm}); it can never be admitted`,
    );
  }

  #acquireLocal(model: string, tokens: number, minTokens: number): BudgetDecision {
    const { tpm } = this.#limitsOf(model);
    if (tpm !== undefined && tokens > tpm) throw this.#tooLarge(model, tokens, tpm);
    const cap = this.#cap > 0 ? this.#cap : tpm !== undefined ? tpm / 10 : Infinity;
    const reserve = Math.max(Math.min(minTokens, tokens), Math.min(tokens, cap));
    const limiter = this.#localLimiter(model);
    const at = limiter.when(reserve);
    // Read after when(), which reads the clock itself and never answers before its own now: read before,
    // a millisecond ticking between the two reads made a free limiter answer "wait 1 ms".
    const now = this.#clock.now();
    if (at > now) return { kind: 'wait', retryAt: at };
    const local = limiter.acquire(reserve);
    const grant: BudgetGrant = Object.freeze({ model, tokens: reserve, source: 'local' });
    grants.set(grant, { source: 'local', limiter, grant: local, settled: false });
    return { kind: 'grant', grant, sendAt: now };
  }

  async acquire(model: string, tokens: number, options: AcquireOptions = {}): Promise<BudgetDecision> {
    if (typeof model !== 'string' || model === '') throw new TypeError(`${OWNER}.acquire: model must be a non-empty string`);
    if (typeof tokens !== 'number' || !Number.isFinite(tokens) || tokens < 0) throw new RangeError(`${OWNER}.acquire: tokens must be a finite number >= 0, got ${String(tokens)}`);
    const minTokens = options.minTokens ?? 0;
    if (typeof minTokens !== 'number' || !Number.isFinite(minTokens) || minTokens < 0) throw new RangeError(`${OWNER}.acquire: options.minTokens must be a finite number >= 0, got ${String(minTokens)}`);
    const signal = options.signal;
    if (signal?.aborted === true) throw abortReason(signal);
    if (this.#skipRedis()) return this.#acquireLocal(model, tokens, minTokens);
    const stateKey = this.#stateKey(model);
    const { rpm, tpm } = this.#explicit;
    // A call cut at commandTimeoutMs may still run in Redis afterwards and book a slot nobody holds: its
    // late answer gives that reservation back (Redis has just answered, so even in the fallback).
    const giveBack = (r: unknown): void => this.#giveBack(model, stateKey, r);
    const call = this.#run(ACQUIRE, stateKey, [tokens, minTokens, rpm ?? 0, tpm ?? 0, this.#burstMs, this.#cap, this.#aheadMs, this.#probeMs, this.#ttlMs], giveBack);
    let reply: unknown;
    try {
      reply = await raceAbort(call, signal);
    } catch (e) {
      if (signal !== undefined && isAborted(signal)) {
        // The reservation may still be made: give it back when it arrives.
        call.then(giveBack, () => {});
        throw abortReason(signal);
      }
      this.#fail(e);
      return this.#acquireLocal(model, tokens, minTokens);
    }
    this.#ok();
    const decision = this.#grantOf(model, stateKey, reply);
    if (decision === undefined) {
      this.#fail(new Error(`${OWNER}: unexpected reply from the acquire script: ${JSON.stringify(reply)?.slice(0, 100)}`));
      return this.#acquireLocal(model, tokens, minTokens);
    }
    if (decision.kind === 'too_large') throw this.#tooLarge(model, tokens, decision.tpm);
    return decision;
  }

  /** Reads the acquire script's reply (undefined when it is not one). */
  #grantOf(model: string, stateKey: string, reply: unknown): BudgetDecision | { kind: 'too_large'; tpm: number } | undefined {
    if (!Array.isArray(reply) || typeof reply[0] !== 'string') return undefined;
    const num = (i: number): number => Number(reply[i]);
    const now = this.#clock.now();
    if (reply[0] === 'too_large') return { kind: 'too_large', tpm: num(1) };
    if (reply[0] === 'wait' && Number.isFinite(num(1))) return { kind: 'wait', retryAt: now + Math.max(1, num(1)) };
    if (reply[0] !== 'grant' || reply.length < 8 || ![1, 2, 3, 4, 5].every((i) => Number.isFinite(num(i)))) return undefined;
    const learned: Limits = {
      ...(reply[6] !== '' ? { rpm: num(6) } : {}),
      ...(reply[7] !== '' ? { tpm: num(7) } : {}),
    };
    if (learned.rpm !== undefined || learned.tpm !== undefined) setBounded(this.#known, model, learned);
    const grant: BudgetGrant = Object.freeze({ model, tokens: num(2), source: 'shared' });
    const after = [8, 9, 10, 11, 12].map((i) => (typeof reply[i] === 'string' && reply[i] !== '' && Number.isFinite(Number(reply[i])) ? (reply[i] as string) : '-1')) as [string, string, string, string, string];
    grants.set(grant, { source: 'shared', stateKey, sentAt: num(5) + num(1), sendAt: now + num(1), ri: num(3), ti: num(4), after, settled: false });
    return { kind: 'grant', grant, sendAt: now + num(1) };
  }

  /**
   * Gives back the reservation of an acquire whose caller no longer waits (aborted, or cut at the
   * timeout). Best effort and straight to Redis, which has just answered: not skipped in the fallback.
   */
  #giveBack(model: string, stateKey: string, reply: unknown): void {
    const d = this.#grantOf(model, stateKey, reply);
    if (d?.kind !== 'grant') return;
    const s = this.#settle(d.grant);
    if (s?.source !== 'shared' || this.#redis.closed) return;
    this.#run(ADJUST, stateKey, [-1, -d.grant.tokens, s.ri, s.ti, this.#ttlMs]).catch(() => {});
  }

  /** A best-effort write: a failure sends the budget to its fallback, never to the caller. */
  async #write(script: Script, stateKey: string, args: readonly (string | number)[]): Promise<void> {
    if (this.#skipRedis() || this.#redis.closed) return;
    try {
      await this.#run(script, stateKey, args);
      this.#ok();
    } catch (e) {
      this.#fail(e);
    }
  }

  #settle(grant: BudgetGrant): GrantState | undefined {
    const s = grants.get(grant);
    if (s === undefined || s.settled) return undefined;
    s.settled = true;
    return s;
  }

  async reconcile(grant: BudgetGrant, actualTokens: number): Promise<void> {
    if (typeof actualTokens !== 'number' || !Number.isFinite(actualTokens) || actualTokens < 0) return;
    const s = this.#settle(grant);
    if (s === undefined) return;
    if (s.source === 'local') return s.limiter.reconcile(s.grant, actualTokens);
    const delta = actualTokens - grant.tokens;
    if (delta !== 0 && s.ti > 0) await this.#write(ADJUST, s.stateKey, [0, delta, s.ri, s.ti, this.#ttlMs]);
  }

  async release(grant: BudgetGrant): Promise<void> {
    const s = this.#settle(grant);
    if (s === undefined) return;
    if (s.source === 'local') return s.limiter.reconcile(s.grant, 0);
    await this.#write(ADJUST, s.stateKey, [-1, -grant.tokens, s.ri, s.ti, this.#ttlMs]);
  }

  async observe(model: string, headers: RateLimitHeaders, grant?: BudgetGrant): Promise<void> {
    if (typeof model !== 'string' || model === '' || typeof headers !== 'object' || headers === null) return;
    const rpm = headers.requests?.limit;
    const tpm = headers.tokens?.limit;
    if (rpm !== undefined || tpm !== undefined) {
      const before = this.#known.get(model) ?? {};
      setBounded(this.#known, model, { ...before, ...(rpm !== undefined ? { rpm } : {}), ...(tpm !== undefined ? { tpm } : {}) });
    }
    const s = grant === undefined ? undefined : grants.get(grant);
    const shared = s?.source === 'shared' ? s : undefined;
    const r = headers.requests;
    const t = headers.tokens;
    const after = shared?.after ?? ['-1', '-1', '-1', '-1', '-1'];
    // The server read its bucket when the request arrived: at the slot at the earliest, now at the latest.
    const answeredInMs = shared === undefined ? 0 : Math.max(0, this.#clock.now() - shared.sendAt);
    await this.#write(OBSERVE, this.#stateKey(model), [rpm ?? 0, tpm ?? 0, r?.resetMs ?? -1, t?.resetMs ?? -1, shared?.sentAt ?? 0, this.#ttlMs, r?.remaining ?? -1, t?.remaining ?? -1, ...after, answeredInMs]);
  }

  async pause(model: string, ms: number): Promise<void> {
    if (typeof model !== 'string' || model === '' || typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) return;
    this.#local.get(model)?.pause(ms);
    await this.#write(PAUSE, this.#stateKey(model), [ms, this.#ttlMs]);
  }

  status(): BudgetStatus {
    return this.#mode === 'fallback' ? { mode: 'fallback', lastError: this.#lastError } : { mode: 'shared' };
  }

  close(): Promise<void> {
    return this.#redis.close();
  }
}

/** Read through a call, so the compiler does not keep an earlier narrowing of `aborted`. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
