/**
 * Backoff as immutable values: `next()` returns the delay to wait now and the backoff to use after it,
 * and never changes the backoff it was called on. A whole delay sequence can therefore be checked with
 * no clock at all, and one backoff can be shared by many retry loops without them interfering.
 *
 * The default is exponential growth with a cap and "full jitter" (a uniform draw in `[0, d]`), which
 * spreads simultaneous retries best of the variants the AWS article compares.
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */

/** One step of a {@link Backoff}: how long to wait now, and the backoff for the step after. */
export interface BackoffStep {
  /** How long to wait before the next attempt, in milliseconds. */
  readonly delayMs: number;
  /** The backoff to ask for the delay after this one. */
  readonly backoff: Backoff;
}

/** An immutable backoff. */
export interface Backoff {
  /** How many delays were taken before this value (0 for a fresh backoff). */
  readonly attempt: number;
  /** The delay for this step and the backoff for the next one. Never mutates `this`. */
  next(): BackoffStep;
}

import { durationMs, finite, fn, fraction, misuse, optionsObject, rejectUnknown, type Owner } from '../internal/options.ts';

/** Options of {@link exponentialBackoff}. */
export interface ExponentialBackoffOptions {
  /**
   * The un-jittered first delay, in milliseconds.
   * @default 500
   */
  readonly initialDelayMs?: number;
  /**
   * The factor each un-jittered delay grows by.
   * @default 2
   */
  readonly factor?: number;
  /**
   * The cap on an un-jittered delay, in milliseconds.
   * @default 30000
   */
  readonly maxDelayMs?: number;
  /**
   * The share of each delay `d` that is random, from 0 to 1: a delay is drawn uniformly from
   * `[d × (1 − jitter), d]`. `1` is "full jitter" (`[0, d]`), `0` is none (exactly `d`).
   * @default 1
   */
  readonly jitter?: number;
  /**
   * The source of randomness for jitter, returning a number in `[0, 1)`. Inject a seeded one in tests.
   * @default Math.random
   */
  readonly random?: () => number;
}

interface Resolved {
  readonly initialDelayMs: number;
  readonly factor: number;
  readonly maxDelayMs: number;
  readonly jitter: number;
  readonly random: () => number;
}

class ExponentialBackoff implements Backoff {
  readonly attempt: number;
  readonly #o: Resolved;

  constructor(o: Resolved, attempt: number) {
    this.#o = o;
    this.attempt = attempt;
    Object.freeze(this);
  }

  next(): BackoffStep {
    const o = this.#o;
    // Math.min before the power would overflow: factor ** 2000 is Infinity, and Infinity * 0 is NaN.
    const raw = Math.min(o.maxDelayMs, o.initialDelayMs * o.factor ** Math.min(this.attempt, 1024));
    // Drawn from [raw × (1 − jitter), raw]; with no jitter `random` is not called at all.
    const delayMs = o.jitter === 0 ? raw : Math.floor(raw * (1 - o.jitter * (1 - clampUnit(o.random()))));
    return { delayMs, backoff: new ExponentialBackoff(o, this.attempt + 1) };
  }
}

/** A draw outside `[0, 1)` (a broken injected random) is clamped rather than producing a negative wait. */
function clampUnit(x: number): number {
  return Number.isFinite(x) ? Math.min(Math.max(x, 0), 1) : 0;
}

/** `jitter` was `'full' | 'none'` before 0.2.0: say what the number is. */
function jitterOf(owner: Owner, value: unknown): number {
  if (value === 'full' || value === 'none') {
    throw misuse('type', owner, 'jitter', `a number in [0, 1] since 0.2.0 (1 for 'full', 0 for 'none')`, value);
  }
  return fraction(owner, 'jitter', value, { default: 1 });
}

const BACKOFF_KEYS: ReadonlySet<string> = new Set(
  Object.keys({ initialDelayMs: true, factor: true, maxDelayMs: true, jitter: true, random: true } satisfies Record<keyof ExponentialBackoffOptions, true>),
);

/**
 * Exponential backoff with a cap and full jitter: the n-th delay (from 0) is drawn from
 * `[0, min(maxDelayMs, initialDelayMs × factor^n)]` (from `[d × (1 − jitter), d]` with less jitter).
 *
 * @example
 * let b = exponentialBackoff({ jitter: 0 });
 * const delays = [];
 * for (let i = 0; i < 4; i++) { const s = b.next(); delays.push(s.delayMs); b = s.backoff; }
 * // delays: [500, 1000, 2000, 4000]
 */
export function exponentialBackoff(options: ExponentialBackoffOptions = {}): Backoff {
  const owner = 'exponentialBackoff';
  const o = optionsObject(owner, options);
  rejectUnknown(owner, o, BACKOFF_KEYS);
  const initialDelayMs = durationMs(owner, 'initialDelayMs', o['initialDelayMs'], { default: 500 });
  const factor = finite(owner, 'factor', o['factor'], { default: 2, min: 1 });
  const maxDelayMs = durationMs(owner, 'maxDelayMs', o['maxDelayMs'], { default: 30_000 });
  const jitter = jitterOf(owner, o['jitter']);
  const random = fn<() => number>(owner, 'random', o['random']) ?? Math.random;
  return new ExponentialBackoff({ initialDelayMs, factor, maxDelayMs, jitter, random }, 0);
}

/** The same delay every time, in milliseconds (useful in tests and for `conflict` retries). */
export function constantBackoff(delayMs: number): Backoff {
  // Required: `durationMs` reads a missing value as its default, so `undefined` is refused here.
  if (delayMs === undefined) throw misuse('type', 'constantBackoff', '#delayMs', 'a number of milliseconds >= 0', delayMs);
  const ms = durationMs('constantBackoff', '#delayMs', delayMs);
  return exponentialBackoff({ initialDelayMs: ms, maxDelayMs: ms, factor: 1, jitter: 0 });
}

/** The first `count` delays of a backoff, in order (a convenience for tests and docs). */
export function backoffDelays(backoff: Backoff, count: number): number[] {
  const out: number[] = [];
  let b = backoff;
  for (let i = 0; i < count; i++) {
    const step = b.next();
    out.push(step.delayMs);
    b = step.backoff;
  }
  return out;
}
