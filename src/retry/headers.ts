/**
 * Reading the rate-limit headers every OpenAI response carries:
 * `x-ratelimit-limit-requests`, `-limit-tokens`, `-remaining-requests`, `-remaining-tokens`,
 * `-reset-requests`, `-reset-tokens` (Go-style durations: `1s`, `6m0s`, `20ms`, `1m30.5s`).
 * Anything missing or malformed is left out, never guessed: a proxy may strip or fake these.
 * @see https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers
 */
import { parseDuration } from '../classify.ts';

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

function reading(headers: HeaderSource, kind: 'requests' | 'tokens'): LimitReading | undefined {
  const limit = count(headers.get(`x-ratelimit-limit-${kind}`));
  if (limit === undefined || limit <= 0) return undefined;
  const remaining = count(headers.get(`x-ratelimit-remaining-${kind}`));
  const resetText = headers.get(`x-ratelimit-reset-${kind}`);
  const resetMs = resetText === null ? undefined : parseDuration(resetText);
  return {
    limit,
    ...(remaining !== undefined ? { remaining } : {}),
    ...(resetMs !== undefined ? { resetMs } : {}),
  };
}

/** The rate-limit readings of a response, or `undefined` when it carries none. */
export function readRateLimitHeaders(headers: HeaderSource): RateLimitHeaders | undefined {
  const requests = reading(headers, 'requests');
  const tokens = reading(headers, 'tokens');
  if (requests === undefined && tokens === undefined) return undefined;
  return { ...(requests !== undefined ? { requests } : {}), ...(tokens !== undefined ? { tokens } : {}) };
}
