/**
 * Wire formats the mock speaks, shaped as the real API shapes them (checked against openai-node v4–v7
 * types): the error envelope, SSE framing, Go-style durations in rate-limit headers, token estimates.
 */

/** The real error envelope: `{ error: { message, type, param, code } }`. */
export interface ErrorEnvelope {
  readonly error: {
    readonly message: string;
    readonly type: string | null;
    readonly param: string | null;
    readonly code: string | null;
  };
}

export function errorEnvelope(
  message: string,
  type: string | null,
  code: string | null = null,
  param: string | null = null,
): ErrorEnvelope {
  return { error: { message, type, param, code } };
}

/**
 * Formats a duration the way Go's `time.Duration.String()` does, as the real `x-ratelimit-reset-*`
 * headers carry it: `0s`, `20ms`, `1s`, `1.5s`, `6m0s`, `1h0m0s`. Rounded up to whole milliseconds.
 */
export function goDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = seconds(total % 60_000);
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** The "Please try again in …" wording: `494ms`, `1.898s`, `20s`, `6m0s`. */
export function tryAgainIn(ms: number): string {
  const total = Math.max(1, Math.ceil(ms));
  if (total < 1000) return `${total}ms`;
  if (total < 60_000) return `${seconds(total)}s`;
  return goDuration(total);
}

function seconds(ms: number): string {
  const whole = Math.floor(ms / 1000);
  const frac = ms % 1000;
  return frac === 0 ? String(whole) : `${whole}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
}

/** One SSE frame with an `event:` line (Responses API). */
export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** One SSE frame with only `data:` (Chat Completions). */
export function sseData(data: unknown): string {
  return `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

/**
 * The token estimate the mock charges for a prompt: the characters of every string inside the prompt
 * (messages, `input`, `instructions`), divided by 4 and rounded up. The real tokenizer is not used on
 * purpose: the estimate only has to be stable and proportional, like the real service's admission
 * estimate, and costs no dependency.
 */
export function estimatePromptTokens(...parts: unknown[]): number {
  let chars = 0;
  const walk = (v: unknown, depth: number): void => {
    if (depth > 32) return;
    if (typeof v === 'string') chars += v.length;
    else if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) if (k !== 'type' && k !== 'role' && k !== 'id') walk(x, depth + 1);
    }
  };
  for (const p of parts) walk(p, 0);
  return Math.ceil(chars / 4);
}

/** Output tokens of a text, with the same chars/4 estimate. */
export function textTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Splits a reply into a few stream deltas (word boundaries, at most `max` pieces). */
export function splitDeltas(text: string, max = 8): string[] {
  const words = text.match(/\S+\s*/g) ?? [text];
  if (words.length <= max) return words;
  const per = Math.ceil(words.length / max);
  const out: string[] = [];
  for (let i = 0; i < words.length; i += per) out.push(words.slice(i, i + per).join(''));
  return out;
}

/** Real 400 for a body that is not JSON. */
export const INVALID_JSON_MESSAGE =
  "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)";

/** Real 401 without an Authorization header. */
export const MISSING_KEY_MESSAGE =
  "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.";

const utf8 = new TextEncoder();

/** The UTF-8 byte length of a string (Web APIs only: the fetch-shaped core imports nothing from node). */
export function utf8Length(text: string): number {
  return utf8.encode(text).length;
}

/** The first `bytes` bytes of a string's UTF-8 encoding, decoded (a cut character becomes U+FFFD). */
export function utf8Prefix(text: string, bytes: number): string {
  return new TextDecoder().decode(utf8.encode(text).subarray(0, bytes));
}
