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
   * `'full'`: each delay is drawn uniformly from `[0, d]`; `'none'`: each delay is exactly `d`.
   * @default 'full'
   */
  readonly jitter?: 'full' | 'none';
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
  readonly jitter: 'full' | 'none';
  readonly random: () => number;
}

function finiteAtLeast(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isFinite(value) || value < min) throw new RangeError(`${name} must be a finite number >= ${min}, got ${value}`);
  return value;
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
    const delayMs = o.jitter === 'full' ? Math.floor(clampUnit(o.random()) * raw) : raw;
    return { delayMs, backoff: new ExponentialBackoff(o, this.attempt + 1) };
  }
}

/** A draw outside `[0, 1)` (a broken injected random) is clamped rather than producing a negative wait. */
function clampUnit(x: number): number {
  return Number.isFinite(x) ? Math.min(Math.max(x, 0), 1) : 0;
}

/**
 * Exponential backoff with a cap and full jitter: the n-th delay (from 0) is drawn from
 * `[0, min(maxDelayMs, initialDelayMs × factor^n)]`.
 *
 * @example
 * let b = exponentialBackoff({ jitter: 'none' });
 * const delays = [];
 * for (let i = 0; i < 4; i++) { const s = b.next(); delays.push(s.delayMs); b = s.backoff; }
 * // delays: [500, 1000, 2000, 4000]
 */
export function exponentialBackoff(options: ExponentialBackoffOptions = {}): Backoff {
  if (typeof options !== 'object' || options === null) throw new TypeError('exponentialBackoff: options must be an object');
  const initialDelayMs = finiteAtLeast('exponentialBackoff: options.initialDelayMs', options.initialDelayMs ?? 500, 0);
  const factor = finiteAtLeast('exponentialBackoff: options.factor', options.factor ?? 2, 1);
  const maxDelayMs = finiteAtLeast('exponentialBackoff: options.maxDelayMs', options.maxDelayMs ?? 30_000, 0);
  const jitter = options.jitter ?? 'full';
  if (jitter !== 'full' && jitter !== 'none') throw new TypeError(`exponentialBackoff: options.jitter must be 'full' or 'none', got ${JSON.stringify(jitter)}`);
  const random = options.random ?? Math.random;
  if (typeof random !== 'function') throw new TypeError('exponentialBackoff: options.random must be a function returning [0, 1)');
  return new ExponentialBackoff({ initialDelayMs, factor, maxDelayMs, jitter, random }, 0);
}

/** The same delay every time, in milliseconds (useful in tests and for `conflict` retries). */
export function constantBackoff(delayMs: number): Backoff {
  const ms = finiteAtLeast('constantBackoff: delayMs', delayMs, 0);
  return exponentialBackoff({ initialDelayMs: ms, maxDelayMs: ms, factor: 1, jitter: 'none' });
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
