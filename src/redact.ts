/**
 * Secret scrubbing. Every string faultline puts into a message, a log line, a report or `toJSON()`
 * passes through {@link redact}; every header bag through {@link redactHeaders}.
 */

// OpenAI keys (`sk-…`, `sk-proj-…`, `sk-svcacct-…`, `sk-admin-…`), Standard Webhooks secrets, bearer
// tokens, and `api-key=`/`"api-key": "…"` pairs as Azure sends them. Short `sk-` runs are left alone
// (they are words, not keys); the OpenAI 401 message already masks all but the last four characters.
const SECRET_PATTERNS: readonly RegExp[] = [
  /\bsk-[A-Za-z0-9_-]{8,}/g,
  /\bwhsec_[A-Za-z0-9+/=]{8,}/g,
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  // A scheme after `Authorization:` is kept: the Bearer/Basic pattern above already took the token.
  /((?:api[-_]?key|authorization|x-api-key|openai-api-key)["']?\s*[:=]\s*["']?)(?!(?:bearer|basic)\s)[^\s"',;}&]{6,}/gi,
];

const REDACTED = '[REDACTED]';
// A necessary condition for any of SECRET_PATTERNS, in one case-insensitive scan: each alternative is a
// prefix every match of one pattern starts with (`x-api-key`, `openai-api-key` hold `api-key`). Text
// that fails it is returned as it is; a masked key (`sk-proj-****abcd`) or the word "key" no longer
// costs four replace passes.
// classify() folds this same test into the one scan it makes of a message (see redactScanned).
export const MAY_HOLD_SECRET: RegExp = /sk-[A-Za-z0-9_-]{8}|whsec_[A-Za-z0-9+/=]{8}|(?:bearer|basic)\s|(?:api[-_]?key|authorization)["']?\s*[:=]/i;

/** Replace anything that looks like a secret in `text` with `[REDACTED]`. */
export function redact(text: string): string {
  // Fast path: most messages can hold no secret (one case-insensitive scan, no lower-cased copy:
  // classify() calls this for every field it returns).
  // The shortest secret any pattern matches is 11 characters (`sk-` and eight more).
  if (text.length < 11 || !MAY_HOLD_SECRET.test(text)) return text;
  return scrub(text);
}

/**
 * {@link redact} for a caller that has already tested the whole of `text` against
 * {@link MAY_HOLD_SECRET} (case-insensitive) and passes the outcome: the scan is not made twice.
 */
export function redactScanned(text: string, mayHoldSecret: boolean): string {
  return mayHoldSecret ? scrub(text) : text;
}

function scrub(text: string): string {
  let out = text;
  out = out.replace(SECRET_PATTERNS[0]!, REDACTED);
  out = out.replace(SECRET_PATTERNS[1]!, REDACTED);
  out = out.replace(SECRET_PATTERNS[2]!, (_m, scheme: string) => `${scheme} ${REDACTED}`);
  out = out.replace(SECRET_PATTERNS[3]!, (_m, prefix: string) => `${prefix}${REDACTED}`);
  return out;
}

/** Header names whose values are secrets whatever they look like. */
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'api-key',
  'x-api-key',
  'openai-api-key',
  'cookie',
  'set-cookie',
  'ocp-apim-subscription-key',
]);

/** True when a header of this name carries a secret. */
export function isSecretHeader(name: string): boolean {
  return SECRET_HEADERS.has(name.toLowerCase());
}

/**
 * A plain, lower-cased copy of a header bag (a `Headers`, a `Map`, an array of pairs or a plain
 * object) with secret headers replaced by `[REDACTED]` and every other value passed through
 * {@link redact}. Never throws.
 */
export function redactHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (k: unknown, v: unknown): void => {
    if (typeof k !== 'string') return;
    const name = k.toLowerCase();
    const value = Array.isArray(v) ? v.join(', ') : String(v);
    out[name] = isSecretHeader(name) ? REDACTED : redact(value);
  };
  try {
    if (headers == null || typeof headers !== 'object') return out;
    const h = headers as { forEach?: unknown; entries?: unknown };
    if (Array.isArray(headers)) {
      for (const pair of headers) if (Array.isArray(pair)) put(pair[0], pair[1]);
    } else if (typeof h.forEach === 'function' && typeof h.entries === 'function') {
      // Headers and Map both call back (value, key).
      (h.forEach as (cb: (v: unknown, k: unknown) => void) => void).call(headers, (v, k) => put(k, v));
    } else {
      for (const k of Object.keys(headers)) put(k, (headers as Record<string, unknown>)[k]);
    }
  } catch {
    // A hostile header bag: keep what was read.
  }
  return out;
}
