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
 * - the server's charge per estimated token (a server never charges exactly the estimate) from the
 *   tokens readings: bookings are scaled by it, and once it is learned the tokens bucket fills up to 0.9
 *   of its own learned window (less while answers come back late);
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
  /** Milliseconds of tokens refill booked for it (its tokens at the interval and charge ratio of the time). */
  readonly tokensMs: number;
  /** What {@link RateLimiter.reconcile} moved the tokens bucket by for it, in ms (a reading undoes it). */
  reconciledMs: number;
  /** Reconciled to 0 tokens: the server charged nothing (a 429), so it says nothing about the ratio. */
  uncharged: boolean;
  /** Its place in the order of sends. */
  readonly seq: number;
  /** When it was sent, and whether its answer was observed (see `#overdueMs`). */
  readonly sentAt: number;
  answered: boolean;
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
 * The share of its own learned burst window the tokens bucket may fill, by what is known of the server's
 * charge: nothing yet (the first answers' readings are still in flight), one reading (the probe's, exact:
 * both buckets were empty), or a charge ratio learned over {@link RATIO_WINDOW_MS} of bookings. The
 * margin left covers the noise of the charge, the requests sent but not yet read, and the time between a
 * send and the server's admission (which a reading cannot show: measured 2–70 ms on a loaded machine).
 */
const TOKENS_SHARE = { blind: 0.5, probed: 0.75, learned: 0.9 } as const;
/** What is left of the recent lateness of answers after each reading (see `#late`). */
const LATE_DECAY = 0.8;
/** Milliseconds of bookings read before the charge ratio counts as learned. */
const RATIO_WINDOW_MS = 500;
/** How many of the last readings' ratios the charge ratio is the median of. */
const RATIO_SAMPLES = 9;
/** The charge ratio stays in this range (one reading moves it by half its own booking at most). */
const RATIO_RANGE = [0.5, 2] as const;
/** A learned ratio this close below 1 is taken for noise (see `#bookingRatio`). */
const RATIO_NOISE = 0.03;
/**
 * A reading may move the tokens bucket back by at most this share of its own grant's booking. A reading
 * shows the server's bucket as of the grant's admission: a request that overtook others on the way (a
 * reused connection while the others open new ones) shows a bucket that does not hold them yet, so taken
 * at its word it gives back a whole wave of bookings (measured: 862 ms at once, then 6 of 8 sends 429s).
 * The charge's own error per request is far below it; a true give-back of more is followed reading by
 * reading.
 */
const MAX_BACK_SHARE = 0.5;

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
  /** The server's charge per token of the estimate, learned from the tokens readings (1 until then). */
  #ratio = 1;
  /** Milliseconds of bookings the ratio was learned from (0: none yet). */
  #ratioWeight = 0;
  /** The last readings' ratios; `#ratio` is their median. */
  readonly #ratioSamples: number[] = [];
  /** The number of grants issued, and the place of the last one whose tokens reading was applied. */
  #seq = 0;
  #lastRead = -1;
  /** The last move `#sync` made, and how much of the last tokens reading it did not move (ms). */
  #lastMove = 0;
  #unmoved = 0;
  /** The shortest time from a send to its answer seen, in ms. */
  #minRtt = Infinity;
  /** How much later than the fastest the recent answers came, in ms (the largest, decaying). */
  #late = 0;
  /** Grants in the order sent, from the oldest maybe unanswered at `#unansweredHead` (see `#overdueMs`). */
  #unanswered: GrantState[] = [];
  #unansweredHead = 0;

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
    return (MINUTE / (limit * this.#scale * (1 - this.#headroom))) * (kind === 'tokens' ? this.#bookingRatio() : 1);
  }

  /**
   * The charge ratio the tokens bucket books by: the learned one, or 1 when it is less than 1 by no more
   * than {@link RATIO_NOISE} (the readings' 1 ms resolution and the time to admission make such a ratio
   * noise, and booking less than the estimate by noise is what overfills a server that charges the
   * estimate exactly: the mock, whose bucket is filled to the last millisecond).
   */
  #bookingRatio(): number {
    return this.#ratio >= 1 - RATIO_NOISE ? Math.max(1, this.#ratio) : this.#ratio;
  }

  #burstMs(): number {
    if (this.#burst !== undefined) return this.#burst;
    const learned = [this.#requests.burst, this.#tokens.burst].filter((x): x is number => x !== undefined);
    return learned.length > 0 ? Math.min(...learned) : 1000;
  }

  /**
   * A bucket's burst window: the explicit option, else the smallest learned (1000 ms before any), except
   * that the tokens bucket may fill a share of its own learned window when that is more (see
   * {@link TOKENS_SHARE}). Pacing it with the requests bucket's often far smaller window left up to a
   * second of the token budget unused; filling its whole window at the estimate overfills the server's
   * bucket by the estimate's error.
   */
  #burstOf(b: Bucket): number {
    const smallest = this.#burstMs();
    if (this.#burst !== undefined || b !== this.#tokens || b.burst === undefined) return smallest;
    const share = this.#ratioWeight >= RATIO_WINDOW_MS ? TOKENS_SHARE.learned : this.#ratioWeight > 0 ? TOKENS_SHARE.probed : TOKENS_SHARE.blind;
    // Sends that reach the server late (a stalled event loop) may reach it together: leave that much more.
    return Math.max(smallest, b.burst * share - Math.max(this.#late, this.#overdueMs()));
  }

  /**
   * How much longer than the fastest answer the oldest unanswered request has been out, in ms: requests
   * held up on the way (a stalled event loop, a frozen connection) reach the server together, later,
   * after its bucket drained idle, so what was booked for them as it refilled overfills it then. A grant
   * never observed is forgotten after a minute.
   */
  #overdueMs(): number {
    if (this.#minRtt === Infinity) return 0;
    const now = this.#now();
    const i = this.#dropAnswered(now);
    const q = this.#unanswered;
    return i < q.length ? Math.max(0, now - q[i]!.sentAt - this.#minRtt) : 0;
  }

  /**
   * Moves `#unansweredHead` past the grants answered or older than a minute, dropping them from the array
   * once they are most of it; returns the head. Called on every grant too, so the array stays bounded
   * (a minute of grants) even when no answer is ever observed (`acquire()` used alone).
   */
  #dropAnswered(now: number): number {
    const q = this.#unanswered;
    let i = this.#unansweredHead;
    while (i < q.length && (q[i]!.answered || now - q[i]!.sentAt > MINUTE)) i++;
    if (i > 1024 && i * 2 > q.length) {
      q.splice(0, i);
      i = 0;
    }
    this.#unansweredHead = i;
    return i;
  }

  /** Earliest time a bucket admits `cost` units (may be in the past). */
  #admitAt(b: Bucket, interval: number, cost: number): number {
    const tolerance = this.#adaptive() ? interval : Math.max(this.#burstOf(b), interval);
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
    const tokensMs = ti === undefined ? 0 : tokens * ti;
    if (ti !== undefined) this.#tokens.tat = Math.max(this.#tokens.tat, now) + tokensMs;
    const probe = !this.#probeDone && this.#probeSentAt === undefined;
    if (probe) this.#probeSentAt = now;
    const state: GrantState = {
      requestsTat: this.#requests.tat,
      tokensTat: this.#tokens.tat,
      requestsShift: this.#requests.shift,
      tokensShift: this.#tokens.shift,
      probe,
      tokensMs,
      reconciledMs: 0,
      uncharged: false,
      seq: this.#seq++,
      sentAt: now,
      answered: false,
    };
    const grant = new IssuedGrant(now, tokens, state);
    this.#unanswered.push(state);
    this.#dropAnswered(now);
    return grant;
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
    if (state !== undefined) state.answered = true;
    if (headers !== undefined && this.#learn && this.#trusted) {
      // How much longer than the fastest answer this one took: an upper bound of how late the request
      // reached the server after its send (a stalled event loop, a new connection), which its reading
      // cannot show: the server's bucket as of the send may be that much fuller than the reading says.
      let late = 0;
      if (state !== undefined) {
        const rtt = this.#now() - grant!.sentAt;
        this.#minRtt = Math.min(this.#minRtt, rtt);
        late = rtt - this.#minRtt;
        this.#late = Math.max(late, this.#late * LATE_DECAY);
      }
      if (headers.requests) this.#sync(this.#requests, headers.requests, state?.requestsTat, state?.requestsShift, grant?.sentAt, this.#interval('requests'), late);
      if (headers.tokens) {
        const behind = this.#sync(this.#tokens, headers.tokens, state?.tokensTat, state?.tokensShift, grant?.sentAt, state?.tokensMs, late);
        if (state !== undefined && behind !== undefined) {
          // Only a reading that follows the one of the grant sent just before it shows this grant's own
          // charge alone (less what that reading showed but did not move): any other also carries the
          // errors of bookings read out of order or not at all (a failure the server did not charge, an
          // answer without headers).
          if (state.seq === this.#lastRead + 1 || (state.probe && state.tokensMs === 0)) this.#learnRatio(state, grant!, behind - this.#unmoved, headers.tokens, late);
          this.#lastRead = state.seq;
          this.#unmoved = behind - this.#lastMove;
        }
      }
      if (state !== undefined && (headers.requests?.resetMs !== undefined || headers.tokens?.resetMs !== undefined)) this.#syncedGrant = grant;
    }
    if (state?.probe === true || headers !== undefined) this.#probeDone = true;
  }

  /**
   * Moves a bucket to the server's reading `r` of it, as of the send. Returns how far the reading put the
   * server's bucket ahead of the local one (ms; negative: behind), measured against the grant's own state,
   * or undefined when there is no such measure.
   */
  #sync(b: Bucket, r: RateLimitHeaders['requests'] & object, localTat: number | undefined, shiftAtSend: number | undefined, sentAt: number | undefined, ownMs = 0, late = 0): number | undefined {
    if (b.learned !== r.limit) {
      b.learned = r.limit;
      b.burst = undefined;
    }
    const unit = MINUTE / r.limit;
    if (r.resetMs === undefined) return undefined;
    // With units left the backlog is below the bucket size, so remaining × unit + reset bounds it from
    // below; with none left a large request may have overfilled it and the sum says nothing.
    if (r.remaining !== undefined && r.remaining > 0) {
      b.burst = Math.min(MINUTE, Math.max(b.burst ?? 0, r.remaining * unit + r.resetMs));
    }
    const serverTat = (sentAt ?? this.#now()) + r.resetMs;
    const own = localTat !== undefined && shiftAtSend !== undefined;
    const behind = own ? serverTat - localTat - (b.shift - shiftAtSend) : serverTat - b.tat;
    // Measured against the grant's own state (what the buckets held right after its charge, and the
    // corrections applied since), the reading is exact for the requests the server admitted before it:
    // follow it both ways, so an overcharge is given back and the server's noise does not ratchet the
    // bucket ahead. Back only by what the reading proves: less the time the request may have taken to
    // reach the server (`late`), and by at most MAX_BACK_SHARE of the grant's own booking, since a request
    // that overtook others on the way shows a bucket without them. Without that state, or while the pace
    // is cut after 429s (its larger bookings are the point: giving them back would undo the cut), only
    // forward; the requests bucket too (a request costs the server exactly one: there is no charge to
    // give back, only noise, and following it back drew 9 % 429s in bench:pacing's RPM-bound `small`).
    const move = behind > 0 ? behind : own && this.#scale === 1 && b === this.#tokens ? Math.max(Math.min(0, behind + late), -MAX_BACK_SHARE * ownMs) : 0;
    if (move !== 0) {
      b.tat += move;
      b.shift += move;
    }
    this.#lastMove = move;
    return own ? behind : undefined;
  }

  /**
   * Learns the server's charge per estimated token from one reading of the tokens bucket, `behind` ms
   * ahead of the local one as of the grant's send. The reconciliation the grant had from `usage` is left
   * out (the reading undid it): a server that charges at admission never gives back unused output. A
   * grant reconciled to nothing (a 429) is skipped, and so is a reading of a server's bucket that had
   * drained while the local one held a backlog (the server was idle: not a charge). The ratio is the
   * median of the last RATIO_SAMPLES readings' ratios.
   */
  #learnRatio(state: GrantState, grant: Grant, behind: number, r: NonNullable<RateLimitHeaders['tokens']>, late: number): void {
    if (state.uncharged || r.resetMs === undefined || !(grant.tokens > 0)) return;
    // What the server would charge for it at the estimate, in ms of its refill: the ratio is measured
    // against this, not against the booking, which `scale` and `headroom` enlarge on purpose.
    const atEstimate = (grant.tokens * MINUTE) / r.limit;
    // The probe went before any limit was known, so nothing was booked for it; the server's bucket held
    // it alone (or other clients' backlog too, which errs high), so its reset is its charge.
    const probed = state.probe && state.tokensMs === 0;
    const charged = probed ? r.resetMs : state.tokensMs + behind + state.reconciledMs;
    if (!probed && r.resetMs < 2 * state.tokensMs && state.tokensTat - grant.sentAt > 2 * state.tokensMs) return;
    const expected = atEstimate * this.#ratio;
    // A reading far below the expected charge is a request that overtook others, or a send that left late
    // (the time to the server's admission is not in the reading): not a charge, and taken as one it would
    // let the next sends overfill the server's bucket. One far above is clamped: a ratio too high only slows.
    const error = charged - expected;
    if (error < -MAX_BACK_SHARE * expected || (error < 0 && late > MAX_BACK_SHARE * expected)) return;
    const sample = Math.min(Math.max(Math.min(charged, expected * (1 + MAX_BACK_SHARE)) / atEstimate, RATIO_RANGE[0]), RATIO_RANGE[1]);
    const samples = this.#ratioSamples;
    samples.push(sample);
    if (samples.length > RATIO_SAMPLES) samples.shift();
    // The median: one reading's error (noise, the time to admission) must not move the ratio.
    const sorted = [...samples].sort((a, b) => a - b);
    this.#ratio = sorted[sorted.length >> 1]!;
    this.#ratioWeight += expected;
  }

  /**
   * Corrects the token charge of `grant` once its real cost is known (from `usage`, or 0 when the server
   * rejected it without charging tokens, as it does for a 429).
   */
  reconcile(grant: Grant, actualTokens: number): void {
    if (typeof actualTokens !== 'number' || !(actualTokens >= 0) || !Number.isFinite(actualTokens)) return;
    const ti = this.#interval('tokens');
    if (ti === undefined) return;
    const state = IssuedGrant.stateOf(grant);
    // At the interval and charge ratio it was booked at.
    const perToken = state !== undefined && grant.tokens > 0 && state.tokensMs > 0 ? state.tokensMs / grant.tokens : ti;
    const delta = (actualTokens - grant.tokens) * perToken;
    this.#tokens.tat += delta;
    // Counted as a correction too: a later header reading already includes this request's true cost.
    this.#tokens.shift += delta;
    if (state !== undefined) {
      state.reconciledMs += delta;
      if (actualTokens === 0) state.uncharged = true;
    }
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
