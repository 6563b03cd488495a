/**
 * A client-side rate limiter for the two limits OpenAI enforces together: requests per minute (RPM)
 * and tokens per minute (TPM). It is a decision value with an injectable clock: {@link RateLimiter.when}
 * answers "you may send at time t" (it never rejects and never sleeps); {@link RateLimiter.acquire}
 * records the send. An executor does the sleeping (see `createFetch`).
 *
 * Each limit is a GCRA bucket (the "generic cell rate algorithm": a token bucket kept as one
 * theoretical arrival time, `tat`). A bucket refills at `limit / 60 s` and holds `burstWindowMs` worth
 * of refill, never less than the largest request it is asked to admit, so a request bigger than the
 * burst still goes once the bucket is empty instead of waiting forever.
 *
 * Learning, with nothing to configure:
 * - the limits come from `x-ratelimit-limit-*`;
 * - the burst window from `remaining × (60 s / limit) + reset`, a lower bound of the server's bucket
 *   size (the largest bound seen is kept; 60 s at most);
 * - the server's own state from `reset-*`, measured from when the request was *sent* (not when the
 *   answer arrived, which may be seconds later), so the local buckets never fall behind the server's;
 * - token costs from `usage` through {@link RateLimiter.reconcile}.
 * Until the first answer arrives one request is sent alone (a probe), so a burst does not go out
 * blind. With no headers at all (a proxy stripped them) or headers that lie (429s keep coming although
 * the buckets say there is room), it falls back to AIMD: the rate is cut in half on a 429 (once per
 * round trip) and grows back a little with every success.
 * @see https://brandur.org/rate-limiting
 * @see https://platform.openai.com/docs/guides/rate-limits
 */
import type { Clock } from '../internal/clock.ts';
import { clock, durationMs, finite, fn, fraction, oneOf, optionsObject, rejectRenamed, rejectUnknown } from '../internal/options.ts';
import { sameReading, type RateLimitHeaders } from './headers.ts';

const MINUTE = 60_000;

/** Options of {@link RateLimiter}. */
export interface RateLimiterOptions {
  /**
   * Requests per minute. When set, `x-ratelimit-limit-requests` never changes it (set it below the real
   * limit to leave room for other clients of the same key).
   * @default learned from the response headers
   */
  readonly rpm?: number;
  /**
   * Tokens per minute (prompt plus `max_tokens`/`max_output_tokens`, as OpenAI counts them at admission).
   * @default learned from the response headers
   */
  readonly tpm?: number;
  /**
   * How much of a minute's budget may be spent at once, in milliseconds (60000: a whole minute's worth in
   * one burst; 1000: the limit enforced per second).
   * @default learned from the headers; 1000 until then
   */
  readonly burstWindowMs?: number;
  /**
   * Whether to learn limits, burst and server state from response headers.
   * @default true
   */
  readonly learn?: boolean;
  /**
   * The fraction of each limit deliberately left unused, from 0 to 0.9 (0.1 = pace to 90 % of the limit).
   * @default 0
   */
  readonly headroom?: number;
  /**
   * The request rate to start from when no limit is known and no header arrives (adaptive mode), in
   * requests per minute. It doubles about every 15 successes until the first 429, then grows by 1 %
   * per success and halves on each 429.
   * @default 60
   */
  readonly initialRpm?: number;
  /**
   * How long to hold other requests while the first one (the probe) is in flight with no limit known,
   * in milliseconds.
   * @default 5000
   */
  readonly probeTimeoutMs?: number;
  /**
   * The random spread added to a shared pause, as a fraction of the pause from 0 to 1 (0.1: up to 10 %
   * longer, never shorter), so that many waiting clients do not all come back in the same millisecond.
   * @default 0.1
   */
  readonly spread?: number;
  /**
   * The clock the limiter reads (it never sleeps: the executor does). Pass the same clock as to
   * `createFetch` or `retry`.
   * @default the system clock
   */
  readonly clock?: Clock;
  /**
   * The source of randomness for the spread, returning a number in `[0, 1)`.
   * @default Math.random
   */
  readonly random?: () => number;
}

/** A record of one send, handed back to {@link RateLimiter.observe} and {@link RateLimiter.reconcile}. */
export interface Grant {
  /** When the request was sent (the limiter's clock, epoch ms). */
  readonly sentAt: number;
  /** Tokens charged for it. */
  readonly tokens: number;
}

/** What a limiter remembers about a {@link Grant} it issued: bookkeeping, not part of the public value. */
interface GrantState {
  /** The local buckets' state right after the charge, and the corrections applied so far. */
  readonly requestsTat: number;
  readonly tokensTat: number;
  readonly requestsShift: number;
  readonly tokensShift: number;
  /** Whether this was the probe (the first request, sent alone while no limit is known). */
  readonly probe: boolean;
}

/**
 * A Grant as the limiter issues it. The bookkeeping is an ES private field: only this module can read
 * it, so to its holder a Grant is `{ sentAt, tokens }` and nothing else (no `@internal` fields in the
 * public type). A private field rather than a module-level WeakMap because `acquire` runs for every
 * request: a WeakMap entry per grant cost several microseconds each in GC (measured, 300k grants).
 */
class IssuedGrant implements Grant {
  readonly sentAt: number;
  readonly tokens: number;
  readonly #state: GrantState;

  constructor(sentAt: number, tokens: number, state: GrantState) {
    this.sentAt = sentAt;
    this.tokens = tokens;
    this.#state = state;
    Object.freeze(this);
  }

  /** The bookkeeping of a grant this module issued; `undefined` for one made by hand. */
  static stateOf(grant: Grant): GrantState | undefined {
    return #state in grant ? grant.#state : undefined;
  }
}

/** How the limiter currently paces. */
export type LimiterMode =
  /** Explicit `rpm`/`tpm` options. */
  | 'explicit'
  /** Limits read from `x-ratelimit-*` headers. */
  | 'learned'
  /** No limit known yet; the first request is in flight. */
  | 'probing'
  /** No limit known and no headers: AIMD on the request rate. */
  | 'adaptive';

/** A read-only view of the limiter, for logs and tests. */
export interface LimiterState {
  readonly mode: LimiterMode;
  /** The requests-per-minute limit in force before `scale` and `headroom`, if any. */
  readonly rpm: number | undefined;
  /** The tokens-per-minute limit in force before `scale` and `headroom`, if any. */
  readonly tpm: number | undefined;
  /** The burst window in ms. */
  readonly burstWindowMs: number;
  /** The share of the limits used (1 normally; less after 429s the buckets did not predict). */
  readonly scale: number;
  /** False once the rate-limit headers were caught lying (then they are ignored). */
  readonly headersTrusted: boolean;
  /** The adaptive request rate (requests/min), used only in `adaptive` mode. */
  readonly adaptiveRpm: number;
  /** Nobody may send before this time (epoch ms); 0 when there is no pause. */
  readonly pausedUntil: number;
}

interface Bucket {
  /** Theoretical arrival time (epoch ms): the bucket is full again at `tat`. */
  tat: number;
  /** Sum of the corrections applied from headers, so one undercount is not corrected twice. */
  shift: number;
  /** Limit read from headers. */
  learned: number | undefined;
  /** Largest lower bound of the server's burst window seen, in ms. */
  burst: number | undefined;
}

/** Keys of {@link RateLimiterOptions} renamed before 1.0 (CONTRIBUTING.md, rule 9); deleted at 1.0. */
const RENAMED: Readonly<Record<string, string>> = {
  pauseJitter: 'spread (0.2.0)',
  now: 'clock (0.2.0)',
};
const LIMITER_KEYS: ReadonlySet<string> = new Set(
  Object.keys({
    rpm: true,
    tpm: true,
    burstWindowMs: true,
    learn: true,
    headroom: true,
    initialRpm: true,
    probeTimeoutMs: true,
    spread: true,
    clock: true,
    random: true,
  } satisfies Record<keyof RateLimiterOptions, true>),
);

/** A limit per minute: a finite number > 0, or undefined when absent (then it is learned). */
function limit(owner: string, name: string, value: unknown): number | undefined {
  return value === undefined ? undefined : finite(owner, name, value, { min: 0, exclusiveMin: true });
}

/**
 * The explicit limits and the headroom, checked in the name of `owner`: the one check for
 * `new RateLimiter({ rpm, … })` and `createFetch({ limits: { rpm, … }, headroom })` (`at` is where the
 * limits sit in the owner's options: `''` or `'limits.'`), so each names its own option.
 */
export function pacingLimitsOf(
  owner: string,
  limits: { readonly rpm?: unknown; readonly tpm?: unknown; readonly burstWindowMs?: unknown },
  headroom: unknown,
  at = '',
): { rpm: number | undefined; tpm: number | undefined; burstWindowMs: number | undefined; headroom: number } {
  return {
    rpm: limit(owner, `${at}rpm`, limits.rpm),
    tpm: limit(owner, `${at}tpm`, limits.tpm),
    burstWindowMs: limits.burstWindowMs === undefined ? undefined : durationMs(owner, `${at}burstWindowMs`, limits.burstWindowMs, { max: MINUTE }),
    headroom: fraction(owner, 'headroom', headroom, { default: 0, max: 0.9 }),
  };
}

/** Share of the limit restored by each success after a 429 the buckets did not predict. */
const SCALE_RECOVERY = 0.02;
/** Factor applied to the limits (or the adaptive rate) on such a 429. */
const DECREASE = 0.5;
/** The pace never drops below this share of learned limits (below it, the pauses do the work). */
const MIN_SCALE = 1 / 16;
/** A header reading repeated this many times in a row while 429s claim room is taken for a fake. */
const STATIC_READINGS = 3;

/**
 * The two-limit pacer. One instance per model (OpenAI's limits are per organization and model); share
 * one instance between every client that uses the same key and model in a process.
 */
export class RateLimiter {
  readonly #rpm: number | undefined;
  readonly #tpm: number | undefined;
  readonly #burst: number | undefined;
  readonly #learn: boolean;
  readonly #headroom: number;
  readonly #probeTimeoutMs: number;
  readonly #spread: number;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #requests: Bucket = { tat: 0, shift: 0, learned: undefined, burst: undefined };
  readonly #tokens: Bucket = { tat: 0, shift: 0, learned: undefined, burst: undefined };
  #scale = 1;
  #adaptiveRpm: number;
  #slowStart = true;
  #lastDecreaseAt = -Infinity;
  /** False once the headers were caught lying: they are then ignored and pacing is adaptive. */
  #trusted = true;
  #lastReading: RateLimitHeaders | undefined;
  #repeats = 0;
  #pausedUntil = 0;
  #probeDone: boolean;
  #probeSentAt: number | undefined;
  /** The last grant whose answer's reading moved the buckets to the server's view. */
  #syncedGrant: Grant | undefined;
  /** Whether the one 429 forgiven its cut (the cold start's) has come. */
  #firstLimited = false;

  constructor(options: RateLimiterOptions = {}) {
    const owner = 'RateLimiter';
    const o = optionsObject(owner, options);
    rejectRenamed(owner, o, RENAMED);
    rejectUnknown(owner, o, LIMITER_KEYS);
    const limits = pacingLimitsOf(owner, o, o['headroom']);
    this.#rpm = limits.rpm;
    this.#tpm = limits.tpm;
    this.#burst = limits.burstWindowMs;
    this.#headroom = limits.headroom;
    this.#adaptiveRpm = limit(owner, 'initialRpm', o['initialRpm']) ?? 60;
    this.#probeTimeoutMs = durationMs(owner, 'probeTimeoutMs', o['probeTimeoutMs'], { default: 5000 });
    this.#spread = fraction(owner, 'spread', o['spread'], { default: 0.1 });
    this.#learn = oneOf(owner, 'learn', o['learn'], [true, false], true);
    const c = clock(owner, o['clock']);
    this.#now = () => c.now();
    this.#random = fn<() => number>(owner, 'random', o['random']) ?? Math.random;
    this.#probeDone = !this.#learn || this.#rpm !== undefined || this.#tpm !== undefined;
  }

  /** The requests limit in force (before scale), or undefined. */
  #limitOf(b: Bucket, explicit: number | undefined): number | undefined {
    return explicit ?? (this.#trusted ? b.learned : undefined);
  }

  #adaptive(): boolean {
    return this.#limitOf(this.#requests, this.#rpm) === undefined && this.#limitOf(this.#tokens, this.#tpm) === undefined;
  }

  /** Milliseconds of refill per unit for a bucket, or undefined when it does not pace. */
  #interval(kind: 'requests' | 'tokens'): number | undefined {
    if (this.#adaptive()) return kind === 'requests' && this.#probeDone ? MINUTE / this.#adaptiveRpm : undefined;
    const limit = kind === 'requests' ? this.#limitOf(this.#requests, this.#rpm) : this.#limitOf(this.#tokens, this.#tpm);
    if (limit === undefined) return undefined;
    return MINUTE / (limit * this.#scale * (1 - this.#headroom));
  }

  #burstMs(): number {
    if (this.#burst !== undefined) return this.#burst;
    const learned = [this.#requests.burst, this.#tokens.burst].filter((x): x is number => x !== undefined);
    return learned.length > 0 ? Math.min(...learned) : 1000;
  }

  /** Earliest time a bucket admits `cost` units (may be in the past). */
  #admitAt(b: Bucket, interval: number, cost: number): number {
    const tolerance = this.#adaptive() ? interval : Math.max(this.#burstMs(), interval);
    const need = cost * interval;
    // A request bigger than the burst fits into an empty bucket: the burst is never below it.
    return b.tat + need - Math.max(tolerance, need);
  }

  /**
   * When a request costing `tokens` may be sent, in epoch ms (`<= now()` means now). Never rejects: a
   * request larger than the whole per-minute budget is let through once the bucket is empty (the
   * server will answer `request_too_large`, which is not retried).
   */
  when(tokens = 0): number {
    const now = this.#now();
    let t = Math.max(now, this.#pausedUntil);
    if (!this.#probeDone && this.#probeSentAt !== undefined) t = Math.max(t, this.#probeSentAt + this.#probeTimeoutMs);
    const ri = this.#interval('requests');
    if (ri !== undefined) t = Math.max(t, this.#admitAt(this.#requests, ri, 1));
    const ti = this.#interval('tokens');
    if (ti !== undefined && tokens > 0) t = Math.max(t, this.#admitAt(this.#tokens, ti, tokens));
    return t;
  }

  /** Records that a request costing `tokens` is being sent now, and returns its {@link Grant}. */
  acquire(tokens = 0): Grant {
    finite('RateLimiter.acquire', '#tokens', tokens, { min: 0 });
    const now = this.#now();
    const ri = this.#interval('requests');
    if (ri !== undefined) this.#requests.tat = Math.max(this.#requests.tat, now) + ri;
    const ti = this.#interval('tokens');
    if (ti !== undefined) this.#tokens.tat = Math.max(this.#tokens.tat, now) + tokens * ti;
    const probe = !this.#probeDone && this.#probeSentAt === undefined;
    if (probe) this.#probeSentAt = now;
    return new IssuedGrant(now, tokens, {
      requestsTat: this.#requests.tat,
      tokensTat: this.#tokens.tat,
      requestsShift: this.#requests.shift,
      tokensShift: this.#tokens.shift,
      probe,
    });
  }

  /**
   * Learns from the rate-limit headers of the answer to `grant` (pass `undefined` when the answer had
   * none). Limits and burst are learned; the local buckets are moved to the server's state as of the
   * grant's send (forward or back; only forward for a grant this limiter did not issue).
   */
  observe(headers: RateLimitHeaders | undefined, grant?: Grant): void {
    if (headers !== undefined) {
      this.#repeats = sameReading(headers, this.#lastReading) ? this.#repeats + 1 : 0;
      this.#lastReading = headers;
    }
    const state = grant === undefined ? undefined : IssuedGrant.stateOf(grant);
    if (headers !== undefined && this.#learn && this.#trusted) {
      if (headers.requests) this.#sync(this.#requests, headers.requests, state?.requestsTat, state?.requestsShift, grant?.sentAt);
      if (headers.tokens) this.#sync(this.#tokens, headers.tokens, state?.tokensTat, state?.tokensShift, grant?.sentAt);
      if (state !== undefined && (headers.requests?.resetMs !== undefined || headers.tokens?.resetMs !== undefined)) this.#syncedGrant = grant;
    }
    if (state?.probe === true || headers !== undefined) this.#probeDone = true;
  }

  #sync(b: Bucket, r: RateLimitHeaders['requests'] & object, localTat: number | undefined, shiftAtSend: number | undefined, sentAt: number | undefined): void {
    if (b.learned !== r.limit) {
      b.learned = r.limit;
      b.burst = undefined;
    }
    const unit = MINUTE / r.limit;
    if (r.resetMs === undefined) return;
    // With units left the backlog is below the bucket size, so remaining × unit + reset bounds it from
    // below; with none left a large request may have overfilled it and the sum says nothing.
    if (r.remaining !== undefined && r.remaining > 0) {
      b.burst = Math.min(MINUTE, Math.max(b.burst ?? 0, r.remaining * unit + r.resetMs));
    }
    const serverTat = (sentAt ?? this.#now()) + r.resetMs;
    const behind = localTat !== undefined && shiftAtSend !== undefined ? serverTat - localTat - (b.shift - shiftAtSend) : serverTat - b.tat;
    // Measured against the grant's own state (what the buckets held right after its charge, and the
    // corrections applied since), the reading is exact: follow it both ways, so an overcharge is given
    // back and the server's noise does not ratchet the bucket ahead. Without that state only forward.
    if (behind > 0 || (behind < 0 && localTat !== undefined && shiftAtSend !== undefined)) {
      b.tat += behind;
      b.shift += behind;
    }
  }

  /**
   * Corrects the token charge of `grant` once its real cost is known (from `usage`, or 0 when the server
   * rejected it without charging tokens, as it does for a 429).
   */
  reconcile(grant: Grant, actualTokens: number): void {
    if (typeof actualTokens !== 'number' || !(actualTokens >= 0) || !Number.isFinite(actualTokens)) return;
    const ti = this.#interval('tokens');
    if (ti === undefined) return;
    const delta = (actualTokens - grant.tokens) * ti;
    this.#tokens.tat += delta;
    // Counted as a correction too: a later header reading already includes this request's true cost.
    this.#tokens.shift += delta;
  }

  /** A success: adaptive pacing grows back. */
  onSuccess(): void {
    if (this.#adaptive()) {
      this.#adaptiveRpm *= this.#slowStart ? 1.05 : 1.01;
    } else {
      this.#scale = Math.min(1, this.#scale + SCALE_RECOVERY);
    }
  }

  /**
   * A 429 rate limit for `grant`, with the rate-limit headers of that 429 if it had any: everyone pauses
   * for `retryAfterMs` (plus jitter). The pace is cut (halved, at most once per round trip) only when
   * the buckets are to blame: no limits are known, the 429 carried no rate-limit headers, or its headers
   * show a bucket empty. A 429 whose headers show room in both buckets comes from something our pace
   * cannot cause (a shared or capacity limit, an incident): the pause is the whole answer. If such 429s
   * arrive while the headers never change, the headers are taken for fakes and ignored from then on.
   */
  onRateLimited(retryAfterMs: number | undefined, grant?: Grant, headers?: RateLimitHeaders): void {
    const now = this.#now();
    if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > 0) {
      this.pause(retryAfterMs);
    }
    if (!this.#adaptive() && headers !== undefined && this.#hasRoom(headers, grant?.tokens ?? 0)) {
      if (this.#repeats < STATIC_READINGS || this.#rpm !== undefined || this.#tpm !== undefined) return;
      this.#trusted = false;
      this.#probeDone = true;
    }
    if (grant !== undefined && grant.sentAt < this.#lastDecreaseAt) return;
    // The first 429 of a limiter (the cold start's), whose own reading already moved the buckets to the
    // server's view (observe() before this call): only the bucket was behind, so it pauses but keeps the
    // pace. Cutting it too cost a short run ~10 % of its time (half speed while it grew back). Every later
    // 429 cuts as before: forgiving them all let a run under sustained 429s exhaust retries.
    if (grant !== undefined && headers !== undefined && grant === this.#syncedGrant && !this.#adaptive() && this.#lastDecreaseAt === -Infinity && !this.#firstLimited) {
      this.#firstLimited = true;
      return;
    }
    this.#lastDecreaseAt = now;
    if (this.#adaptive()) {
      this.#adaptiveRpm = Math.max(1, this.#adaptiveRpm * DECREASE);
      this.#slowStart = false;
    } else {
      this.#scale = Math.max(MIN_SCALE, this.#scale * DECREASE);
    }
  }

  #hasRoom(h: RateLimitHeaders, tokens: number): boolean {
    const requests = h.requests?.remaining;
    const toks = h.tokens?.remaining;
    if (requests === undefined && toks === undefined) return false;
    return (requests === undefined || requests >= 1) && (toks === undefined || toks >= tokens);
  }

  /** Holds every request for `ms` milliseconds from now, plus up to `spread × ms` of random spread. */
  pause(ms: number): void {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) return;
    const r = this.#random();
    const extra = ms * this.#spread * (Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0);
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + ms + extra);
  }

  /** A read-only view of the current pacing. */
  state(): LimiterState {
    const adaptive = this.#adaptive();
    return {
      mode: this.#rpm !== undefined || this.#tpm !== undefined ? 'explicit' : !adaptive ? 'learned' : this.#probeDone ? 'adaptive' : 'probing',
      rpm: this.#limitOf(this.#requests, this.#rpm),
      tpm: this.#limitOf(this.#tokens, this.#tpm),
      burstWindowMs: this.#burstMs(),
      scale: this.#scale,
      headersTrusted: this.#trusted,
      adaptiveRpm: this.#adaptiveRpm,
      pausedUntil: this.#pausedUntil,
    };
  }
}
