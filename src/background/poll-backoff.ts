/**
 * Poll scheduling as values. These functions decide how long to wait; they never sleep. The executor in
 * `wait.ts` caps every decision at the overall deadline and does the sleeping.
 *
 * Between healthy polls the delay tracks the job's age: a job that has run for ten minutes is not going
 * to finish in the next 200 ms more often than a job that has run for two seconds, so polling it every
 * 200 ms only spends requests. The delay is `ageFactor × age`, clamped to `[minDelayMs, maxDelayMs]`,
 * then jittered *downwards* (never above the clamp), so the time between the terminal transition and
 * the poll that sees it stays below `max(minDelayMs, ageFactor × age)`. Against fixed 5-second polling
 * this spends more requests on jobs shorter than about two and a half minutes and fewer on longer ones
 * (see bench/background/).
 *
 * After a transient error (429, 5xx, reset) the delay is an exponential backoff with "equal jitter",
 * counted separately from healthy polls.
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
import { durationMs, finite, fraction, misuse, optionsObject } from '../internal/options.ts';

/** How polling is paced. Every field is optional; see {@link resolvePollPolicy} for the defaults. */
export interface PollOptions {
  /**
   * The shortest wait between two polls, in milliseconds. Server hints may ask for longer, never shorter.
   * @default 1000
   */
  minDelayMs?: number;
  /**
   * The longest wait between two polls, in milliseconds, server hints included: a hint above it
   * (`openai-poll-after-ms`, or a `retry-after` on a poll that failed) is read as `maxDelayMs`, so a
   * server asking for eleven days (`1e12`) never parks a job until its deadline.
   * @default 30000
   */
  maxDelayMs?: number;
  /**
   * The fraction of the job's age to wait between polls (0.1 = wait a tenth of how long the job has
   * run so far), before clamping to `[minDelayMs, maxDelayMs]`.
   * @default 0.1
   */
  ageFactor?: number;
  /**
   * How much of each delay is random, from 0 (none) to 1: a delay `d` becomes a value in
   * `[d × (1 − jitter), d]`, so many waiters started together do not poll in step.
   * @default 0.2
   */
  jitter?: number;
}

/** A validated {@link PollOptions} with every default filled in. */
export interface PollPolicy {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly ageFactor: number;
  readonly jitter: number;
}

export const DEFAULT_POLL_POLICY: PollPolicy = Object.freeze({ minDelayMs: 1000, maxDelayMs: 30_000, ageFactor: 0.1, jitter: 0.2 });

/**
 * Validate options (a `RangeError` or `TypeError` naming the option, `resolvePollPolicy: options.x must
 * be …`) and fill in defaults.
 */
export function resolvePollPolicy(options: PollOptions = {}): PollPolicy {
  return pollPolicyOf('resolvePollPolicy', options);
}

/** {@link resolvePollPolicy} for the wait options of `owner` (messages name `owner`). */
export function pollPolicyOf(owner: string, options: PollOptions): PollPolicy {
  const o = optionsObject(owner, options) as PollOptions;
  const minDelayMs = durationMs(owner, 'minDelayMs', o.minDelayMs, { default: DEFAULT_POLL_POLICY.minDelayMs });
  const maxDelayMs = durationMs(owner, 'maxDelayMs', o.maxDelayMs, { default: Math.max(minDelayMs, DEFAULT_POLL_POLICY.maxDelayMs) });
  if (maxDelayMs < minDelayMs) throw misuse('range', owner, 'maxDelayMs', `>= options.minDelayMs (${minDelayMs})`, maxDelayMs);
  const ageFactor = finite(owner, 'ageFactor', o.ageFactor, { default: DEFAULT_POLL_POLICY.ageFactor, min: 0 });
  const jitter = fraction(owner, 'jitter', o.jitter, { default: DEFAULT_POLL_POLICY.jitter });
  return Object.freeze({ minDelayMs, maxDelayMs, ageFactor, jitter });
}

/**
 * The wait before the next healthy poll.
 * @param ageMs how long the job has existed (now − `created_at`), in milliseconds.
 * @param random a number in `[0, 1)`; `Math.random()` in production, fixed in tests.
 * @param hintMs a server hint (`openai-poll-after-ms`), honoured as a lower bound up to `maxDelayMs`.
 */
export function pollDelay(policy: PollPolicy, ageMs: number, random: number, hintMs?: number): number {
  const base = Math.min(policy.maxDelayMs, Math.max(policy.minDelayMs, policy.ageFactor * Math.max(0, ageMs)));
  const jittered = Math.max(policy.minDelayMs, base * (1 - policy.jitter * random));
  return honourHint(policy, jittered, hintMs);
}

/** A server hint lengthens a wait, never shortens it, and never past `maxDelayMs` (see there). */
function honourHint(policy: PollPolicy, delayMs: number, hintMs: number | undefined): number {
  return hintMs !== undefined && hintMs > delayMs ? Math.max(delayMs, Math.min(hintMs, policy.maxDelayMs)) : delayMs;
}

/**
 * The wait after the `attempt`-th consecutive transient error (1 for the first): `minDelayMs × 2^(attempt−1)`
 * capped at `maxDelayMs`, with equal jitter (half fixed, half random), and never below the server's
 * `retry-after` hint (itself read up to `maxDelayMs`).
 */
export function errorDelay(policy: PollPolicy, attempt: number, random: number, hintMs?: number): number {
  const exp = Math.min(policy.maxDelayMs, Math.max(policy.minDelayMs, 1) * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  const jittered = exp / 2 + (exp / 2) * random;
  return honourHint(policy, jittered, hintMs);
}
