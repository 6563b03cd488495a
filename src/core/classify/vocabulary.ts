/**
 * The classifier's vocabulary: every wire value, status, reason and phrase it knows, as data.
 *
 * Nothing here decides; {@link ../decide.ts} applies these tables in the order of its PRECEDENCE table.
 * Wire values are matched after {@link normalizeWireValue} (`DeploymentNotFound` → `deployment_not_found`).
 * Adding a row needs a real payload in test/fixtures (see test/fixtures/README or the existing tables).
 */
import type { FailureCode } from '../catalog.ts';
import { SECRET_OPENINGS } from '../redact.ts';

/** Wire codes and types that mean "the account is out of quota, credit or budget" (precedence 1). */
export const QUOTA_WIRE_VALUES: ReadonlySet<string> = new Set([
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

/** A wire `code` → its catalog code (precedence 3). */
export const WIRE_CODES: ReadonlyMap<string, FailureCode> = new Map<string, FailureCode>([
  ...[...QUOTA_WIRE_VALUES].map((c) => [c, 'insufficient_quota'] as const),
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
  // Other surfaces (each with its payload in test/fixtures/real/surfaces.ts).
  ['invalid_json_line', 'invalid_request'], // batch input file
  ['invalid_n_examples', 'invalid_request'], // fine-tuning job
  ['unsupported_file', 'invalid_request'], // vector store file
  ['invalid_file', 'invalid_request'], // vector store file
  ['storage_error', 'server_error'], // Azure Foundry Response
  ['session_expired', 'expired'], // Realtime: the session hit its maximum duration (not a bad request)
  ['access_not_enabled', 'permission_denied'], // Realtime: the organization has no access
  ['conversation_already_has_active_response', 'conflict'], // Realtime: wait for the response in progress
  ['inference_rate_limit_exceeded', 'rate_limit_exceeded'], // Azure Realtime
  // OpenAI-compatible providers (payloads in test/fixtures/real/providers.ts).
  ['model_decommissioned', 'model_not_found'], // Groq: a retired model
  ['api_key_invalid', 'authentication_error'], // Google ErrorInfo reason (Gemini)
  ['access_token_scope_insufficient', 'permission_denied'], // Google ErrorInfo reason
  ['model_capacity_exhausted', 'overloaded'], // Google ErrorInfo reason: capacity, not quota
]);

/**
 * Wire codes too general to decide: they restate the error type (a relay may put `invalid_request_error`
 * in `code`), or say only that some value was invalid (OpenAI's `invalid_value`, also sent for an image
 * it cannot read), while the message says what really happened. They count as a generic type (precedence 7b).
 */
export const GENERIC_WIRE_CODES: ReadonlySet<string> = new Set(['invalid_request_error', 'invalid_request', 'invalid_value']);

/** Wire `type` values that say something specific (precedence 6). */
export const WIRE_TYPES: ReadonlyMap<string, FailureCode> = new Map<string, FailureCode>([
  ['insufficient_quota', 'insufficient_quota'],
  ['tokens', 'rate_limit_exceeded'],
  ['requests', 'rate_limit_exceeded'],
  ['tokens_usage_based', 'rate_limit_exceeded'],
  ['rate_limit_error', 'rate_limit_exceeded'],
  ['rate_limit_exceeded', 'rate_limit_exceeded'],
  ['overloaded_error', 'overloaded'],
  ['timeout_error', 'timeout'],
  ['invalid_model', 'model_not_found'], // Perplexity
  // Google canonical statuses (Gemini's OpenAI endpoint passes them through).
  ['resource_exhausted', 'rate_limit_exceeded'],
  ['unavailable', 'overloaded'],
]);

/**
 * Generic wire `type` values: they rank below the HTTP status (precedence 7b), because OpenAI sends
 * `invalid_request_error` on 404s and `server_error` on 503s.
 */
export const GENERIC_WIRE_TYPES: ReadonlyMap<string, FailureCode> = new Map<string, FailureCode>([
  ['invalid_request_error', 'invalid_request'],
  ['authentication_error', 'authentication_error'],
  ['permission_error', 'permission_denied'],
  ['not_found_error', 'not_found'],
  ['conflict_error', 'conflict'],
  ['server_error', 'server_error'],
  ['api_error', 'server_error'],
  ['internal_server_error', 'server_error'],
  // Google canonical statuses.
  ['invalid_argument', 'invalid_request'],
  ['permission_denied', 'permission_denied'],
  ['internal', 'server_error'],
]);

/** The HTTP status → code (precedence 7). Other 4xx read as `invalid_request`, other 5xx as `server_error`. */
export const STATUS_CODES: ReadonlyMap<number, FailureCode> = new Map<number, FailureCode>([
  [400, 'invalid_request'],
  [401, 'authentication_error'],
  // Payment Required: an empty wallet or a spent budget (DeepSeek, OpenRouter, Together, gateways). Never
  // a bad request, never retried.
  [402, 'insufficient_quota'],
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

/** Responses `incomplete_details.reason` and chat `finish_reason` values that end an output early (precedence 4). */
export const INCOMPLETE_REASONS: ReadonlyMap<string, FailureCode> = new Map<string, FailureCode>([
  ['max_output_tokens', 'max_output_tokens'],
  ['max_tokens', 'max_output_tokens'],
  ['length', 'max_output_tokens'],
  ['content_filter', 'content_filtered'],
  // Assistants runs: `incomplete_details.reason`.
  ['max_completion_tokens', 'max_output_tokens'],
  ['max_prompt_tokens', 'incomplete'],
  // Responses (openai-node 7.5x): named on purpose, both `incomplete` — `max_messages` is the caller's own
  // message budget, `steered` a stop after the client's `response.steer` (a successor response follows).
  ['max_messages', 'incomplete'],
  ['steered', 'incomplete'],
]);

/**
 * A message rule: a pattern, the code it means, and words (lower-case) of which every match of the
 * pattern holds one. A rule's pattern runs only when one of its words is in the message
 * ({@link wordsIn} finds them all in one scan), so a message costs one scan however many rules there are.
 * test/classify-structure.test.ts checks that every alternative of every pattern holds one of its words.
 */
export interface MessageRule {
  readonly pattern: RegExp;
  readonly code: FailureCode;
  readonly words: readonly string[];
  /** {@link MessageRule.words} as a {@link WordSet}. */
  readonly wordSet: WordSet;
}

/**
 * A set of message words as bits. Bits are counted within one {@link WordScan}: each word of the scan's
 * rules gets the next bit the first time a rule names it; {@link wordsIn} returns the words of a text
 * in the same bits.
 */
export type WordSet = number;

/** A scan of a text for the words of some rules, in one pass: see {@link wordsIn}. */
export interface WordScan {
  /** Word → its bit in this scan. */
  readonly bits: Map<string, number>;
  /** Built by {@link buildScan} once every rule of the scan is made. */
  regex: RegExp | undefined;
  /** The bit of a match that is none of the words: {@link MAY_HOLD_SECRET_BIT} in the front scan. */
  otherBit: WordSet;
  /** Whether {@link wordsIn} lower-cases the text and scans it case-sensitively. */
  lowerCased: boolean;
}

/** Bit 30 of a front-scan {@link WordSet}: see {@link MAY_HOLD_SECRET_BIT}. The words use bits 0–29. */
const MAX_WORDS = 30;

function newScan(): WordScan {
  return { bits: new Map(), regex: undefined, otherBit: 0, lowerCased: false };
}

/** The scan every message gets: the quota and too-large rules (precedence 1 and 2), the hints, the secret test. */
export const FRONT_SCAN: WordScan = newScan();
/** The scan for the message patterns (precedence 5), made only when decide() gets that far. */
export const PATTERN_SCAN: WordScan = newScan();

function wordSetOf(scan: WordScan, words: readonly string[]): WordSet {
  let set = 0;
  for (const w of words) {
    let bit = scan.bits.get(w);
    if (bit === undefined) {
      // A table error, caught when the module loads (and by test/classify-structure.test.ts).
      if (scan.bits.size >= MAX_WORDS) throw new Error(`classify: more than ${MAX_WORDS} words in one scan`);
      scan.bits.set(w, (bit = 1 << scan.bits.size));
    }
    set |= bit;
  }
  return set;
}

function messageRule(scan: WordScan, pattern: RegExp, code: FailureCode, words: readonly string[]): MessageRule {
  return { pattern, code, words, wordSet: wordSetOf(scan, words) };
}

/** Phrases that mean quota, credit or budget exhaustion in any provider's words (precedence 1). */
export const QUOTA_MESSAGE: MessageRule = messageRule(
  FRONT_SCAN,
  new RegExp(
    [
      // OpenAI
      'exceeded your current quota',
      'billing hard limit',
      'insufficient[_ ]quota',
      'reached your (?:monthly |project )?(?:spend|usage|spending) limit',
      // Moonshot ("organization … exceeded current quota"), APIM quota-by-key ("Out of call volume quota")
      'exceeded current quota',
      'out of call volume quota',
      // Anthropic, Together, OpenRouter, xAI
      'credit balance is too low',
      'credit limit exceeded',
      'insufficient credits',
      'more credits',
      'run out of credits',
      "(?:doesn't|does not) have any credits",
      'used all available credits',
      // xAI, Fireworks ("reaching the monthly spending limit")
      'reach(?:ed|ing) (?:its|the) monthly spending limit',
      // DeepSeek, MiniMax, Moonshot
      'insufficient balance',
      // OpenRouter key limits ("Key limit exceeded", "Prompt tokens limit exceeded: 230799 > 91442")
      'key limit exceeded',
      'prompt tokens limit exceeded',
      // LiteLLM budgets
      'budget has been exceeded',
      'exceeded budget',
      'crossed budget',
    ].join('|'),
    'i',
  ),
  'insufficient_quota',
  ['quota', 'billing', 'credit', 'reached your', 'balance', 'spending limit', 'key limit', 'tokens limit', 'budget'],
);

/** "Request too large" with rate-limit evidence (precedence 2). */
export const TOO_LARGE_MESSAGE: MessageRule = messageRule(FRONT_SCAN, /request too large/i, 'request_too_large', ['request too large']);
/** The whole TPM sentence, specific enough alone: a relay that dropped status and code (precedence 2). */
export const TOO_LARGE_TPM_MESSAGE: MessageRule = messageRule(FRONT_SCAN, /request too large for .{1,200}? on tokens per min/i, 'request_too_large', ['request too large']);

/**
 * Message patterns (precedence 5), a last resort for relays that dropped the code. In order: the first
 * that matches decides. Each has the real payload that needed it in test/fixtures.
 */
export const MESSAGE_PATTERNS: readonly MessageRule[] = [
  messageRule(
    PATTERN_SCAN,
    /maximum context length|context[ _]length[ _]exceeded|context window of this model|exceeds the context window|exceeds the context length/i,
    'context_length_exceeded',
    ['context'],
  ),
  messageRule(
    PATTERN_SCAN,
    /engine is currently overloaded|server is overloaded|(?:is|are) currently overloaded|overloaded with other requests|^overloaded$|model is overloaded|experiencing high traffic|capacity exceeded|no capacity available/i,
    'overloaded',
    ['overloaded', 'high traffic', 'capacity'],
  ),
  messageRule(
    PATTERN_SCAN,
    // One `.{0,80}?` for the three endings: each bounded gap costs a backtracking pass over the message.
    /model .{0,80}?(?:does not exist|was not found|not found, try pulling it)|deployment for this resource does not exist|model_not_found|no endpoints found/i,
    'model_not_found',
    ['model', 'deployment', 'no endpoints found'],
  ),
  messageRule(
    PATTERN_SCAN,
    /incorrect api key|invalid api key|invalid authentication|you didn't provide an api key|no api key provided|api key not valid|invalid [a-z]+ api key|invalid bearer token|invalid x-api-key|no cookie auth credentials|missing subscription key|access token is missing|^authentication error$/i,
    'authentication_error',
    ['api key', 'authentication', 'bearer token', 'x-api-key', 'cookie auth', 'subscription key', 'access token'],
  ),
  messageRule(
    PATTERN_SCAN,
    /rate limit reached|rate limit exceeded|rate limit is exceeded|been rate limited|exceeded token rate limit|exceeded call rate limit|too many requests|(?:tokens|requests) per (?:second|minute|day) limit exceeded/i,
    'rate_limit_exceeded',
    ['rate limit', 'too many requests', 'limit exceeded'],
  ),
  messageRule(
    PATTERN_SCAN,
    /content management policy|safety system|flagged as potentially violating|content_policy_violation/i,
    'content_policy_violation',
    ['policy', 'safety system', 'flagged'],
  ),
  // A 401 or 403 that is about scopes or model access, not the key (OpenAI projects, Google, LiteLLM).
  messageRule(
    PATTERN_SCAN,
    /missing scopes|insufficient permissions for this operation|insufficient authentication scopes|not allowed to access model/i,
    'permission_denied',
    ['scopes', 'insufficient permissions', 'not allowed to access'],
  ),
  // Realtime: the session hit its maximum duration; the Assistants API: a run that expired.
  messageRule(PATTERN_SCAN, /session hit the maximum duration|runs in status "expired"/i, 'expired', ['maximum duration', 'status "expired"']),
  // Realtime: a second response.create while one is in progress.
  messageRule(PATTERN_SCAN, /conversation already has an active response/i, 'conflict', ['active response']),
  // An image the model could not read, sent as `code: invalid_value` (too general to decide, see
  // GENERIC_WIRE_CODES) or as a bare "400 Invalid image." by the SDK.
  messageRule(PATTERN_SCAN, /does not represent a valid image|\binvalid image\b/i, 'invalid_image', ['valid image']),
  // Fine-tuning: a training file the job could not read.
  messageRule(PATTERN_SCAN, /file format error|invalid file format/i, 'invalid_request', ['file format']),
  // Envoy and Go gateways that could not reach their upstream (even on a 503: nothing is overloaded).
  messageRule(PATTERN_SCAN, /upstream connect error or disconnect\/reset before headers|unable to round-trip http request to upstream/i, 'server_error', ['upstream']),
  // openai v4–v6 turn a flat stream `error` event into an APIError with only the message.
  messageRule(
    PATTERN_SCAN,
    /the server had an error (?:while )?processing your request|an error occurred while processing your request/i,
    'server_error',
    ['processing your request'],
  ),
];

/** The words every retry-hint pattern (hints.ts) holds one of. */
export const HINT_WORDS: readonly string[] = ['try again', 'retry after'];
export const HINT_WORD_SET: WordSet = wordSetOf(FRONT_SCAN, HINT_WORDS);

/**
 * The bit of a front-scan {@link WordSet} that says redact() has work to do: redact.ts's
 * redact.ts MAY_HOLD_SECRET matches the text. It rides on {@link FRONT_SCAN}, so a message is read once for
 * the first rules, the hints and the redaction (build.ts then calls `redactScanned`).
 * test/classify-structure.test.ts checks, on generated texts, that the bit is set exactly when
 * `MAY_HOLD_SECRET.test(text)` is true.
 */
export const MAY_HOLD_SECRET_BIT: WordSet = 1 << MAX_WORDS;

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether the regex source `alt` has a `|` outside every group and class (an alternation of its own). */
function hasTopLevelBar(alt: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < alt.length; i++) {
    const c = alt[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return true;
  }
  return false;
}

/**
 * One regex source for `alternatives` (regex sources, each starting with an ASCII letter as plain
 * text), grouped by that letter: `billing`, `budget`, `bearer\s` → `b(?:illing|udget|earer\s)`. The same
 * language as `alternatives.join('|')` under the `i` flag, but at each position of a text the engine
 * tries one branch per first letter instead of every alternative (measured: the front scan of a 200-
 * character message about a quarter faster). Anything else is a table error, thrown when the module loads.
 */
export function byFirstLetter(alternatives: readonly string[]): string {
  const groups = new Map<string, string[]>();
  for (const alt of alternatives) {
    const first = alt.charAt(0).toLowerCase();
    if (!/^[a-z]$/.test(first) || /^[?*+{]/.test(alt.slice(1)) || hasTopLevelBar(alt)) throw new Error(`classify: scan alternative ${JSON.stringify(alt)} does not start with a plain letter, or holds a top-level |`);
    const rests = groups.get(first) ?? [];
    rests.push(alt.slice(1));
    groups.set(first, rests);
  }
  return [...groups].map(([first, rests]) => (rests.length === 1 ? first + rests[0]! : `${first}(?:${rests.join('|')})`)).join('|');
}

/**
 * The one regex of a scan: its words (no word a prefix of another, at most 30: test/classify-structure
 * checks both, since the scan restarts one character after each hit and a prefix at the same position as
 * a longer word would be hidden), and for the front scan redact.ts's {@link SECRET_OPENINGS}, all grouped
 * {@link byFirstLetter}. A match that is no word is a secret opening (none is a word, and a word and a
 * secret never start at one position: no front word starts like a secret opening). The structure test
 * checks that the secret bit is exactly redact.ts's MAY_HOLD_SECRET, and every word's bit its pattern's.
 */
function buildScan(scan: WordScan, withSecret: boolean): void {
  const words = [...scan.bits.keys()].map(escapeRegExp);
  scan.otherBit = withSecret ? MAY_HOLD_SECRET_BIT : 0;
  // The pattern scan reads the lower-cased text with a case-sensitive regex (measured on a 200-character
  // message: 35 ns to lower-case, then 400 ns instead of 550 for its 18 first letters). Equivalent: a
  // case-insensitive match of ASCII words is ASCII, which lower-cases to the word; a non-ASCII letter that
  // lower-cases to ASCII (the Kelvin sign) can only let a pattern run that then fails. The front scan stays
  // case-insensitive: its secret bit must be exactly MAY_HOLD_SECRET's, and it is no faster lower-cased.
  scan.lowerCased = !withSecret;
  scan.regex = new RegExp(byFirstLetter(withSecret ? [...words, ...SECRET_OPENINGS] : words), scan.lowerCased ? 'g' : 'gi');
}
buildScan(FRONT_SCAN, true);
buildScan(PATTERN_SCAN, false);

/** The words of each scan, for the structure test. */
export const SCAN_WORDS: Readonly<Record<'front' | 'patterns', readonly string[]>> = { front: [...FRONT_SCAN.bits.keys()], patterns: [...PATTERN_SCAN.bits.keys()] };

/** The words of `scan` in `text` (case-insensitive), in one pass. */
export function wordsIn(scan: WordScan, text: string): WordSet {
  const re = scan.regex!;
  const t = scan.lowerCased ? text.toLowerCase() : text;
  re.lastIndex = 0; // a global regex carries its position: start from the top
  let found = 0;
  for (let m = re.exec(t); m !== null; m = re.exec(t)) {
    // A case-insensitive match of an ASCII word lower-cases to the word itself.
    found |= scan.bits.get(m[0]) ?? scan.bits.get(m[0].toLowerCase()) ?? scan.otherBit;
    re.lastIndex = m.index + 1;
  }
  return found;
}

/** Whether `rule` matches `text`, whose {@link wordsIn} are `words`: its pattern runs only when one of its words is there. */
export function matchesMessage(rule: MessageRule, text: string, words: WordSet): boolean {
  return (rule.wordSet & words) !== 0 && rule.pattern.test(text);
}

/**
 * Messages the openai SDKs write themselves when the server said nothing (openai-node core/error.ts;
 * readError strips the status from `502 status code (no body)`). They hold no word of any message rule
 * and no secret (test/core/classify-structure.test.ts checks), so decide() does not scan them.
 */
export const SDK_MESSAGES: ReadonlySet<string> = new Set(['Connection error.', 'Request timed out.', 'Request was aborted.', 'status code (no body)']);
const SDK_MESSAGE_LENGTH = Math.max(...[...SDK_MESSAGES].map((m) => m.length));

/** Whether `text` is one of {@link SDK_MESSAGES} (a longer text is not looked up: hashing it would cost more). */
export function isSdkMessage(text: string): boolean {
  return text.length <= SDK_MESSAGE_LENGTH && SDK_MESSAGES.has(text);
}

/**
 * OpenAI's own server texts: the fixed messages its API sends with `code: null` on the failures real
 * traffic meets most (a 500, a 503 overload), so only the message can tell them from a relay's words.
 * Text → the code the {@link MESSAGE_PATTERNS} give it: precedence 5 answers with it instead of scanning,
 * and since these texts hold no word of the front scan and no secret, evidenceOf() does not scan them
 * either (the two scans of these ~200 characters were most of the cost of a common failure). Each text is
 * the one a real payload carries (the source beside it); OpenAI ends most with a sentence naming the
 * request, which {@link openAiServerMessage} reads past. test/core/classify-server-messages.test.ts
 * checks that every entry, alone and with that sentence and any id, is answered as the full pattern scan
 * answers it, and holds no front-scan word and no secret.
 */
export const OPENAI_SERVER_MESSAGES: ReadonlyMap<string, FailureCode> = new Map<string, FailureCode>([
  // 500 and the Realtime `error` event (openai-realtime-console#493, there with a session ID sentence)
  ['The server had an error while processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if the error persists.', 'server_error'],
  // 500, chat and completions (LangBot#126: error_type=server_error, error_code=None)
  ['The server had an error while processing your request. Sorry about that!', 'server_error'],
  // Responses `response.failed`, code server_error (openai-node#1730, sub2api#6714: the id sentence without brackets)
  ['An error occurred while processing your request. You can retry your request, or contact us through our help center at help.openai.com if the error persists.', 'server_error'],
  // 503, type server_error, code null (node-chatgpt-api#34, with the request ID sentence)
  ['That model is currently overloaded with other requests. You can retry your request, or contact us through our help center at help.openai.com if the error persists.', 'overloaded'],
]);
const SERVER_TEXTS: readonly (readonly [string, FailureCode])[] = [...OPENAI_SERVER_MESSAGES];

/**
 * The sentence OpenAI ends a server text with: ` (Please include the request ID req_… in your message.)`,
 * or the same without brackets. The id is read only as OpenAI writes it, hex digits and dashes after an
 * optional `req_` (`req_1332ed8a…`, a UUID, `169bee8d`): in such an id no message pattern, no word of the
 * front scan and no secret can begin, so the whole text reads as the table's entry alone (the test tries
 * ids of every kind). A text with another id (Realtime's `sess_…`) is not looked up: it is scanned.
 * Sticky: it is tried exactly where the known text ends.
 */
const ID_SENTENCE = / \(?Please include the request ID (?:req_)?[0-9a-f-]* *in your message\.\)?$/y;

/**
 * The code {@link OPENAI_SERVER_MESSAGES} gives `text`: `text` is one of them, alone or followed by its
 * {@link ID_SENTENCE}; else `undefined`.
 */
export function openAiServerMessage(text: string): FailureCode | undefined {
  for (const [known, code] of SERVER_TEXTS) {
    // What `text.startsWith(known)` says, measured 6× faster on these 160 characters (25 ns, not 160):
    // V8 compares a slice with `===` as memory, startsWith one character at a time.
    if (text.length < known.length || text.slice(0, known.length) !== known) continue;
    if (text.length === known.length) return code;
    ID_SENTENCE.lastIndex = known.length;
    if (ID_SENTENCE.test(text)) return code;
  }
  return undefined;
}

/** Transport error codes (`err.code` anywhere in the cause chain) → code (precedence 8). */
export const TRANSPORT_CODES: ReadonlyMap<string, FailureCode> = new Map<string, FailureCode>([
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

/**
 * Error names and constructor names → code (precedence 8). The SDK's classes have no `name`, so their
 * constructor names are read; both are read by shape, never by `instanceof`.
 */
export const TRANSPORT_NAMES: ReadonlyMap<string, FailureCode> = new Map<string, FailureCode>([
  ['AbortError', 'aborted'],
  ['APIUserAbortError', 'aborted'],
  ['TimeoutError', 'timeout'],
  ['APIConnectionTimeoutError', 'timeout'],
  ['ConnectTimeoutError', 'timeout'],
  ['HeadersTimeoutError', 'timeout'],
  ['BodyTimeoutError', 'timeout'],
  ['APIConnectionError', 'connection_error'],
  ['APITimeoutError', 'timeout'], // openai-python
  ['ConnectError', 'connection_error'], // httpx (openai-python's transport)
  ['SocketError', 'connection_error'],
  ['FetchError', 'connection_error'],
  ['LengthFinishReasonError', 'max_output_tokens'],
  ['ContentFilterFinishReasonError', 'content_filtered'],
]);

/**
 * Transport messages, for errors that lost their code and name (precedence 8): only the exact messages
 * Node, undici, node-fetch and the SDKs produce. A message that merely contains "timeout" or "network
 * error" (`new TypeError('bad timeout value in config')`) is not one: it is the caller's own error, and
 * it is never retried. Looked up lower-cased, without a final period.
 */
export const TRANSPORT_MESSAGES: ReadonlyMap<string, FailureCode> = new Map<string, FailureCode>([
  ['request was aborted', 'aborted'], // openai-node APIUserAbortError
  ['this operation was aborted', 'aborted'], // DOMException AbortError
  ['the operation was aborted', 'aborted'], // Node's AbortError
  ['request timed out', 'timeout'], // openai-node APIConnectionTimeoutError, openai-python APITimeoutError
  ['the operation was aborted due to timeout', 'timeout'], // DOMException TimeoutError (AbortSignal.timeout)
  ['terminated', 'connection_error'], // undici, a body cut mid-stream
  ['other side closed', 'connection_error'], // undici SocketError
  ['premature close', 'connection_error'], // Node ERR_STREAM_PREMATURE_CLOSE
  ['fetch failed', 'connection_error'], // undici fetch, whatever the cause
  ['failed to fetch', 'connection_error'], // browsers' fetch (Chromium) and msw's network error: a request that got no answer
  ['connection error', 'connection_error'], // openai-node / openai-python APIConnectionError
]);

/**
 * What the other browsers' fetch rejects with when a request got no answer, read only on a `TypeError`
 * (the one type fetch rejects with): on any other error these are the caller's own words ("Load failed"
 * is a common text of an app's own). Chromium's "Failed to fetch" is in {@link TRANSPORT_MESSAGES}.
 * Looked up lower-cased, without a final period.
 */
export const BROWSER_FETCH_MESSAGES: ReadonlyMap<string, FailureCode> = new Map<string, FailureCode>([
  ['networkerror when attempting to fetch resource', 'connection_error'], // Firefox
  ['load failed', 'connection_error'], // Safari 17+ (WebKit)
  ['the internet connection appears to be offline', 'connection_error'], // Safari before 17, offline
]);

/**
 * Transport messages that carry an address, a host or a cause after the words that matter
 * ("connect ETIMEDOUT 1.2.3.4:443", "getaddrinfo ENOTFOUND host", node-fetch "reason: socket hang up").
 */
export const TRANSPORT_PHRASES: ReadonlyArray<readonly [RegExp, FailureCode]> = [
  [
    new RegExp(
      [
        '^(?:headers|body|connect) timeout error\\b', // undici HeadersTimeoutError, BodyTimeoutError, ConnectTimeoutError
        '\\b(?:etimedout|esockettimedout)\\b',
      ].join('|'),
      'i',
    ),
    'timeout',
  ],
  [
    new RegExp(
      [
        'socket hang up', // Node ECONNRESET
        'client network socket disconnected before secure tls connection was established', // TLS handshake cut
        '\\b(?:econnreset|econnrefused|econnaborted|epipe|enotfound|eai_again|ehostunreach|enetunreach)\\b', // "read ECONNRESET"
        'network is unreachable', // ENETUNREACH's strerror, httpx "[Errno 101] Network is unreachable"
      ].join('|'),
      'i',
    ),
    'connection_error',
  ],
];

/**
 * Error codes of a request that was never sent because the call itself was wrong (a bad argument, a bad
 * URL, a dispatcher from another undici): anywhere in a cause chain they mean "not a transport failure",
 * whatever wraps them (openai-node wraps everything fetch throws in APIConnectionError).
 */
export const SETUP_ERROR_CODES: ReadonlySet<string> = new Set(['UND_ERR_INVALID_ARG', 'ERR_INVALID_URL', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE']);

/**
 * Node's TLS trust failures: the server was reached but its certificate is not trusted (a TLS-inspecting
 * proxy, a private CA, an expired or mismatched certificate). No retry can succeed until the trust store
 * or the URL changes, and the catalog has no non-retryable connection code (a `tls_error` is proposed), so
 * anywhere in a cause chain they read as `unknown` — never retried — rather than a retryable
 * connection_error. (A handshake *cut*, ECONNRESET, stays a connection_error.)
 */
export const TLS_TRUST_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * The official SDKs' error classes (openai-python `_exceptions.py`, openai-node `core/error.ts`, and the
 * LiteLLM classes that mirror them) → the status each stands for, read from pasted text.
 */
export const SDK_ERROR_CLASSES: ReadonlyMap<string, number> = new Map([
  ['BadRequestError', 400],
  ['AuthenticationError', 401],
  ['PermissionDeniedError', 403],
  ['NotFoundError', 404],
  ['ConflictError', 409],
  ['UnprocessableEntityError', 422],
  ['RateLimitError', 429],
  ['InternalServerError', 500],
  ['ServiceUnavailableError', 503],
]);

/**
 * The header createFetch sets on a failed Response it hands back (and strips from upstream answers):
 * its code for the whole body. The SDK keeps an error's headers but drops a body without the `{error}`
 * wrapper (APIM's `{statusCode, message}`, some vLLM and Mistral shapes), so this is how their meaning
 * reaches classify() of the SDK's error.
 */
export const FAILURE_CODE_HEADER = 'x-faultline-failure-code';

/** Webhook event types → the state they report (`null`: a notice, not a failure). */
export const WEBHOOK_STATES: ReadonlyMap<string, FailureCode | null> = new Map<string, FailureCode | null>([
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

/** What one wire code or type means in each vocabulary above. */
export interface WireFacts {
  /** In {@link QUOTA_WIRE_VALUES} (precedence 1). */
  readonly quota: boolean;
  /** As a `code` ({@link WIRE_CODES}, precedence 3). */
  readonly asCode: FailureCode | undefined;
  /** A generic code ({@link GENERIC_WIRE_CODES}, precedence 7b). */
  readonly genericCode: boolean;
  /** As a specific `type` ({@link WIRE_TYPES}, precedence 6). */
  readonly asType: FailureCode | undefined;
  /** As a generic `type` ({@link GENERIC_WIRE_TYPES}, precedence 7b). */
  readonly genericType: FailureCode | undefined;
}

/** The facts of a value no table knows. */
export const NO_FACTS: WireFacts = { quota: false, asCode: undefined, genericCode: false, asType: undefined, genericType: undefined };

/** The tables above, indexed by normalised wire value: one lookup answers every question decide() asks. */
export const WIRE_FACTS: ReadonlyMap<string, WireFacts> = new Map(
  [...new Set([...QUOTA_WIRE_VALUES, ...WIRE_CODES.keys(), ...GENERIC_WIRE_CODES, ...WIRE_TYPES.keys(), ...GENERIC_WIRE_TYPES.keys()])].map((v) => [
    v,
    { quota: QUOTA_WIRE_VALUES.has(v), asCode: WIRE_CODES.get(v), genericCode: GENERIC_WIRE_CODES.has(v), asType: WIRE_TYPES.get(v), genericType: GENERIC_WIRE_TYPES.get(v) },
  ]),
);
