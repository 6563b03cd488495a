/**
 * Secret scrubbing. Every string faultline puts into a message, a log line, a report or `toJSON()`
 * passes through {@link redact}; every header bag through {@link redactHeaders}; every object that
 * `util.inspect` shows for faultline (an error's `cause` chain) through {@link redactedView}.
 */

// What is scrubbed (every shape has a test in test/redact.test.ts):
// - key shapes: OpenAI `sk-…` (`sk-proj-`, `sk-svcacct-`, `sk-admin-`, legacy; also Anthropic's `sk-ant-`
//   and OpenRouter's `sk-or-`) and Standard Webhooks `whsec_…`. Other providers' bare shapes (`AIza…`,
//   `gsk_…`, `xai-…`) are caught where they are used (`Bearer …`, `?key=`, `api-key:`), not alone: each
//   extra shape costs classify()'s one scan of every message;
// - credentials after `Bearer`/`Basic` (separated by spaces, `%20` or `+`);
// - the value of an `api-key`/`api_key`/`apikey` (so `x-api-key`, `openai-api-key`, `x-goog-api-key`),
//   `authorization`, `subscription-key` or `access_token` pair, however it is written: `:` or `=`, JSON
//   quotes, escaped quotes (`\"`), URL-encoded (`%22`, `%3A`, `%3D`, `%20`); an Authorization value keeps
//   its scheme (`Token [REDACTED]`);
// - the value of a `key` query parameter (`?key=`, `&key=`, `%3Fkey%3D`).
// Short `sk-` runs are words, not keys, and a key shape glued to a letter (`task-management`) is a word
// too, unless the letter ends an escape (`\n`, `%3D`, `\u0022`): a key after `_`, `=` or `%3D` is caught.
// The OpenAI 401 message masks all but the last four characters already.
//
// The scan is one hand-written pass (no regular expression): every character is read a bounded number of
// times, whatever the input (a backtracking regex threw RangeError on a few megabytes of `sk-sk-…`).

const REDACTED = '[REDACTED]';

/** What ends a secret-pair name in {@link SECRET_OPENINGS}: an optional quote, spaces (the scanner's gap of 32), a separator. */
const PAIR_END = String.raw`(?:\\{0,3}["']|%2[27])?(?:\s|\+|%20){0,32}(?::|=|%3[ad])`;

/**
 * The openings of everything {@link redact} scrubs, as regex sources (case-insensitive, bounded
 * quantifiers only, so no backtracking): every scrubbed shape starts with one (`x-api-key` holds
 * `api-key`, `proxy-authorization` holds `authorization`). Each starts with its first letter as plain
 * text, because classify() merges them, by that letter, into the one scan it makes of a message (see
 * classify/vocabulary.ts `byFirstLetter`, which refuses any other). So the `key=` of a query string is
 * matched at its `k`, the `?`, `&`, `;`, `%3F` or `%26` before it read by a lookbehind.
 */
export const SECRET_OPENINGS: readonly string[] = [
  'sk-[A-Za-z0-9_-]{8}',
  'whsec_',
  String.raw`bearer(?:\s|%20|\+)`,
  String.raw`basic(?:\s|%20|\+)`,
  `api[-_]?key${PAIR_END}`,
  `authorization${PAIR_END}`,
  `subscription[-_]?key${PAIR_END}`,
  `access[-_]?token${PAIR_END}`,
  'k(?<=(?:[?&;]|%3f|%26)k)ey(?:=|%3d)',
];

/**
 * A necessary condition for anything {@link redact} scrubs: one of {@link SECRET_OPENINGS}. Text that
 * fails it is returned as it is, so a masked key (`sk-proj-****abcd`) or the word "key" costs one scan.
 * classify() folds this same test into the one scan it makes of a message (see {@link redactScanned}).
 */
export const MAY_HOLD_SECRET: RegExp = new RegExp(SECRET_OPENINGS.join('|'), 'i');

/** Replace anything that looks like a secret in `text` with `[REDACTED]`. Never throws; linear time. */
export function redact(text: string): string {
  // Fast path: most messages can hold no secret (one case-insensitive scan, no lower-cased copy:
  // classify() calls this for every field it returns).
  // The shortest secret scrubbed is 11 characters (`sk-` and eight more, or `?key=` and six).
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

/**
 * How many character reads the scrubbing pass makes on `text` (for the linearity test: an operation
 * count instead of a stopwatch). Not exported from an entry.
 */
export function redactCost(text: string): number {
  reads = 0;
  scrub(text);
  return reads;
}

// ---------------------------------------------------------------------------------------------------
// The scanner
// ---------------------------------------------------------------------------------------------------

/** Character classes (bits) of the ASCII range; code points above it are looked up by {@link classOf}. */
const KEY = 1; // [A-Za-z0-9_-]: OpenAI-style key bodies
const B64 = 2; // [A-Za-z0-9+/=]: whsec_ bodies
const TOKEN = 4; // [A-Za-z0-9._~+/=-]: RFC 6750 b64token
const VALUE = 8; // anything but white space and "',;}&\ : the value of a pair
const ALNUM = 16;
const HEX = 32;
const SPACE = 64;
const ALPHA = 128;
/** Characters a rule can start with (`s w b a k`, either case): the others are passed over at once. */
const START = new Uint8Array(128);
for (const ch of 'swbakSWBAK') START[ch.charCodeAt(0)] = 1;
const CLASSES = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  let bits = 0;
  const alpha = /[A-Za-z]/.test(ch);
  const alnum = alpha || /[0-9]/.test(ch);
  if (alpha) bits |= ALPHA;
  if (alnum) bits |= ALNUM | KEY | B64 | TOKEN;
  if (ch === '_' || ch === '-') bits |= KEY;
  if ('+/='.includes(ch)) bits |= B64;
  if ('._~+/=-'.includes(ch)) bits |= TOKEN;
  if (/[0-9A-Fa-f]/.test(ch)) bits |= HEX;
  const space = ' \t\n\v\f\r'.includes(ch);
  if (space) bits |= SPACE;
  else if (!'"\',;}&\\'.includes(ch)) bits |= VALUE;
  CLASSES[c] = bits;
}

/** What JavaScript's `\s` calls white space above ASCII. */
function isUnicodeSpace(c: number): boolean {
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

function classOf(c: number): number {
  if (c < 128) return CLASSES[c]!; // NaN (past the end) is not < 128
  if (Number.isNaN(c)) return 0;
  return isUnicodeSpace(c) ? SPACE : VALUE;
}

/** Character reads of the current scan (see {@link redactCost}). */
let reads = 0;
/** The span the last successful rule asks to replace. */
let hitStart = 0;
let hitEnd = 0;

function at(t: string, i: number): number {
  reads++;
  return t.charCodeAt(i);
}

/** `t[i]` lower-cased if it is an ASCII letter. */
function folded(t: string, i: number): number {
  const c = at(t, i);
  return c >= 65 && c <= 90 ? c | 32 : c;
}

/** The index after `word` (lower case) at `i`, case-insensitively, or -1. */
function word(t: string, i: number, w: string): number {
  if (i < 0) return -1;
  for (let k = 0; k < w.length; k++) if (folded(t, i + k) !== w.charCodeAt(k)) return -1;
  return i + w.length;
}

/** The index after `prefix` at `i`, case-sensitively, or -1. */
function exact(t: string, i: number, prefix: string): number {
  for (let k = 0; k < prefix.length; k++) if (at(t, i + k) !== prefix.charCodeAt(k)) return -1;
  return i + prefix.length;
}

/** The end of the run of characters of class `cls` from `i` (`i` when there is none). */
function run(t: string, i: number, cls: number): number {
  while ((classOf(at(t, i)) & cls) !== 0) i++;
  return i;
}

/** A `%XX` escape at `i`: its two hex digits folded into one number, or -1. */
function percent(t: string, i: number): number {
  if (at(t, i) !== 37 /* % */ || (classOf(at(t, i + 1)) & HEX) === 0 || (classOf(at(t, i + 2)) & HEX) === 0) return -1;
  return parseInt(t.slice(i + 1, i + 3), 16);
}

/**
 * Whether a key shape may start at `p`: at the start, after anything but a letter or digit, or after a
 * letter or digit that ends an escape (`\n`, `%3D`, `\u0022`), since a key inside an escaped or
 * URL-encoded text follows one.
 */
function boundary(t: string, p: number): boolean {
  if (p === 0 || (classOf(at(t, p - 1)) & ALNUM) === 0) return true;
  if (p >= 2 && at(t, p - 2) === 92 /* \ */) return true;
  if (p >= 3 && percent(t, p - 3) >= 0) return true;
  return p >= 6 && at(t, p - 6) === 92 && (at(t, p - 5) | 32) === 117 /* u */;
}

/** A key shape at `i`: `prefix` then at least `min` characters of class `cls`. */
function keyShape(t: string, i: number, prefix: string, cls: number, min: number, needsBoundary: boolean): boolean {
  const j = exact(t, i, prefix);
  if (j < 0 || (needsBoundary && !boundary(t, i))) return false;
  const end = run(t, j, cls);
  if (end - j < min) return false;
  hitStart = i;
  hitEnd = end;
  return true;
}

/** A whsec_ secret: base64 characters, `%XX` escapes included (a URL-encoded secret). */
function webhookSecret(t: string, i: number): boolean {
  const j = exact(t, i, 'whsec_');
  if (j < 0) return false;
  let end = j;
  for (;;) {
    const e = run(t, end, B64);
    if (e === end && percent(t, end) < 0) break;
    end = e === end ? end + 3 : e;
  }
  if (end - j < 8) return false;
  hitStart = i;
  hitEnd = end;
  return true;
}

/** Skips spaces (white space, `+`, `%20`), at most `max` of them. */
function spaces(t: string, i: number, max = Infinity): number {
  for (let k = 0; k < max; k++) {
    const c = at(t, i);
    if ((classOf(c) & SPACE) !== 0 || c === 43 /* + */) i++;
    else if (percent(t, i) === 0x20) i += 3;
    else break;
  }
  return i;
}

/** Skips one optional quote: `"`, `'`, one to three backslashes before one, `%22` or `%27`. */
function quote(t: string, i: number): number {
  let j = i;
  while (j - i < 3 && at(t, j) === 92) j++;
  const c = at(t, j);
  if (c === 34 || c === 39) return j + 1;
  const p = percent(t, i);
  return p === 0x22 || p === 0x27 ? i + 3 : i;
}

/** A `:`, `=`, `=>`, `%3A` or `%3D` at `i`: the index after it, or -1. */
function separator(t: string, i: number): number {
  const c = at(t, i);
  if (c === 58 /* : */) return i + 1;
  if (c === 61 /* = */) return at(t, i + 1) === 62 /* > */ ? i + 2 : i + 1;
  const p = percent(t, i);
  return p === 0x3a || p === 0x3d ? i + 3 : -1;
}

/** Authorization schemes whose credential follows after spaces. */
const SCHEMES: readonly string[] = ['bearer', 'basic', 'token', 'bot', 'digest', 'negotiate', 'dpop'];
/** The schemes whose credential is scrubbed outside a pair too (`Bearer …` anywhere). */
const BARE_SCHEMES: readonly string[] = ['bearer', 'basic'];

/** The index after one of `schemes` and the spaces after it at `i`, or -1. */
function scheme(t: string, i: number, schemes: readonly string[]): number {
  for (const s of schemes) {
    const j = word(t, i, s);
    if (j < 0 || (classOf(at(t, j)) & ALNUM) !== 0) continue;
    const k = spaces(t, j);
    return k > j ? k : -1;
  }
  return -1;
}

/** The end of a secret-pair name at `i` (`api-key`, `authorization`, ...), or -1. */
function pairName(t: string, i: number): number {
  const c = folded(t, i);
  const joined = (j: number, rest: string): number => {
    if (j < 0) return -1;
    const sep = at(t, j);
    return word(t, sep === 45 || sep === 95 ? j + 1 : j, rest); // `-`, `_` or nothing between the words
  };
  if (c === 97 /* a */) {
    const api = joined(word(t, i, 'api'), 'key');
    if (api >= 0) return api;
    const auth = word(t, i, 'authorization');
    if (auth >= 0) return auth;
    return joined(word(t, i, 'access'), 'token');
  }
  if (c === 115 /* s */) return joined(word(t, i, 'subscription'), 'key');
  return -1;
}

/** `%XX` escapes that end a value as their character would (`"`, `'`, `&`, `,`, `;`, `}`, `\`, space). */
const ENCODED_STOPS: ReadonlySet<number> = new Set([0x22, 0x27, 0x26, 0x2c, 0x3b, 0x7d, 0x5c, 0x20]);

/** The end of a pair's value from `i`: {@link VALUE} characters, up to an encoded stop. */
function valueEnd(t: string, i: number): number {
  for (;;) {
    const c = at(t, i);
    if ((classOf(c) & VALUE) === 0 || (c === 37 && ENCODED_STOPS.has(percent(t, i)))) return i;
    i++;
  }
}

/** The value after a pair's separator at `j`: a scheme's credential, or a run of six or more. */
function pairValue(t: string, j: number, min: number): boolean {
  const v = quote(t, spaces(t, j));
  const s = scheme(t, v, SCHEMES);
  const from = s >= 0 ? s : v;
  const end = valueEnd(t, from);
  if (end - from < (s >= 0 ? 1 : min)) return false;
  hitStart = from;
  hitEnd = end;
  return true;
}

/** At most this many spaces between a pair's name and its separator (MAY_HOLD_SECRET says the same). */
const PAIR_GAP = 32;

/** `name[quote][spaces]separator[spaces][quote]value`. */
function pair(t: string, i: number): boolean {
  const n = pairName(t, i);
  if (n < 0) return false;
  const j = separator(t, spaces(t, quote(t, n), PAIR_GAP));
  return j >= 0 && pairValue(t, j, 6);
}

/** `key=` or `key%3D` right after `?`, `&`, `;`, `%3F` or `%26`. */
function queryKey(t: string, i: number): boolean {
  const n = word(t, i, 'key');
  if (n < 0) return false;
  const before = i >= 1 ? at(t, i - 1) : 0;
  const p = i >= 3 ? percent(t, i - 3) : -1;
  if (before !== 63 && before !== 38 && before !== 59 && p !== 0x3f && p !== 0x26) return false;
  const c = at(t, n);
  const j = c === 61 ? n + 1 : percent(t, n) === 0x3d ? n + 3 : -1;
  if (j < 0) return false;
  const end = valueEnd(t, j);
  if (end - j < 6) return false;
  hitStart = j;
  hitEnd = end;
  return true;
}

/** `Bearer`/`Basic`, spaces, and a token of eight or more characters. */
function schemeToken(t: string, i: number): boolean {
  if (!boundary(t, i)) return false;
  const s = scheme(t, i, BARE_SCHEMES);
  if (s < 0) return false;
  const end = run(t, s, TOKEN);
  if (end - s < 8) return false;
  hitStart = s;
  hitEnd = end;
  return true;
}

/** Tries every rule that can start with the character at `i`. */
function secretAt(t: string, i: number): boolean {
  switch (folded(t, i)) {
    case 115 /* s */:
      return keyShape(t, i, 'sk-', KEY, 8, true) || pair(t, i);
    case 119 /* w */:
      return webhookSecret(t, i);
    case 98 /* b */:
      return schemeToken(t, i);
    case 97 /* a */:
      return pair(t, i);
    case 107 /* k */:
      return queryKey(t, i);
    default:
      return false;
  }
}

function scrub(text: string): string {
  let out = '';
  let copied = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    reads++;
    const c = text.charCodeAt(i);
    if (c >= 128 || START[c] === 0 || !secretAt(text, i)) {
      i++;
      continue;
    }
    out += text.slice(copied, hitStart) + REDACTED;
    copied = i = hitEnd;
  }
  return copied === 0 ? text : out + text.slice(copied);
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

// ---------------------------------------------------------------------------------------------------
// Redacted views for inspection and logging
// ---------------------------------------------------------------------------------------------------

/** Node's `util.inspect.custom`, without importing `node:util` into the dependency-free core. */
export const INSPECT_CUSTOM: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never;
/** The views {@link redactedView} made: {@link redactingInspect} shows them as they are. */
const VIEWS = new WeakSet<object>();
/** How deep a view copies when the caller asked for unlimited depth. */
const MAX_VIEW_DEPTH = 32;
/** Field names whose values are shown as `[REDACTED]` whatever they hold (besides secret header names). */
const SECRET_FIELD = /^(?:api[-_]?key|secret|password|client[-_]?secret|access[-_]?token|refresh[-_]?token)$/i;

/**
 * An `[util.inspect.custom]` hook (install it on a prototype under {@link INSPECT_CUSTOM}): inspect
 * shows a {@link redactedView} of the object instead of the object. A view is shown as it is (returning
 * `this` lets inspect format it normally); anything else is replaced by its view, which inspect then
 * formats in place with the depth and indentation left.
 */
export function redactingInspect(this: unknown, depth: number): unknown {
  if (typeof this === 'object' && this !== null && VIEWS.has(this)) return this;
  return redactedView(this, typeof depth === 'number' && Number.isFinite(depth) ? Math.max(0, depth) + 1 : MAX_VIEW_DEPTH);
}

/**
 * A copy of `value` for display, `depth` levels deep: every string through {@link redact}, header bags
 * (`headers` fields, `Headers`, `Map`) through {@link redactHeaders}, secret-named fields
 * (`authorization`, `api-key`, `apiKey`, `password`...) as `[REDACTED]`, errors rebuilt as errors of the
 * same class (message, stack, `cause`, `errors`, own fields), cycles and depth cut. Never throws; never
 * calls the original's own inspect hook. The original is not touched.
 */
export function redactedView(value: unknown, depth: number = MAX_VIEW_DEPTH): unknown {
  return viewOf(value, depth, new WeakMap());
}

/** Reads a property, a throwing getter or proxy trap reading as undefined. */
function readField(value: object, key: PropertyKey): unknown {
  try {
    return (value as Record<PropertyKey, unknown>)[key];
  } catch {
    return undefined;
  }
}

function viewOf(value: unknown, depth: number, seen: WeakMap<object, unknown>): unknown {
  if (typeof value === 'string') return redact(value);
  if (typeof value === 'function') return `[Function ${redact(String(readField(value, 'name') ?? ''))}]`;
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return seen.get(value);
  if (depth < 0) return '[…]';
  try {
    if ((typeof Headers !== 'undefined' && value instanceof Headers) || value instanceof Map) return redactHeaders(value);
    if (Array.isArray(value)) {
      const arr: unknown[] = [];
      seen.set(value, arr);
      for (const item of value.slice(0, 1000)) arr.push(viewOf(item, depth - 1, seen));
      return arr;
    }
    if (value instanceof Error || (typeof readField(value, 'stack') === 'string' && typeof readField(value, 'message') === 'string')) {
      return errorView(value as Error, depth, seen);
    }
    const out: Record<string, unknown> = {};
    seen.set(value, out);
    copyFields(value, out, depth, seen);
    return out;
  } catch {
    return '[unreadable]';
  }
}

/** Copies own enumerable string-keyed fields, redacted. */
function copyFields(from: object, to: Record<string, unknown>, depth: number, seen: WeakMap<object, unknown>): void {
  for (const key of Object.keys(from)) {
    const v = readField(from, key);
    if (key === 'headers' && typeof v === 'object' && v !== null) to[key] = redactHeaders(v);
    else if (typeof v === 'string' && (isSecretHeader(key) || SECRET_FIELD.test(key))) to[key] = REDACTED;
    else to[key] = viewOf(v, depth - 1, seen);
  }
}

/**
 * An error of the same class for display: a real `Error` (so inspect formats it as one, with its stack)
 * whose prototype is the original's unless that prototype has a foreign inspect hook (which could read
 * private fields a copy lacks); then a plain `Error` with the original's name.
 */
function errorView(error: Error, depth: number, seen: WeakMap<object, unknown>): Error {
  const message = readField(error, 'message');
  const view = new Error(typeof message === 'string' ? redact(message) : '');
  seen.set(error, view);
  VIEWS.add(view);
  let proto: unknown;
  try {
    proto = Object.getPrototypeOf(error);
  } catch {
    proto = undefined;
  }
  const hook = typeof proto === 'object' && proto !== null ? readField(proto, INSPECT_CUSTOM) : undefined;
  if (typeof proto === 'object' && proto !== null && (typeof hook !== 'function' || hook === redactingInspect)) Object.setPrototypeOf(view, proto);
  else Object.defineProperty(view, 'name', { value: String(readField(error, 'name') ?? 'Error'), enumerable: false, configurable: true, writable: true });
  const stack = readField(error, 'stack');
  Object.defineProperty(view, 'stack', { value: typeof stack === 'string' ? redact(stack) : view.stack, enumerable: false, configurable: true, writable: true });
  copyFields(error, view as unknown as Record<string, unknown>, depth, seen);
  for (const hidden of ['cause', 'errors'] as const) {
    let has = false;
    try {
      has = hidden in error;
    } catch {
      has = false;
    }
    if (has) Object.defineProperty(view, hidden, { value: viewOf(readField(error, hidden), depth - 1, seen), enumerable: false, configurable: true, writable: true });
  }
  return view;
}
