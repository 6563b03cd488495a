/**
 * classify(): one pure, total function from "anything that went wrong" to a catalog {@link Failure}.
 *
 * No I/O, no globals, never throws (hostile getters, proxies, cycles and megabyte strings included).
 *
 * PRECEDENCE — the one place it is decided is {@link decide}; highest first:
 *  0. An HTTP status outside 100–599 (600, 999: not HTTP, a hostile server or a broken relay) → unknown,
 *     whatever the body claims; the raw status heads the message (`status` stays a valid HTTP status,
 *     so it is absent) and no `x-should-retry` is honoured.
 *  1. Quota evidence (a quota/billing wire code or type, or "exceeded your current quota" / "billing hard
 *     limit" in the message). Quota wins over rate limit and over a 429 status: waiting never fixes it.
 *  2. "Request too large … tokens per min" on a 429 or a rate-limit code, or that whole sentence alone
 *     (relays drop the code) → request_too_large: the request is bigger than the whole per-minute budget
 *     and never fits.
 *  3. A recognised wire code (normalised: Azure PascalCase such as `DeploymentNotFound` is understood;
 *     Azure numeric-string codes such as `"429"` stand in for a missing status). A generic code
 *     (`invalid_request_error`, which some relays put in `code`) counts as a generic type (7b).
 *  4. The terminal state of an object: Responses `incomplete` + reason, `cancelled`, `failed` with
 *     `error: null`; chat `finish_reason`; batch status; webhook event type.
 *  5. Message patterns, as a last resort for relays that dropped the code ("maximum context length",
 *     "engine is currently overloaded", …). Each pattern has the real payload that needed it as a test.
 *  6. A specific wire type (`insufficient_quota`, `tokens`/`requests` → rate limit, ...).
 *  7. The HTTP status (only a status a transport really had).
 *  7b. A generic wire type or code (`invalid_request_error`, `api_error`, `server_error`), only when there
 *     is no status: the real 404 for an unknown Response id is `type: invalid_request_error, code: null`.
 *  8. Transport evidence: abort, client timeout, reset/refused/DNS/`terminated`.
 *  9. `unknown`, with every raw value kept. faultline never guesses.
 */
import { entryOf, isFailureCode, type FailureCode } from './catalog.ts';
import type { Failure, FailureSource } from './failure.ts';
import { MAY_HOLD_SECRET, redact, redactScanned } from './redact.ts';

/** Options for {@link classify}. */
export interface ClassifyOptions {
  /**
   * The current time in epoch milliseconds, used only to turn an HTTP-date `retry-after` into a delay.
   * @default Date.now()
   */
  readonly now?: number;
}

/** The brand every faultline error carries (see errors.ts). Read here without importing the classes. */
export const ERROR_BRAND: unique symbol = Symbol.for('faultline.error') as never;

const MAX_MESSAGE = 4096;
const MAX_JSON_TEXT = 1 << 20;
const MAX_CAUSE_DEPTH = 8;

// ---------------------------------------------------------------------------------------------------
// Vocabularies (normalised wire values → codes)
// ---------------------------------------------------------------------------------------------------

const QUOTA = new Set([
  'insufficient_quota',
  'credit_balance_exhausted',
  'insufficient_credit',
  'insufficient_balance',
  'billing_not_active',
  'billing_hard_limit_reached',
  'billing_limit_reached',
  'billing_limit_user_error',
  'hard_limit_reached',
  'quota_exceeded',
  'exceeded_current_quota_error',
  'usage_limit_exceeded',
  'usage_limit_reached',
  'spend_limit_exceeded',
  'spend_limit_reached',
  'monthly_spend_limit_exceeded',
  'monthly_usage_limit_exceeded',
  'budget_exceeded',
]);

const WIRE_CODES: ReadonlyMap<string, FailureCode> = new Map<string, FailureCode>([
  ...[...QUOTA].map((c) => [c, 'insufficient_quota'] as const),
  ['rate_limit_exceeded', 'rate_limit_exceeded'],
  ['rate_limit_error', 'rate_limit_exceeded'],
  ['rate_limited', 'rate_limit_exceeded'],
  ['too_many_requests', 'rate_limit_exceeded'],
  ['token_limit_exceeded', 'rate_limit_exceeded'], // batch: enqueued-token limit, frees up as batches finish
  ['request_too_large', 'request_too_large'],
  ['payload_too_large', 'request_too_large'],
  ['context_length_exceeded', 'context_length_exceeded'],
  ['model_max_context_length_exceeded', 'context_length_exceeded'],
  ['invalid_request', 'invalid_request'],
  ['invalid_request_error', 'invalid_request'],
  ['invalid_value', 'invalid_request'],
  ['invalid_type', 'invalid_request'],
  ['invalid_json', 'invalid_request'],
  ['invalid_payload', 'invalid_request'],
  ['missing_required_parameter', 'invalid_request'],
  ['unknown_parameter', 'invalid_request'],
  ['unsupported_parameter', 'invalid_request'],
  ['unsupported_value', 'invalid_request'],
  ['string_above_max_length', 'invalid_request'],
  ['array_above_max_length', 'invalid_request'],
  ['integer_above_max_value', 'invalid_request'],
  ['integer_below_min_value', 'invalid_request'],
  ['decimal_above_max_value', 'invalid_request'],
  ['decimal_below_min_value', 'invalid_request'],
  ['empty_array', 'invalid_request'],
  ['unprocessable_entity', 'invalid_request'],
  ['operation_not_supported', 'invalid_request'],
  ['invalid_image', 'invalid_image'],
  ['invalid_image_format', 'invalid_image'],
  ['invalid_base64_image', 'invalid_image'],
  ['invalid_image_url', 'invalid_image'],
  ['image_too_large', 'invalid_image'],
  ['image_too_small', 'invalid_image'],
  ['image_parse_error', 'invalid_image'],
  ['invalid_image_mode', 'invalid_image'],
  ['image_file_too_large', 'invalid_image'],
  ['unsupported_image_media_type', 'invalid_image'],
  ['empty_image_file', 'invalid_image'],
  ['failed_to_download_image', 'invalid_image'],
  ['image_file_not_found', 'invalid_image'],
  ['content_policy_violation', 'content_policy_violation'],
  ['invalid_prompt', 'content_policy_violation'],
  ['bio_policy', 'content_policy_violation'],
  ['image_content_policy_violation', 'content_policy_violation'],
  ['content_filter', 'content_policy_violation'], // Azure 400; as an incomplete *reason* it is content_filtered
  ['responsible_ai_policy_violation', 'content_policy_violation'],
  ['moderation_blocked', 'content_policy_violation'],
  ['safety_violation', 'content_policy_violation'],
  ['misalignment_policy_violation', 'content_policy_violation'],
  ['invalid_api_key', 'authentication_error'],
  ['invalid_authentication', 'authentication_error'],
  ['authentication_error', 'authentication_error'],
  ['invalid_organization', 'authentication_error'],
  ['invalid_issuer', 'authentication_error'],
  ['missing_api_key', 'authentication_error'],
  ['unauthorized', 'authentication_error'],
  ['permission_denied', 'permission_denied'],
  ['permission_error', 'permission_denied'],
  ['insufficient_permissions', 'permission_denied'],
  ['forbidden', 'permission_denied'],
  ['unsupported_country_region_territory', 'permission_denied'],
  ['account_deactivated', 'permission_denied'],
  ['access_terminated', 'permission_denied'],
  ['data_residency_mismatch', 'permission_denied'],
  ['model_not_found', 'model_not_found'],
  ['deployment_not_found', 'model_not_found'],
  ['not_found', 'not_found'],
  ['not_found_error', 'not_found'],
  ['resource_not_found', 'not_found'],
  ['conflict', 'conflict'],
  ['server_error', 'server_error'],
  ['internal_error', 'server_error'],
  ['internal_server_error', 'server_error'],
  ['model_error', 'server_error'],
  ['bad_gateway', 'server_error'],
  ['server_is_overloaded', 'overloaded'],
  ['overloaded', 'overloaded'],
  ['engine_overloaded', 'overloaded'],
  ['service_unavailable', 'overloaded'],
  ['timeout', 'timeout'],
  ['vector_store_timeout', 'timeout'],
  ['request_timeout', 'timeout'],
  ['gateway_timeout', 'timeout'],
  ['batch_expired', 'expired'],
  ['expired', 'expired'],
  ['cancelled', 'cancelled'],
  ['canceled', 'cancelled'],
]);

// Wire `type` values that say something specific (precedence 6).
const WIRE_TYPES: ReadonlyMap<string, FailureCode> = new Map<string, FailureCode>([
  ['insufficient_quota', 'insufficient_quota'],
  ['tokens', 'rate_limit_exceeded'],
  ['requests', 'rate_limit_exceeded'],
  ['tokens_usage_based', 'rate_limit_exceeded'],
  ['rate_limit_error', 'rate_limit_exceeded'],
  ['rate_limit_exceeded', 'rate_limit_exceeded'],
  ['overloaded_error', 'overloaded'],
  ['timeout_error', 'timeout'],
]);

// Generic wire `type` values: they rank below the HTTP status (precedence 7b), because OpenAI sends
// `invalid_request_error` on 404s and `server_error` on 503s.
const GENERIC_WIRE_TYPES: ReadonlyMap<string, FailureCode> = new Map<string, FailureCode>([
  ['invalid_request_error', 'invalid_request'],
  ['authentication_error', 'authentication_error'],
  ['permission_error', 'permission_denied'],
  ['not_found_error', 'not_found'],
  ['conflict_error', 'conflict'],
  ['server_error', 'server_error'],
  ['api_error', 'server_error'],
  ['internal_server_error', 'server_error'],
]);

// Message patterns (precedence 5). Each has its real payload in test/fixtures/payloads.ts. The third
// element lists words of which every alternative of the pattern holds one (lower-case): a pattern runs
// only when the message contains one (see patternsWorthTrying), which keeps the common case to one scan.
const MESSAGE_PATTERNS: ReadonlyArray<readonly [RegExp, FailureCode, readonly string[]]> = [
  [/maximum context length|context[ _]length[ _]exceeded|context window of this model|exceeds the context window/i, 'context_length_exceeded', ['context']],
  [/engine is currently overloaded|server is overloaded|(?:is|are) currently overloaded|overloaded with other requests/i, 'overloaded', ['overloaded']],
  [/model .{0,80}does not exist|deployment for this resource does not exist|model_not_found|the model .{0,80}was not found/i, 'model_not_found', ['model', 'deployment']],
  [/incorrect api key|invalid api key|invalid authentication|you didn't provide an api key|no api key provided/i, 'authentication_error', ['api key', 'authentication']],
  [/rate limit reached|rate limit exceeded|exceeded token rate limit|exceeded call rate limit|too many requests/i, 'rate_limit_exceeded', ['rate limit', 'too many requests']],
  [/content management policy|safety system|flagged as potentially violating|content_policy_violation/i, 'content_policy_violation', ['policy', 'safety system', 'flagged']],
  // openai v4–v6 turn a flat stream `error` event into an APIError with only the message.
  [/the server had an error (?:while )?processing your request|an error occurred while processing your request/i, 'server_error', ['processing your request']],
];

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Each word of a message pattern → the bits of the patterns it lets run: its own, and those of every
 * word it starts with. The scan tries longer words first, so where two words match at one position it
 * sees the longer; the shorter is a prefix of it, whose bits it therefore carries.
 */
const PATTERN_WORD_BITS: ReadonlyMap<string, number> = (() => {
  const own = new Map<string, number>();
  MESSAGE_PATTERNS.forEach(([, , words], i) => {
    for (const w of words) own.set(w, (own.get(w) ?? 0) | (1 << i));
  });
  const out = new Map<string, number>();
  for (const w of own.keys()) {
    let bits = 0;
    for (const [u, b] of own) if (w.startsWith(u)) bits |= b;
    out.set(w, bits);
  }
  return out;
})();
const PATTERN_WORDS_SCAN = new RegExp(
  [...PATTERN_WORD_BITS.keys()]
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp)
    .join('|'),
  'gi',
);

/** Bit i set: some word of MESSAGE_PATTERNS[i] is in `head` (case-insensitive). One scan. */
function patternsWorthTrying(head: string): number {
  const re = PATTERN_WORDS_SCAN;
  re.lastIndex = 0;
  let bits = 0;
  for (let m = re.exec(head); m !== null; m = re.exec(head)) {
    // A case-insensitive match of an ASCII word lower-cases to the word itself.
    bits |= PATTERN_WORD_BITS.get(m[0].toLowerCase()) ?? 0;
    re.lastIndex = m.index + 1;
  }
  return bits;
}

const QUOTA_MESSAGE = /exceeded your current quota|billing hard limit|insufficient[_ ]quota|credit balance is too low|reached your (?:monthly |project )?(?:spend|usage|spending) limit/i;
const TOO_LARGE_MESSAGE = /request too large/i;
// The whole TPM sentence is specific enough on its own (a relay that dropped status and code).
const TOO_LARGE_TPM_MESSAGE = /request too large for .{1,200}? on tokens per min/i;

/** How much of a message decide() and the hint patterns read. */
const MESSAGE_HEAD = 2000;

/** Bits of {@link messageFacts}: {@link QUOTA_MESSAGE} matches; "request too large" (the gate of both
 * too-large patterns) is there; "try again" or "retry after" (which every hint pattern holds) is there;
 * redact()'s {@link MAY_HOLD_SECRET} matches (so the message is scrubbed without being scanned again). */
const FACT_QUOTA = 1;
const FACT_TOO_LARGE = 2;
const FACT_HINT = 4;
const FACT_SECRET = 8;
// Alternatives of different groups cannot match at one position (they differ by the third letter at
// the latest: the secret group starts with s, w, b or a, and "billing" is not "bearer" or "basic"),
// and the scan restarts one character after each hit: every group present is seen.
const FACTS_SCAN = new RegExp(`(${QUOTA_MESSAGE.source})|(request too large)|(try again|retry after)|(?:${MAY_HOLD_SECRET.source})`, 'gi');

/** The rare phrases decide(), retryAfterOf() and build() act on, in one case-insensitive scan of the head. */
function messageFacts(head: string): number {
  const re = FACTS_SCAN;
  re.lastIndex = 0;
  let bits = 0;
  for (let m = re.exec(head); m !== null; m = re.exec(head)) {
    bits |= m[1] !== undefined ? FACT_QUOTA : m[2] !== undefined ? FACT_TOO_LARGE : m[3] !== undefined ? FACT_HINT : FACT_SECRET;
    re.lastIndex = m.index + 1;
  }
  return bits;
}

// Wire codes that only restate the error type: a relay may put `invalid_request_error` in `code`
// while the message says what really happened (precedence 7b).
const GENERIC_WIRE_CODES: ReadonlySet<string> = new Set(['invalid_request_error', 'invalid_request']);

const TRANSPORT_CODES: ReadonlyMap<string, FailureCode> = new Map<string, FailureCode>([
  ['ECONNRESET', 'connection_error'],
  ['ECONNREFUSED', 'connection_error'],
  ['ECONNABORTED', 'connection_error'],
  ['EPIPE', 'connection_error'],
  ['ENOTFOUND', 'connection_error'],
  ['EAI_AGAIN', 'connection_error'],
  ['EAI_FAIL', 'connection_error'],
  ['EHOSTUNREACH', 'connection_error'],
  ['EHOSTDOWN', 'connection_error'],
  ['ENETUNREACH', 'connection_error'],
  ['ENETDOWN', 'connection_error'],
  ['ENETRESET', 'connection_error'],
  ['EPROTO', 'connection_error'],
  ['UND_ERR_SOCKET', 'connection_error'],
  ['UND_ERR_CLOSED', 'connection_error'],
  ['UND_ERR_DESTROYED', 'connection_error'],
  ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'connection_error'],
  ['UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'connection_error'],
  ['ERR_STREAM_PREMATURE_CLOSE', 'connection_error'],
  ['ERR_SOCKET_CONNECTION_TIMEOUT', 'timeout'],
  ['ETIMEDOUT', 'timeout'],
  ['ESOCKETTIMEDOUT', 'timeout'],
  ['UND_ERR_CONNECT_TIMEOUT', 'timeout'],
  ['UND_ERR_HEADERS_TIMEOUT', 'timeout'],
  ['UND_ERR_BODY_TIMEOUT', 'timeout'],
  ['ABORT_ERR', 'aborted'],
  ['UND_ERR_ABORTED', 'aborted'],
]);

// Error names / constructor names (the SDK's classes have no `name`, so their constructor names are
// read; both are read by shape, never by instanceof).
const TRANSPORT_NAMES: ReadonlyMap<string, FailureCode> = new Map<string, FailureCode>([
  ['AbortError', 'aborted'],
  ['APIUserAbortError', 'aborted'],
  ['TimeoutError', 'timeout'],
  ['APIConnectionTimeoutError', 'timeout'],
  ['ConnectTimeoutError', 'timeout'],
  ['HeadersTimeoutError', 'timeout'],
  ['BodyTimeoutError', 'timeout'],
  ['APIConnectionError', 'connection_error'],
  ['SocketError', 'connection_error'],
  ['FetchError', 'connection_error'],
  ['LengthFinishReasonError', 'max_output_tokens'],
  ['ContentFilterFinishReasonError', 'content_filtered'],
]);

const TRANSPORT_MESSAGES: ReadonlyArray<readonly [RegExp, FailureCode]> = [
  [/^request was aborted\.?$|^this operation was aborted$|^the operation was aborted/i, 'aborted'],
  [/^request timed out\.?$|timed? ?out|timeout/i, 'timeout'],
  [/^terminated$|other side closed|premature close|socket hang up|^fetch failed$|^connection error\.?$|econnreset|econnrefused|network ?error|socket closed|connection (?:was )?(?:reset|closed|refused)|getaddrinfo/i, 'connection_error'],
];

const STATUS_CODES: ReadonlyMap<number, FailureCode> = new Map<number, FailureCode>([
  [400, 'invalid_request'],
  [401, 'authentication_error'],
  [403, 'permission_denied'],
  [404, 'not_found'],
  [408, 'timeout'],
  [409, 'conflict'],
  [413, 'request_too_large'],
  [422, 'invalid_request'],
  [429, 'rate_limit_exceeded'],
  [500, 'server_error'],
  [502, 'server_error'],
  [503, 'overloaded'],
  [504, 'timeout'],
  [520, 'server_error'],
  [522, 'timeout'],
  [524, 'timeout'],
  [529, 'overloaded'],
]);

const INCOMPLETE_REASONS: ReadonlyMap<string, FailureCode> = new Map<string, FailureCode>([
  ['max_output_tokens', 'max_output_tokens'],
  ['max_tokens', 'max_output_tokens'],
  ['length', 'max_output_tokens'],
  ['content_filter', 'content_filtered'],
]);

// ---------------------------------------------------------------------------------------------------
// Safe reading of untrusted values
// ---------------------------------------------------------------------------------------------------

type Obj = Record<string | symbol, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && (typeof v === 'object' || typeof v === 'function');
}

/** Read a property; a throwing getter or proxy trap reads as undefined. */
function get(o: unknown, key: string | symbol): unknown {
  if (!isObj(o)) return undefined;
  try {
    return o[key];
  } catch {
    return undefined;
  }
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length > 0 ? v : undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** A status a transport had that HTTP does not allow (1–99, 600 and up); 0 stays "no status" (opaque). */
function invalidStatus(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && (v < 100 || v > 599) ? v : undefined;
}

function httpStatus(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d{3}$/.test(v) ? Number(v) : num(v);
  return n !== undefined && Number.isInteger(n) && n >= 100 && n <= 599 ? n : undefined;
}

/** `DeploymentNotFound` → `deployment_not_found`, `Rate-Limit` → `rate_limit`. */
export function normalizeWireValue(value: string): string {
  // Most wire values are already normal (`rate_limit_exceeded`): return them as they are.
  if (NORMAL_WIRE_VALUE.test(value)) return value;
  let cached = normalizedCache.get(value);
  if (cached === undefined) {
    cached = normalizeSlow(value);
    // A small bounded memo: the same few dozen codes arrive again and again.
    if (normalizedCache.size >= 512) normalizedCache.clear();
    normalizedCache.set(value, cached);
  }
  return cached;
}

const NORMAL_WIRE_VALUE = /^[a-z0-9]+(?:_[a-z0-9]+)*$/;
const normalizedCache = new Map<string, string>();

/** What one wire code or type means in each vocabulary decide() consults. */
interface WireFacts {
  readonly quota: boolean;
  /** As a `code` (precedence 3). */
  readonly asCode: FailureCode | undefined;
  /** A generic code (precedence 7b). */
  readonly genericCode: boolean;
  /** As a specific `type` (precedence 6). */
  readonly asType: FailureCode | undefined;
  /** As a generic `type` (precedence 7b). */
  readonly genericType: FailureCode | undefined;
}

// The same few dozen raw values arrive again and again: their facts are memoised (bounded).
const wireFactsCache = new Map<string, WireFacts>();

function wireFacts(raw: string): WireFacts {
  let facts = wireFactsCache.get(raw);
  if (facts === undefined) {
    const v = normalizeWireValue(raw);
    facts = { quota: QUOTA.has(v), asCode: WIRE_CODES.get(v), genericCode: GENERIC_WIRE_CODES.has(v), asType: WIRE_TYPES.get(v), genericType: GENERIC_WIRE_TYPES.get(v) };
    if (wireFactsCache.size >= 512) wireFactsCache.clear();
    wireFactsCache.set(raw, facts);
  }
  return facts;
}

function normalizeSlow(value: string): string {
  let s = value.trim();
  if (/[A-Z]/.test(s)) {
    s = s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2');
  }
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

/** Case-insensitive header lookup over Headers, Map, pairs or a plain object. */
function headerOf(headers: unknown, name: string): string | undefined {
  if (!isObj(headers)) return undefined;
  try {
    // A named load (inside this try) keeps the call site monomorphic for Headers.
    const getter: unknown = (headers as { get?: unknown }).get;
    if (typeof getter === 'function') {
      const v: unknown = getter.call(headers, name);
      return typeof v === 'string' ? v : undefined;
    }
    if (Array.isArray(headers)) {
      for (const pair of headers) {
        if (Array.isArray(pair) && typeof pair[0] === 'string' && pair[0].toLowerCase() === name) return str(pair[1]);
      }
      return undefined;
    }
    const direct = get(headers, name);
    if (direct !== undefined) return Array.isArray(direct) ? str(direct[0]) : str(direct);
    for (const k of Object.keys(headers)) {
      if (k.toLowerCase() === name) {
        const v = get(headers, k);
        return Array.isArray(v) ? str(v[0]) : str(v);
      }
    }
  } catch {
    // hostile header bag
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Signals: what was read from the input, before any decision
// ---------------------------------------------------------------------------------------------------

interface Signals {
  source: FailureSource;
  status?: number | undefined;
  wireCode?: string | undefined;
  wireType?: string | undefined;
  param?: string | undefined;
  message?: string | undefined;
  requestId?: string | undefined;
  objectId?: string | undefined;
  headers?: unknown;
  /** A code already decided by the object's terminal state (precedence 4). */
  state?: FailureCode | undefined;
  /** Transport evidence (precedence 8). */
  transport?: FailureCode | undefined;
  /** A status outside 100–599 (precedence 0). */
  invalidStatus?: number | undefined;
  transportCode?: string | undefined;
  /** {@link messageFacts} of the message head, set by decide() for the checks that follow it. */
  facts?: number | undefined;
}

/** Every field present from the start: one hidden class for every input, so each read and write stays monomorphic. */
function newSignals(): Signals {
  return {
    source: 'unknown',
    status: undefined,
    wireCode: undefined,
    wireType: undefined,
    param: undefined,
    message: undefined,
    requestId: undefined,
    objectId: undefined,
    headers: undefined,
    state: undefined,
    transport: undefined,
    transportCode: undefined,
    invalidStatus: undefined,
    facts: undefined,
  };
}

function readErrorBody(s: Signals, body: unknown): void {
  if (!isObj(body)) return;
  // An envelope `{ error: {...} }` or the inner object itself. Named reads first (fast); a throwing
  // getter sends every read through get(), where it reads as undefined.
  let e: Obj, code: unknown, type: unknown, param: unknown, message: unknown;
  try {
    const inner = body.error;
    e = isObj(inner) ? inner : body;
    ({ code, type, param, message } = e);
  } catch {
    const inner = get(body, 'error');
    e = isObj(inner) ? inner : body;
    [code, type, param, message] = [get(e, 'code'), get(e, 'type'), get(e, 'param'), get(e, 'message')];
  }
  s.wireCode ??= str(code);
  s.wireType ??= str(type);
  s.param ??= str(param);
  s.message ??= str(message);
  // Azure: { error: { code: 'content_filter', innererror: { code: 'ResponsibleAIPolicyViolation' } } }
  if (s.wireCode === undefined) {
    const innerError = get(e, 'innererror') ?? get(e, 'inner_error');
    s.wireCode = str(get(innerError, 'code'));
  }
}

function readBodyText(s: Signals, body: unknown): void {
  if (typeof body === 'string') {
    const t = body.trimStart();
    if (t.startsWith('{') && t.length <= MAX_JSON_TEXT) {
      try {
        readErrorBody(s, JSON.parse(t));
        if (s.message !== undefined || s.wireCode !== undefined) return;
      } catch {
        // not JSON after all: keep the text
      }
    }
    s.message ??= textOfHtml(body);
    return;
  }
  if (body instanceof Uint8Array) {
    try {
      readBodyText(s, new TextDecoder().decode(body.subarray(0, MAX_JSON_TEXT)));
    } catch {
      // undecodable
    }
    return;
  }
  readErrorBody(s, body);
}

/** Cloudflare and gateway pages arrive as HTML: keep the title, not the markup. */
function textOfHtml(text: string): string {
  const head = text.slice(0, MAX_MESSAGE * 4);
  // `^\s*<` needs a `<` or a white-space first: any other printable ASCII character rules it out.
  const c = head.charCodeAt(0);
  if ((c > 32 && c < 127 && c !== 60) || !/^\s*</.test(head)) return head;
  const title = /<title[^>]*>([^<]{1,300})<\/title>/i.exec(head)?.[1] ?? /<h1[^>]*>([^<]{1,300})<\/h1>/i.exec(head)?.[1];
  return (title ?? head.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
}

function readRequestId(s: Signals, headers: unknown): void {
  if (headers === undefined) return;
  s.headers = headers;
  s.requestId ??= headerOf(headers, 'x-request-id') ?? headerOf(headers, 'apim-request-id') ?? headerOf(headers, 'x-ms-request-id');
}

function readResponseObject(s: Signals, r: unknown): 'failure' | 'success' {
  s.source = s.source === 'unknown' ? 'response' : s.source;
  s.objectId ??= str(get(r, 'id'));
  const status = get(r, 'status');
  if (status === 'failed') {
    const err = get(r, 'error');
    if (isObj(err)) readErrorBody(s, err);
    else {
      s.state = 'unknown';
      s.message ??= `Response ${s.objectId ?? ''} ended "failed" with no error object`.replace('  ', ' ');
    }
    return 'failure';
  }
  if (status === 'incomplete') {
    const reason = str(get(get(r, 'incomplete_details'), 'reason'));
    s.wireCode ??= reason;
    s.state = (reason !== undefined ? INCOMPLETE_REASONS.get(reason) : undefined) ?? 'incomplete';
    s.message ??= `Response ended "incomplete"${reason ? ` (reason: ${reason})` : ' with no reason'}`;
    return 'failure';
  }
  if (status === 'cancelled') {
    s.state = 'cancelled';
    s.message ??= 'Response was cancelled';
    return 'failure';
  }
  if (status === 'expired') {
    s.state = 'expired';
    s.message ??= 'Response expired';
    return 'failure';
  }
  // completed, queued, in_progress: not a failure (an `error` on a non-terminal object is ignored).
  return 'success';
}

function readChat(s: Signals, c: unknown): 'failure' | 'success' {
  s.source = s.source === 'unknown' ? 'chat_completion' : s.source;
  s.objectId ??= str(get(c, 'id'));
  const err = get(c, 'error');
  if (isObj(err)) {
    readErrorBody(s, err);
    return 'failure';
  }
  const choices = get(c, 'choices');
  if (!Array.isArray(choices)) return 'success';
  for (let i = 0; i < choices.length && i < 64; i++) {
    const reason = str(get(choices[i], 'finish_reason'));
    const code = reason !== undefined ? INCOMPLETE_REASONS.get(reason) : undefined;
    if (code !== undefined && reason !== undefined) {
      s.wireCode ??= reason;
      s.state = code;
      s.message ??= `Chat completion stopped with finish_reason "${reason}"`;
      return 'failure';
    }
  }
  return 'success';
}

function readBatch(s: Signals, b: unknown): 'failure' | 'success' {
  s.source = s.source === 'unknown' ? 'batch' : s.source;
  s.objectId ??= str(get(b, 'id'));
  const status = get(b, 'status');
  if (status === 'failed') {
    const data = get(get(b, 'errors'), 'data');
    const first = Array.isArray(data) ? data[0] : undefined;
    if (isObj(first)) readErrorBody(s, first);
    else {
      s.state = 'unknown';
      s.message ??= 'Batch failed with no error list';
    }
    return 'failure';
  }
  if (status === 'expired') {
    s.state = 'expired';
    s.message ??= 'Batch expired before it completed';
    return 'failure';
  }
  if (status === 'cancelled') {
    s.state = 'cancelled';
    s.message ??= 'Batch was cancelled';
    return 'failure';
  }
  if (status === 'completed') {
    const counts = get(b, 'request_counts');
    const total = num(get(counts, 'total')) ?? 0;
    const failed = num(get(counts, 'failed')) ?? 0;
    if (total > 0 && failed >= total) {
      // Every line failed. The lines' own codes are in the error file (see waitForBatch); the batch
      // object alone does not say which, and faultline does not guess.
      s.state = 'unknown';
      s.wireCode ??= 'all_requests_failed';
      s.message ??= `Batch completed but all ${total} requests failed; read its error_file_id for each line's cause`;
      return 'failure';
    }
  }
  return 'success';
}

function readBatchLine(s: Signals, line: unknown): 'failure' | 'success' {
  s.source = 'batch_line';
  s.objectId ??= str(get(line, 'custom_id'));
  const err = get(line, 'error');
  const response = get(line, 'response');
  s.requestId ??= str(get(response, 'request_id'));
  if (isObj(err)) {
    readErrorBody(s, err);
    return 'failure';
  }
  const status = httpStatus(get(response, 'status_code'));
  const body = get(response, 'body');
  if (status !== undefined && status >= 400) {
    s.status = status;
    readBodyText(s, body);
    return 'failure';
  }
  if (get(body, 'object') === 'response') return readResponseObject(s, body);
  if (get(body, 'object') === 'chat.completion') return readChat(s, body);
  if (response === undefined || response === null) {
    s.state = 'unknown';
    s.message ??= 'Batch line has neither a response nor an error';
    return 'failure';
  }
  return 'success';
}

const WEBHOOK_STATES: ReadonlyMap<string, FailureCode | null> = new Map<string, FailureCode | null>([
  ['response.completed', null],
  ['response.failed', 'unknown'],
  ['response.incomplete', 'incomplete'],
  ['response.cancelled', 'cancelled'],
  ['batch.completed', null],
  ['batch.failed', 'unknown'],
  ['batch.expired', 'expired'],
  ['batch.cancelled', 'cancelled'],
  ['fine_tuning.job.succeeded', null],
  ['fine_tuning.job.failed', 'unknown'],
  ['fine_tuning.job.cancelled', 'cancelled'],
  ['eval.run.succeeded', null],
  ['eval.run.failed', 'unknown'],
  ['eval.run.canceled', 'cancelled'],
  ['realtime.call.incoming', null],
]);

/**
 * The state a webhook event type reports. Types not in the table (the SDK adds some every few releases:
 * `video.*`, `agent.*`, `live.*`, `safety.*`) are judged by their last segment; anything that does not
 * end in a failure word is a notice, not a failure.
 */
function webhookState(type: string): FailureCode | null {
  const known = WEBHOOK_STATES.get(type);
  if (known !== undefined) return known;
  const last = type.slice(type.lastIndexOf('.') + 1);
  if (last === 'failed') return 'unknown';
  if (last === 'expired') return 'expired';
  if (last === 'cancelled' || last === 'canceled') return 'cancelled';
  if (last === 'incomplete') return 'incomplete';
  return null;
}

function readWebhook(s: Signals, ev: unknown, type: string): 'failure' | 'success' {
  s.source = 'webhook';
  s.objectId ??= str(get(get(ev, 'data'), 'id'));
  const state = webhookState(type);
  if (state === null) return 'success';
  s.wireCode ??= type;
  s.state = state;
  s.message ??= `Webhook ${type} for ${s.objectId ?? 'an unknown object'}: it carries only the id; retrieve the object for the cause`;
  return 'failure';
}

function readStreamEvent(s: Signals, ev: unknown, type: string): 'failure' | 'success' {
  s.source = 'stream_event';
  if (type === 'error' || type === 'response.error') {
    // Flat `{type:'error', code, message, param}` or nested `{type:'error', error:{type, code, message}}`.
    const nested = get(ev, 'error');
    if (isObj(nested)) readErrorBody(s, nested);
    s.wireCode ??= str(get(ev, 'code'));
    s.message ??= str(get(ev, 'message'));
    s.param ??= str(get(ev, 'param'));
    if (s.wireCode === undefined && s.message === undefined) {
      s.state = 'unknown';
      s.message = 'Stream error event with no code and no message';
    }
    return 'failure';
  }
  if (type === 'response.failed' || type === 'response.incomplete' || type === 'response.cancelled') {
    const r = get(ev, 'response');
    if (isObj(r)) return readResponseObject(s, r);
    s.state = type === 'response.failed' ? 'unknown' : type === 'response.cancelled' ? 'cancelled' : 'incomplete';
    s.message ??= `Stream event ${type} with no response object`;
    return 'failure';
  }
  return 'success';
}

/** The fields of one link of an error chain that {@link readErrorChain} reads. */
interface ChainLink {
  code: unknown;
  name: unknown;
  ctorName: unknown;
  message: unknown;
  cause: unknown;
}

function chainLink(e: Obj): ChainLink {
  try {
    // Named reads at fixed sites (get()'s keyed load is megamorphic).
    const ctor: unknown = e.constructor;
    return { code: e.code, name: e.name, ctorName: isObj(ctor) ? ctor.name : undefined, message: e.message, cause: e.cause };
  } catch {
    // A throwing getter somewhere: read each field on its own.
    return { code: get(e, 'code'), name: get(e, 'name'), ctorName: get(get(e, 'constructor'), 'name'), message: get(e, 'message'), cause: get(e, 'cause') };
  }
}

/**
 * A response the HTTP parser refused (headers over the client's limit, a status line outside 100–599,
 * bytes that are not HTTP): undici's `HeadersOverflowError`/`HTTPParserError` and its `statusCode >= 100`
 * assertion, node:http's `HPE_*` codes. The same server sends it again, so it is no connection blip:
 * `unknown` (not retried), with the parser's code kept, whatever an outer "fetch failed" suggested.
 */
function protocolViolation(link: { code: unknown; name: unknown; message: unknown }): string | undefined {
  if (typeof link.code === 'string' && (link.code === 'UND_ERR_HEADERS_OVERFLOW' || link.code.startsWith('HPE_'))) return link.code;
  if (link.name === 'HeadersOverflowError') return 'UND_ERR_HEADERS_OVERFLOW';
  if (link.name === 'HTTPParserError') return 'HPE_INVALID_RESPONSE';
  if (link.name === 'AssertionError' && typeof link.message === 'string' && link.message.includes('assert(statusCode')) return 'HPE_INVALID_STATUS';
  return undefined;
}

/** The error and its causes: transport codes, names and messages (precedence 8). */
function readErrorChain(s: Signals, err: unknown): void {
  const seen: unknown[] = [];
  let cur: unknown = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && isObj(cur) && !seen.includes(cur); depth++) {
    seen.push(cur);
    const link = chainLink(cur);
    const violation = protocolViolation(link);
    if (violation !== undefined) {
      s.transport = 'unknown';
      s.transportCode = violation;
      return;
    }
    const code = link.code;
    if (typeof code === 'string') {
      const t = TRANSPORT_CODES.get(code);
      if (t !== undefined) {
        s.transport ??= t;
        s.transportCode ??= code;
      }
    }
    const name = str(link.name);
    const ctor = str(link.ctorName);
    const byName = (name !== undefined ? TRANSPORT_NAMES.get(name) : undefined) ?? (ctor !== undefined ? TRANSPORT_NAMES.get(ctor) : undefined);
    if (byName !== undefined) s.transport ??= byName;
    if (s.transport === undefined) {
      const msg = str(link.message);
      if (msg !== undefined && msg.length < 500) {
        for (const [re, c] of TRANSPORT_MESSAGES) {
          if (re.test(msg)) {
            s.transport = c;
            break;
          }
        }
      }
    }
    // An abort or timeout anywhere in the chain decides; keep walking only for a more precise code.
    if (s.transport === 'aborted') return;
    cur = link.cause;
  }
}

function isDigit(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c >= 48 && c <= 57;
}

function looksLikeSdkError(e: unknown): boolean {
  try {
    return Object.prototype.hasOwnProperty.call(e, 'status') && Object.prototype.hasOwnProperty.call(e, 'headers');
  } catch {
    return false;
  }
}

/** The fields an error is read by. */
interface ErrorFields {
  status: unknown;
  headers: unknown;
  requestID: unknown;
  body: unknown;
  code: unknown;
  type: unknown;
  param: unknown;
  message: unknown;
}

function errorFields(e: unknown): ErrorFields {
  const x = e as Record<string, unknown>;
  try {
    // Named reads at fixed sites stay fast (the shared get() is a megamorphic keyed load). The SDK
    // already read `x-request-id` into `requestID` (v5+) or `request_id` (v4), sparing Headers lookups;
    // it keeps the parsed body's inner error on `.error` (an envelope in some versions).
    return { status: x.status, headers: x.headers, requestID: x.requestID ?? x.request_id, body: x.error, code: x.code, type: x.type, param: x.param, message: x.message };
  } catch {
    // A throwing getter somewhere: read each field on its own.
    return {
      status: get(e, 'status'),
      headers: get(e, 'headers'),
      requestID: get(e, 'requestID') ?? get(e, 'request_id'),
      body: get(e, 'error'),
      code: get(e, 'code'),
      type: get(e, 'type'),
      param: get(e, 'param'),
      message: get(e, 'message'),
    };
  }
}

function readError(s: Signals, e: unknown): void {
  const sdk = looksLikeSdkError(e);
  s.source = sdk ? 'sdk' : 'transport';
  const x = errorFields(e);
  const status = httpStatus(x.status);
  if (status !== undefined) s.status = status;
  else s.invalidStatus = invalidStatus(x.status);
  s.requestId ??= str(x.requestID);
  readRequestId(s, x.headers);
  if (isObj(x.body)) readErrorBody(s, x.body);
  const code = x.code;
  if (typeof code === 'string' && !TRANSPORT_CODES.has(code)) s.wireCode ??= code;
  s.wireType ??= str(x.type);
  s.param ??= str(x.param);
  const msg = str(x.message);
  if (s.message === undefined && msg !== undefined) {
    // The SDK prefixes "429 " to the message; a non-JSON body arrives as "502 <html>…".
    s.message = status !== undefined ? textOfHtml(isDigit(msg, 0) && isDigit(msg, 1) && isDigit(msg, 2) ? msg.replace(/^\d{3}\s+/, '') : msg) : msg;
  }
  if (status === undefined) readErrorChain(s, e);
  if (s.transport !== undefined && !sdk) s.source = 'transport';
}

function readString(s: Signals, text: string, options: ClassifyOptions | undefined, depth: number): Failure | null {
  const t = text.trim();
  if (isFailureCode(t)) {
    s.state = t;
    s.message = entryOf(t).summary;
    return null;
  }
  if ((t.startsWith('{') || t.startsWith('[')) && t.length <= MAX_JSON_TEXT && depth < 2) {
    try {
      return inspect(JSON.parse(t), options, depth + 1);
    } catch {
      // not JSON: a message
    }
  }
  const status = httpStatus(t);
  if (status !== undefined) {
    s.status = status;
    s.message = `HTTP ${status}`;
    return null;
  }
  if (/^[A-Za-z][A-Za-z0-9_.-]{2,80}$/.test(t) && !t.includes(' ')) {
    const norm = normalizeWireValue(t);
    if (WIRE_CODES.has(norm) || QUOTA.has(norm)) s.wireCode = t;
    else if (TRANSPORT_CODES.has(t)) {
      s.transport = TRANSPORT_CODES.get(t);
      s.transportCode = t;
    }
  }
  s.message = t.length > MAX_MESSAGE * 4 ? t.slice(0, MAX_MESSAGE * 4) : t;
  if (s.transport === undefined) {
    for (const [re, c] of TRANSPORT_MESSAGES) {
      if (re.test(s.message.slice(0, 500))) {
        s.transport = c;
        break;
      }
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------
// Decision (the precedence above, in one place)
// ---------------------------------------------------------------------------------------------------

function decide(s: Signals): FailureCode {
  // 0. Not HTTP: nothing the answer claims is believed.
  if (s.invalidStatus !== undefined) return 'unknown';
  const code = s.wireCode !== undefined ? wireFacts(s.wireCode) : undefined;
  const type = s.wireType !== undefined ? wireFacts(s.wireType) : undefined;
  const message = s.message;
  // Azure sends numeric-string codes ("429", "401") where OpenAI sends names.
  const status = s.status ?? (s.wireCode !== undefined ? httpStatus(s.wireCode) : undefined);

  // The message head and the rare phrases in it (one scan; each regex below still decides on the text).
  const head = message === undefined ? undefined : message.length > MESSAGE_HEAD ? message.slice(0, MESSAGE_HEAD) : message;
  const facts = head !== undefined ? messageFacts(head) : 0;
  s.facts = facts;

  // 1. Quota wins.
  if ((code !== undefined && code.quota) || (type !== undefined && type.quota)) return 'insufficient_quota';
  if ((facts & FACT_QUOTA) !== 0) return 'insufficient_quota';

  const codeMatch = code?.asCode;
  const typeMatch = type?.asType;

  // 2. One request above the whole TPM budget.
  if (message !== undefined && (facts & FACT_TOO_LARGE) !== 0) {
    const head = message.slice(0, 500);
    if (
      ((status === 429 || codeMatch === 'rate_limit_exceeded' || typeMatch === 'rate_limit_exceeded') && TOO_LARGE_MESSAGE.test(head)) ||
      TOO_LARGE_TPM_MESSAGE.test(head)
    ) {
      return 'request_too_large';
    }
  }

  // 3. A recognised wire code. (An incomplete reason or finish reason is a state, step 4; a generic
  // code waits for step 7b.)
  const genericCode = code !== undefined && code.genericCode;
  if (codeMatch !== undefined && s.state === undefined && !genericCode) return codeMatch;

  // 4. Terminal state of an object.
  if (s.state !== undefined) return s.state;

  // 5. Message patterns (last resort for relays that dropped the code).
  if (head !== undefined) {
    const worth = patternsWorthTrying(head);
    for (let i = 0; worth >> i !== 0; i++) {
      const [re, c] = MESSAGE_PATTERNS[i]!;
      if (((worth >> i) & 1) !== 0 && re.test(head)) return c;
    }
  }

  // 6. A specific wire type.
  if (typeMatch !== undefined) return typeMatch;

  // 7. The HTTP status.
  if (status !== undefined) {
    const byStatus = STATUS_CODES.get(status);
    if (byStatus !== undefined) return byStatus;
    if (status >= 500) return 'server_error';
    if (status >= 400) return 'invalid_request';
  }

  // 7b. A generic wire code or type, when no status says more.
  if (codeMatch !== undefined && genericCode) return codeMatch;
  const genericType = type?.genericType;
  if (genericType !== undefined) return genericType;

  // 8. Transport evidence.
  if (s.transport !== undefined) return s.transport;

  return 'unknown';
}

// ---------------------------------------------------------------------------------------------------
// Retry hints
// ---------------------------------------------------------------------------------------------------

const GO_DURATION = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/;

/**
 * Parse a Go-style duration as sent in `x-ratelimit-reset-*` and in rate-limit messages (`1s`, `6m0s`,
 * `20ms`, `1m30.5s`, `2h0m0s`) into milliseconds; `undefined` if it is not one.
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const m = GO_DURATION.exec(t);
  if (m === null || m[0] === '') return undefined;
  const [, h, min, sec, ms] = m;
  if (h === undefined && min === undefined && sec === undefined && ms === undefined) return undefined;
  return Number(h ?? 0) * 3_600_000 + Number(min ?? 0) * 60_000 + Number(sec ?? 0) * 1000 + Number(ms ?? 0);
}

const MESSAGE_HINTS: readonly RegExp[] = [
  /try again in\s+((?:\d+(?:\.\d+)?(?:h|ms|m|s))+)/i,
  /retry after\s+(\d+(?:\.\d+)?)\s*(milliseconds?|ms|seconds?|secs?|s|minutes?|m)\b/i,
  /try again in\s+(\d+(?:\.\d+)?)\s*(milliseconds?|seconds?|minutes?)\b/i,
];

function unitMs(unit: string): number {
  const u = unit.toLowerCase();
  if (u.startsWith('ms') || u.startsWith('milli')) return 1;
  if (u.startsWith('m')) return 60_000;
  return 1000;
}

function retryAfterOf(s: Signals, options: ClassifyOptions | undefined): number | undefined {
  const h = s.headers;
  if (h !== undefined) {
    const ms = headerOf(h, 'retry-after-ms');
    if (ms !== undefined) {
      const n = Number(ms);
      if (Number.isFinite(n) && n >= 0) return n;
    }
    const ra = headerOf(h, 'retry-after');
    if (ra !== undefined) {
      const t = ra.trim();
      if (/^\d+(?:\.\d+)?$/.test(t)) return Number(t) * 1000;
      const date = Date.parse(t);
      if (Number.isFinite(date)) return Math.max(0, date - (options?.now ?? Date.now()));
    }
  }
  const msg = s.message;
  if (msg === undefined) return undefined;
  // Every hint pattern holds "try again" or "retry after": decide(), which always runs first, noted
  // whether the head does (`facts`).
  if (((s.facts ?? 0) & FACT_HINT) === 0) return undefined;
  const head = msg.length > MESSAGE_HEAD ? msg.slice(0, MESSAGE_HEAD) : msg;
  for (let i = 0; i < MESSAGE_HINTS.length; i++) {
    const m = MESSAGE_HINTS[i]!.exec(head);
    if (m === null) continue;
    if (i === 0) {
      const d = parseDuration(m[1]!);
      if (d !== undefined) return d;
      continue;
    }
    return Number(m[1]) * unitMs(m[2]!);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Building the Failure
// ---------------------------------------------------------------------------------------------------

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The message, truncated and redacted (redact() returns a clean message as it is, after one scan). */
function clip(text: string): string {
  return redact(text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}… [truncated]` : text);
}

/** {@link clip} for the message decide() has already scanned whole (its `facts`): no second scan. */
function clipMessage(text: string, facts: number | undefined): string {
  return facts !== undefined && text.length <= MESSAGE_HEAD ? redactScanned(text, (facts & FACT_SECRET) !== 0) : clip(text);
}

function build(s: Signals, options: ClassifyOptions | undefined): Failure {
  const code = decide(s);
  const e = entryOf(code);
  const f: Mutable<Failure> = {
    code,
    name: e.name,
    category: e.category,
    retryable: e.retryable,
    message: s.message !== undefined ? clipMessage(s.message, s.facts) : e.summary,
    source: s.source,
  };
  const should = s.headers !== undefined && s.invalidStatus === undefined ? headerOf(s.headers, 'x-should-retry') : undefined;
  // A wait only means something before a retry: none is read for a failure that is never retried.
  if (e.retryable || should === 'true') {
    const retryAfterMs = retryAfterOf(s, options);
    if (retryAfterMs !== undefined) f.retryAfterMs = retryAfterMs;
  }
  if (s.status !== undefined) f.status = s.status;
  if (s.invalidStatus !== undefined) f.message = clip(`HTTP status ${s.invalidStatus} (outside 100–599, not HTTP): ${f.message}`);
  if (s.wireCode !== undefined) f.wireCode = clipShort(s.wireCode);
  if (s.wireType !== undefined) f.wireType = clipShort(s.wireType);
  if (s.param !== undefined) f.param = clipShort(s.param);
  if (s.requestId !== undefined) f.requestId = clipId(s.requestId);
  if (s.objectId !== undefined) f.objectId = clipId(s.objectId);
  if (s.transportCode !== undefined) f.transportCode = s.transportCode;
  if (should === 'true') f.shouldRetryHeader = true;
  else if (should === 'false') f.shouldRetryHeader = false;
  return f;
}

/** Ids are unique: redacted, never cached. */
function clipId(text: string): string {
  return redact(text.length > 256 ? text.slice(0, 256) : text);
}

// Wire codes, types and params repeat endlessly: their clipped, redacted form is cached (bounded).
const shortCache = new Map<string, string>();

function clipShort(text: string): string {
  if (text.length > 64) return redact(text.length > 256 ? text.slice(0, 256) : text);
  let out = shortCache.get(text);
  if (out === undefined) {
    out = redact(text);
    if (shortCache.size >= 1024) shortCache.clear();
    shortCache.set(text, out);
  }
  return out;
}

function isFailureRecord(v: unknown): v is Failure {
  if (!isObj(v)) return false;
  try {
    // Named reads; a throwing getter means "not a record", as an undefined field would.
    return isFailureCode(v.code) && typeof v.category === 'string' && typeof v.source === 'string' && typeof v.retryable === 'boolean';
  } catch {
    return false;
  }
}

/** Returns a Failure, or null for evident success. The one dispatcher over input shapes. */
function inspect(input: unknown, options: ClassifyOptions | undefined, depth: number): Failure | null {
  const s = newSignals();
  if (input === null || input === undefined) {
    s.state = 'unknown';
    s.message = `Nothing to classify (${String(input)})`;
    return build(s, options);
  }
  if (typeof input === 'string') {
    s.source = 'message';
    const parsed = readString(s, input, options, depth);
    return parsed !== null ? parsed : build(s, options);
  }
  if (typeof input === 'number') {
    s.source = 'message';
    const status = httpStatus(input);
    if (status !== undefined) s.status = status;
    s.message = status !== undefined ? `HTTP ${status}` : `Not a failure description: ${String(input)}`;
    return build(s, options);
  }
  if (!isObj(input)) {
    s.message = `Not a failure description: ${typeof input}`;
    return build(s, options);
  }

  // A faultline error or an already classified Failure passes through.
  let branded: unknown;
  let isError = false;
  try {
    // Fixed-key reads at their own sites (get()'s keyed load is megamorphic).
    branded = input[ERROR_BRAND];
    isError = input instanceof Error && input.object === undefined;
  } catch {
    branded = undefined;
  }
  if (branded === true) {
    const f = get(input, 'failure');
    if (isFailureRecord(f)) return f;
  }
  // Thrown errors are the common case: read them at once, without probing for other shapes.
  if (isError) {
    readError(s, input);
    return build(s, options);
  }
  if (isFailureRecord(input)) return input;

  const object = get(input, 'object');
  const type = get(input, 'type');
  let verdict: 'failure' | 'success' | undefined;

  if (object === 'response') verdict = readResponseObject(s, input);
  else if (object === 'chat.completion' || object === 'chat.completion.chunk') verdict = readChat(s, input);
  else if (object === 'batch') verdict = readBatch(s, input);
  else if (typeof type === 'string' && (object === 'event' || (isObj(get(input, 'data')) && /^(response|batch|fine_tuning|eval|realtime)\./.test(type) && get(input, 'response') === undefined))) {
    verdict = readWebhook(s, input, type);
  } else if (typeof type === 'string' && (type === 'error' || type.startsWith('response.') || get(input, 'sequence_number') !== undefined)) {
    verdict = readStreamEvent(s, input, type);
  } else if (get(input, 'custom_id') !== undefined && (get(input, 'response') !== undefined || get(input, 'error') !== undefined)) {
    verdict = readBatchLine(s, input);
  } else if (input instanceof Error || typeof get(input, 'stack') === 'string') {
    readError(s, input);
    verdict = 'failure';
  } else if (httpStatus(get(input, 'status')) !== undefined || invalidStatus(get(input, 'status')) !== undefined) {
    // A plain HTTP record { status, headers, body } or a fetch Response (whose body cannot be read
    // synchronously: only its status and headers count).
    s.source = 'http';
    s.status = httpStatus(get(input, 'status'));
    s.invalidStatus = invalidStatus(get(input, 'status'));
    readRequestId(s, get(input, 'headers'));
    const body = get(input, 'body');
    if (!(typeof ReadableStream !== 'undefined' && body instanceof ReadableStream)) readBodyText(s, body ?? get(input, 'error'));
    const statusText = str(get(input, 'statusText'));
    if (s.message === undefined && statusText !== undefined) s.message = statusText;
    verdict = s.status !== undefined && s.status < 400 && s.wireCode === undefined ? 'success' : 'failure';
  } else if (isObj(get(input, 'error'))) {
    s.source = 'error_body';
    readErrorBody(s, input);
    readRequestId(s, get(input, 'headers'));
    verdict = 'failure';
  } else if (Array.isArray(get(input, 'choices'))) {
    verdict = readChat(s, input);
  } else if (typeof get(input, 'status') === 'string' && (Array.isArray(get(input, 'output')) || /^resp_/.test(String(get(input, 'id'))))) {
    verdict = readResponseObject(s, input);
  } else if (typeof get(input, 'message') === 'string' || typeof get(input, 'code') === 'string') {
    s.source = 'error_body';
    readErrorBody(s, input);
    if (typeof s.wireCode === 'string' && TRANSPORT_CODES.has(s.wireCode)) {
      s.transport = TRANSPORT_CODES.get(s.wireCode);
      s.transportCode = s.wireCode;
      s.wireCode = undefined;
    }
    readErrorChain(s, input);
    verdict = 'failure';
  }

  if (verdict === 'success') return null;
  if (verdict === undefined) s.message = 'Not a recognised failure shape';
  return build(s, options);
}

/**
 * Classify anything that went wrong into a catalog {@link Failure}. Total and pure: it never throws and
 * always returns one of the catalog's codes.
 *
 * `classify()` assumes it is handed a failure. Given something that shows success (a `completed`
 * Response, a chat completion that finished with `stop`, a non-error stream event) it returns an
 * `unknown` failure whose message says so; use {@link detectFailure} to ask "is this a failure at all?".
 */
export function classify(input: unknown, options?: ClassifyOptions): Failure {
  try {
    const f = inspect(input, options, 0);
    if (f !== null) return f;
    const e = entryOf('unknown');
    return { code: 'unknown', name: e.name, category: e.category, retryable: false, message: 'Not a failure: the input shows success', source: sourceOf(input) };
  } catch {
    // Unreachable by design (every read is guarded); a last line of defence for exotic proxies.
    const e = entryOf('unknown');
    return { code: 'unknown', name: e.name, category: e.category, retryable: false, message: 'Unreadable input', source: 'unknown' };
  }
}

function sourceOf(input: unknown): FailureSource {
  const object = get(input, 'object');
  if (object === 'response') return 'response';
  if (object === 'batch') return 'batch';
  if (object === 'chat.completion' || object === 'chat.completion.chunk') return 'chat_completion';
  if (typeof get(input, 'type') === 'string') return 'stream_event';
  return 'unknown';
}

/**
 * The failure in `input`, or `null` when it shows success or is still running: a `completed`, `queued`
 * or `in_progress` Response, a chat completion that stopped normally, a batch that completed with at
 * least one line succeeding, a non-error stream event, a `*.completed` webhook, an HTTP record below 400.
 */
export function detectFailure(input: unknown, options?: ClassifyOptions): Failure | null {
  try {
    return inspect(input, options, 0);
  } catch {
    return classify(input, options);
  }
}
