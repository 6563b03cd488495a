/**
 * Reading the rate-limit headers every OpenAI response carries:
 * `x-ratelimit-limit-requests`, `-limit-tokens`, `-remaining-requests`, `-remaining-tokens`,
 * `-reset-requests`, `-reset-tokens` (Go-style durations: `1s`, `6m0s`, `20ms`, `1m30.5s`).
 * Anything missing, malformed or out of range is left out, never guessed: a proxy may strip or fake
 * these, and the limiter obeys what is read (a `limit-requests` of 0.001 would space requests 16.7 hours
 * apart, freezing the model). The accepted ranges ({@link HEADER_RANGES}) and why:
 * - `limit-requests`: 1 … 10⁹ per minute. OpenAI limits are whole numbers and the smallest tiers allow a
 *   few requests per minute; below 1 cannot be a real limit. Above 10⁹ cannot pace anything.
 * - `limit-tokens`: 1000 … 10¹² per minute. One ordinary request (a prompt plus the default 256 output
 *   tokens) costs hundreds of tokens, so a limit below 1000 would hold each request for minutes; no
 *   OpenAI tier is that low (the smallest are in the tens of thousands), so it is a proxy's junk.
 * - `remaining-*`: 0 … the limit read with it (more units left than the limit is inconsistent).
 * - `reset-*`: 0 … 24 hours, the longest window OpenAI enforces (requests per day); `99999999h` is junk.
 * A reading whose limit is out of range is dropped whole; an out-of-range `remaining` or `reset` is
 * dropped alone.
 * @see https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers
 */
import { parseDuration } from '../core/classify/index.ts';

/** What one response said about one limit (requests or tokens). */
export interface LimitReading {
  /** The limit per minute. */
  readonly limit: number;
  /** Units left now, when the header was present and valid. */
  readonly remaining?: number;
  /** Milliseconds until the bucket is full again, when the header was present and valid. */
  readonly resetMs?: number;
}

/** The rate-limit headers of one response. */
export interface RateLimitHeaders {
  readonly requests?: LimitReading;
  readonly tokens?: LimitReading;
}

/** The subset of `Headers` this reads (a `Headers`, or anything with a case-insensitive `get`). */
export interface HeaderSource {
  get(name: string): string | null;
}

function count(text: string | null): number | undefined {
  if (text === null) return undefined;
  const t = text.trim();
  if (!/^\d+(?:\.\d+)?$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** The values a rate-limit header may take to be believed (see the module comment for why). */
export const HEADER_RANGES = Object.freeze({
  /** `x-ratelimit-limit-requests`, per minute. */
  limitRequests: Object.freeze({ min: 1, max: 1e9 }),
  /** `x-ratelimit-limit-tokens`, per minute. */
  limitTokens: Object.freeze({ min: 1000, max: 1e12 }),
  /** `x-ratelimit-reset-*`, in milliseconds (24 hours). */
  resetMs: Object.freeze({ min: 0, max: 86_400_000 }),
});

const within = (n: number | undefined, min: number, max: number): number | undefined => (n !== undefined && n >= min && n <= max ? n : undefined);

// Built field by field, not with spreads: this runs for every answer.
function reading(headers: HeaderSource, kind: 'requests' | 'tokens'): LimitReading | undefined {
  const range = kind === 'requests' ? HEADER_RANGES.limitRequests : HEADER_RANGES.limitTokens;
  const limit = within(count(headers.get(`x-ratelimit-limit-${kind}`)), range.min, range.max);
  if (limit === undefined) return undefined;
  const remaining = within(count(headers.get(`x-ratelimit-remaining-${kind}`)), 0, limit);
  const resetText = headers.get(`x-ratelimit-reset-${kind}`);
  const resetMs = within(resetText === null ? undefined : parseDuration(resetText), HEADER_RANGES.resetMs.min, HEADER_RANGES.resetMs.max);
  const out: { limit: number; remaining?: number; resetMs?: number } = { limit };
  if (remaining !== undefined) out.remaining = remaining;
  if (resetMs !== undefined) out.resetMs = resetMs;
  return out;
}

/** The rate-limit readings of a response, or `undefined` when it carries none. */
export function readRateLimitHeaders(headers: HeaderSource): RateLimitHeaders | undefined {
  const requests = reading(headers, 'requests');
  const tokens = reading(headers, 'tokens');
  if (requests === undefined && tokens === undefined) return undefined;
  const out: { requests?: LimitReading; tokens?: LimitReading } = {};
  if (requests !== undefined) out.requests = requests;
  if (tokens !== undefined) out.tokens = tokens;
  return out;
}

const sameLimit = (a: LimitReading | undefined, b: LimitReading | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.limit === b.limit && a.remaining === b.remaining && a.resetMs === b.resetMs);

/** @internal Whether two readings say the same (every figure equal), without building anything. */
export function sameReading(a: RateLimitHeaders | undefined, b: RateLimitHeaders | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && sameLimit(a.requests, b.requests) && sameLimit(a.tokens, b.tokens));
}
