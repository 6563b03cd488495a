/**
 * Per-key rate limits as the real service applies them: requests per minute and tokens per minute,
 * enforced together, smoothed with GCRA (the "generic cell rate algorithm", a token bucket kept as one
 * timestamp). A bucket refills continuously at `limit / 60 s`; it holds at most `burstWindowMs` worth of
 * refill, so with the default 60 s window a fresh key may spend its whole minute at once, and with a
 * 1 s window the limit is enforced per second, as OpenAI documents ("60,000 requests/minute may be
 * enforced as 1,000 requests/second").
 *
 * Pure values and functions: the caller passes `now`; nothing here reads a clock.
 * @see https://brandur.org/rate-limiting (GCRA)
 * @see https://platform.openai.com/docs/guides/rate-limits
 */

/** Limits for one key. */
export interface RateLimitConfig {
  /** Requests per minute. */
  readonly rpm: number;
  /** Tokens per minute. */
  readonly tpm: number;
  /** How much of the minute may be spent in one burst, in ms (see the module comment). */
  readonly burstWindowMs: number;
}

/** One key's state: the theoretical arrival time of each bucket (epoch ms). */
export interface RateLimitState {
  requestsTat: number;
  tokensTat: number;
}

/** What the `x-ratelimit-*` headers report. */
export interface RateLimitSnapshot {
  readonly limitRequests: number;
  readonly limitTokens: number;
  readonly remainingRequests: number;
  readonly remainingTokens: number;
  /** Time until the requests bucket is full again, in ms. */
  readonly resetRequestsMs: number;
  /** Time until the tokens bucket is full again, in ms. */
  readonly resetTokensMs: number;
}

export type Admission =
  | { readonly ok: true; readonly snapshot: RateLimitSnapshot }
  | {
      readonly ok: false;
      /** `requests`/`tokens`: wait and retry; `too_large`: can never fit. */
      readonly reason: 'requests' | 'tokens' | 'too_large';
      /** How long until this request would be admitted, in ms (0 for `too_large`). */
      readonly retryAfterMs: number;
      /** Used amount of the exceeded bucket before this attempt (for the message). */
      readonly used: number;
      readonly snapshot: RateLimitSnapshot;
    };

const MINUTE = 60_000;

export function newRateLimitState(): RateLimitState {
  return { requestsTat: 0, tokensTat: 0 };
}

interface Bucket {
  readonly interval: number; // ms of refill per unit
  readonly tolerance: number; // ms of burst
  readonly capacity: number; // units the bucket holds
}

function bucket(limit: number, burstWindowMs: number): Bucket {
  const interval = MINUTE / limit;
  const tolerance = Math.max(burstWindowMs, interval);
  return { interval, tolerance, capacity: Math.floor(tolerance / interval) };
}

/** Units still available now (never negative). */
function remaining(b: Bucket, tat: number, now: number): number {
  const backlog = Math.max(0, tat - now);
  return Math.max(0, Math.floor((b.tolerance - backlog) / b.interval + 1e-3));
}

/** How long until `cost` units fit, in ms (0 when they fit now). */
function waitFor(b: Bucket, tat: number, now: number, cost: number): number {
  const start = Math.max(tat, now);
  // A single cost larger than the burst still fits into an empty bucket (it only cannot exceed the
  // whole per-minute limit, checked separately as "too large").
  const allowance = Math.max(b.tolerance, cost * b.interval);
  return Math.max(0, start + cost * b.interval - (now + allowance));
}

function snapshot(cfg: RateLimitConfig, st: RateLimitState, now: number): RateLimitSnapshot {
  const req = bucket(cfg.rpm, cfg.burstWindowMs);
  const tok = bucket(cfg.tpm, cfg.burstWindowMs);
  return {
    limitRequests: cfg.rpm,
    limitTokens: cfg.tpm,
    remainingRequests: Math.min(cfg.rpm, remaining(req, st.requestsTat, now)),
    remainingTokens: Math.min(cfg.tpm, remaining(tok, st.tokensTat, now)),
    resetRequestsMs: Math.max(0, st.requestsTat - now),
    resetTokensMs: Math.max(0, st.tokensTat - now),
  };
}

/**
 * Decides whether a request costing `tokens` is admitted at `now`, and charges it (mutating `st`).
 * A rejected attempt still consumes one request, as the real API counts failed requests against the
 * per-minute limit; its tokens are not charged.
 */
export function admit(cfg: RateLimitConfig, st: RateLimitState, now: number, tokens: number, countRejected = true): Admission {
  const req = bucket(cfg.rpm, cfg.burstWindowMs);
  const tok = bucket(cfg.tpm, cfg.burstWindowMs);
  const usedRequests = cfg.rpm - remaining(req, st.requestsTat, now);
  const usedTokens = Math.max(0, Math.ceil(Math.max(0, st.tokensTat - now) / tok.interval - 1e-3)); // epsilon: epoch-ms doubles carry ~1e-4 ms of noise
  const chargeRequest = (): void => {
    if (countRejected) st.requestsTat = Math.max(st.requestsTat, now) + req.interval;
  };
  if (tokens > cfg.tpm) {
    chargeRequest();
    return { ok: false, reason: 'too_large', retryAfterMs: 0, used: usedTokens, snapshot: snapshot(cfg, st, now) };
  }
  const reqWait = waitFor(req, st.requestsTat, now, 1);
  const tokWait = waitFor(tok, st.tokensTat, now, tokens);
  if (reqWait > 0 || tokWait > 0) {
    const reason = reqWait > 0 ? 'requests' : 'tokens';
    chargeRequest();
    // Wait for both buckets, measured after this attempt was counted.
    const retryAfterMs = Math.max(waitFor(req, st.requestsTat, now, 1), waitFor(tok, st.tokensTat, now, tokens));
    const used = reason === 'requests' ? Math.min(cfg.rpm, usedRequests) : usedTokens;
    return { ok: false, reason, retryAfterMs, used, snapshot: snapshot(cfg, st, now) };
  }
  st.requestsTat = Math.max(st.requestsTat, now) + req.interval;
  st.tokensTat = Math.max(st.tokensTat, now) + tokens * tok.interval;
  return { ok: true, snapshot: snapshot(cfg, st, now) };
}

/** The `x-ratelimit-*` header values (durations formatted by the caller). */
export function peek(cfg: RateLimitConfig, st: RateLimitState, now: number): RateLimitSnapshot {
  return snapshot(cfg, st, now);
}
