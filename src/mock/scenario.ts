/**
 * Scenarios: JSON-serialisable rules that tell the mock when and how to misbehave.
 *
 * Rules are tried in order; the first rule whose `match` fits a request (and whose probability draw,
 * made with the mock's seeded PRNG, succeeds) injects its faults. Counting (`nth`, `every`, `from`,
 * `to`) is per rule, over every request that fits the rule's other conditions (whether or not another
 * rule fired for it), 1-based; `times` counts the rule's own firings. Rules only see requests the
 * rate limiter admitted (and that were well-formed): a 429 from the limits is never a rule's doing.
 */
import { isPresetName, type PresetName } from './presets.ts';

/** Conditions a request must meet. Every given condition must hold. */
export interface RuleMatch {
  /**
   * The request path (without query), exact, or a prefix when it ends with `*`
   * (e.g. `"/v1/responses*"`). An array matches any of them.
   */
  readonly path?: string | readonly string[];
  /** The HTTP method, upper case. */
  readonly method?: string;
  /** The `model` of the request body. An array matches any of them. */
  readonly model?: string | readonly string[];
  /** The API key (compared in memory only; never logged). */
  readonly key?: string;
  /** Whether the request asks for `stream: true`. */
  readonly stream?: boolean;
  /** Whether the request asks for `background: true`. */
  readonly background?: boolean;
  /** Only lines of a batch input file (`true`), or only HTTP requests (`false`). */
  readonly batch?: boolean;
  /** Only the n-th fitting request(s), 1-based. */
  readonly nth?: number | readonly number[];
  /** Only every n-th fitting request (n, 2n, 3n, ...). */
  readonly every?: number;
  /** Only from the n-th fitting request on (inclusive). */
  readonly from?: number;
  /** Only up to the n-th fitting request (inclusive). */
  readonly to?: number;
  /** Chance in [0, 1] that a fitting request is hit, drawn from the seeded PRNG. @default 1 */
  readonly probability?: number;
}

/** Answer with an HTTP error: a named preset, or a status with an optional body. */
export interface HttpFault {
  readonly type: 'http';
  /** A named real-world body (see `PRESETS`/`AZURE_PRESETS`). */
  readonly preset?: PresetName;
  /** The HTTP status to answer with (overrides the preset's). */
  readonly status?: number;
  /** A JSON body or a raw string body (overrides the preset's). */
  readonly body?: unknown;
  /**
   * Extra response headers. Names must be RFC 9110 tokens and values strings of tab, visible ASCII,
   * space and Latin-1 only (no CR, LF or NUL): checked when the scenario loads.
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** Sends `x-should-retry: true|false`. */
  readonly shouldRetry?: boolean;
}

/** Waits before answering (on the mock's clock), honouring the client's abort signal. */
export interface DelayFault {
  readonly type: 'delay';
  /** How long to wait before answering, in milliseconds on the mock's clock. */
  readonly ms: number;
}

/** Drops the connection: before any header, or after `afterBytes` bytes of the body. */
export interface ResetFault {
  readonly type: 'reset';
  /** When to cut: before any header is sent, or part-way through the body. @default 'before_headers' */
  readonly when?: 'before_headers' | 'mid_body';
  /** For `mid_body`: body bytes sent before the cut. @default half of the body */
  readonly afterBytes?: number;
}

/** Misbehaves inside a streamed answer, after `afterEvents` events. */
export interface StreamFault {
  readonly type: 'stream';
  /**
   * - `truncate`: end the body cleanly without the terminal event (or `[DONE]`);
   * - `reset`: cut the connection;
   * - `error`: send an `error` event (`flat`: `{type:'error', code, message}`; `nested`:
   *   `{type:'error', error:{...}}`; `azure`: a `response.failed` whose `error` is null, then the
   *   `error` event) and end.
   */
  readonly action: 'truncate' | 'reset' | 'error';
  /** Events delivered before the fault. @default 3 */
  readonly afterEvents?: number;
  /** For `error`: the shape of the error event (see `action`). @default 'flat' */
  readonly shape?: 'flat' | 'nested' | 'azure';
  /** For `error`: the error code. @default 'server_error' */
  readonly code?: string;
  /** For `error`: the error message. */
  readonly message?: string;
}

/**
 * Ends a Response (background or not) in a non-completed terminal state. For chat completions,
 * `incomplete` becomes `finish_reason: length | content_filter` and `failed` a 500.
 */
export interface OutcomeFault {
  readonly type: 'outcome';
  /** The terminal status the Response ends in. */
  readonly status: 'failed' | 'incomplete' | 'cancelled';
  /** For `failed`: the `ResponseError.code`; `null` sends `error: null`. @default 'server_error' */
  readonly code?: string | null;
  /** For `failed`: the error message. */
  readonly message?: string;
  /** For `incomplete`: `incomplete_details.reason`; `null` sends `incomplete_details: null`. @default 'max_output_tokens' */
  readonly reason?: string | null;
  /**
   * For `cancelled` on a background Response: the cancel call returns `cancelled`, but later reads
   * show `completed` (the run had finished anyway). @default false
   */
  readonly thenCompleted?: boolean;
}

/** Removes response headers, as some proxies do. */
export interface StripHeadersFault {
  readonly type: 'strip_headers';
  /** Lower-case names or prefixes ending in `*`. @default ['x-ratelimit-*', 'retry-after', 'retry-after-ms', 'x-request-id', 'x-should-retry'] */
  readonly headers?: readonly string[];
}

/** Makes a stored (background) Response expire: reads after `afterMs` get 404. */
export interface ExpireFault {
  readonly type: 'expire';
  /** Milliseconds after creation from which reads get 404. */
  readonly afterMs: number;
}

/** For batches: the batch ends `failed`, `expired` or `cancelled`. For batch lines: the line lands in the error file. */
export interface BatchFault {
  readonly type: 'batch';
  /** For a batch: the terminal status it ends in (absent: the fault applies to batch lines). */
  readonly status?: 'failed' | 'expired' | 'cancelled';
  /** For a line: the error file's `error.code`. @default 'batch_expired' for expired, else 'server_error' */
  readonly code?: string;
  /** The error message written with the batch's or the line's error. */
  readonly message?: string;
}

export type Fault =
  | HttpFault
  | DelayFault
  | ResetFault
  | StreamFault
  | OutcomeFault
  | StripHeadersFault
  | ExpireFault
  | BatchFault;

export interface Rule {
  /** A label written to the log when the rule fires. @default `rule-<index>` */
  readonly id?: string;
  /** The conditions a request must meet for the rule to fire. @default every request */
  readonly match?: RuleMatch;
  /** One fault or several (e.g. a delay then an HTTP error). */
  readonly fault: Fault | readonly Fault[];
  /** The rule fires at most this many times. @default unlimited */
  readonly times?: number;
}

/** A scenario: `{ rules }` (a bare array of rules is accepted too). */
export interface Scenario {
  /** The rules, tried in order for every request; the first that fits fires. */
  readonly rules: readonly Rule[];
}

/**
 * The fields each part of a scenario may have. A field outside these is an error naming its path: a typo
 * in `match` (say `"backgroud"`) would otherwise match every request. test/scenario-docs.test.ts checks
 * these lists against the interfaces above, so the two cannot drift.
 */
export const SCENARIO_FIELDS = {
  scenario: ['rules'],
  rule: ['id', 'match', 'fault', 'times'],
  match: ['path', 'method', 'model', 'key', 'stream', 'background', 'batch', 'nth', 'every', 'from', 'to', 'probability'],
  fault: {
    http: ['type', 'preset', 'status', 'body', 'headers', 'shouldRetry'],
    delay: ['type', 'ms'],
    reset: ['type', 'when', 'afterBytes'],
    stream: ['type', 'action', 'afterEvents', 'shape', 'code', 'message'],
    outcome: ['type', 'status', 'code', 'message', 'reason', 'thenCompleted'],
    strip_headers: ['type', 'headers'],
    expire: ['type', 'afterMs'],
    batch: ['type', 'status', 'code', 'message'],
  },
} as const;

const FAULT_TYPES = new Set(Object.keys(SCENARIO_FIELDS.fault));

/** Throws a TypeError naming `at.key` for the first own field of `value` that is not in `allowed`. */
function checkFields(value: object, allowed: readonly string[], at: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new TypeError(`${at}.${key}: unknown field (expected one of ${allowed.join(', ')})`);
  }
}

/** Throws a TypeError naming `at.field` when a fault of `type` has a value outside `allowed`. */
function checkEnum(fault: Record<string, unknown>, type: string, field: string, allowed: readonly string[], required: boolean, at: string): void {
  if (fault['type'] !== type) return;
  const v = fault[field];
  if (v === undefined && !required) return;
  if (typeof v !== 'string' || !allowed.includes(v)) throw new TypeError(`${at}.${field}: must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
}

// RFC 9110 §5.6.2: token = 1*tchar. Field values (§5.5) as node's HTTP/1.1 writer accepts them: tab,
// visible ASCII, space, obs-text (0x80-0xFF); CR, LF, NUL and other controls could split the response.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Throws a TypeError naming `at.headers["name"]` for a header no HTTP/1.1 response could carry. */
function checkHeaders(headers: unknown, at: string): void {
  if (headers === undefined) return;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) throw new TypeError(`${at}.headers: must be an object of header names to string values`);
  for (const [name, value] of Object.entries(headers)) {
    const field = `${at}.headers[${JSON.stringify(name)}]`;
    if (!TOKEN.test(name)) throw new TypeError(`${field}: the name must be an RFC 9110 token (letters, digits and !#$%&'*+.^_\`|~-; no spaces or colons)`);
    if (typeof value !== 'string') throw new TypeError(`${field}: the value must be a string`);
    if (!FIELD_VALUE.test(value)) throw new TypeError(`${field}: the value must not contain CR, LF, NUL, other control characters or characters above U+00FF`);
  }
}

/** Validates a scenario; throws a TypeError naming the bad field. */
export function parseScenario(input: unknown): Scenario {
  const rules = Array.isArray(input) ? input : (input as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) throw new TypeError('scenario: expected `{ "rules": [...] }` or an array of rules');
  if (!Array.isArray(input)) checkFields(input as object, SCENARIO_FIELDS.scenario, 'scenario');
  rules.forEach((rule: unknown, i) => {
    const at = `scenario.rules[${i}]`;
    if (typeof rule !== 'object' || rule === null) throw new TypeError(`${at}: must be an object`);
    const r = rule as Record<string, unknown>;
    checkFields(r, SCENARIO_FIELDS.rule, at);
    const faults = Array.isArray(r['fault']) ? r['fault'] : [r['fault']];
    if (faults.length === 0) throw new TypeError(`${at}.fault: must not be empty`);
    faults.forEach((f: unknown, j) => {
      const ft = f as Record<string, unknown> | null;
      const fat = Array.isArray(r['fault']) ? `${at}.fault[${j}]` : `${at}.fault`;
      if (typeof ft !== 'object' || ft === null || !FAULT_TYPES.has(ft['type'] as string)) {
        throw new TypeError(`${fat}.type: must be one of ${[...FAULT_TYPES].join(', ')}`);
      }
      checkFields(ft, SCENARIO_FIELDS.fault[ft['type'] as keyof typeof SCENARIO_FIELDS.fault], fat);
      if (ft['type'] === 'http' && ft['preset'] !== undefined && !isPresetName(ft['preset'])) {
        throw new TypeError(`${fat}.preset: unknown preset ${JSON.stringify(ft['preset'])}`);
      }
      if (ft['type'] === 'http') checkHeaders(ft['headers'], fat);
      if (ft['type'] === 'http' && ft['preset'] === undefined && ft['status'] === undefined) {
        throw new TypeError(`${fat}: give \`preset\` or \`status\``);
      }
      const status = ft['status'];
      if (ft['type'] === 'http' && status !== undefined && !(Number.isInteger(status) && (status as number) >= 200 && (status as number) <= 599)) {
        throw new RangeError(`${fat}.status: must be an integer in [200, 599]`);
      }
      if (ft['type'] === 'delay' && !(typeof ft['ms'] === 'number' && ft['ms'] >= 0)) {
        throw new RangeError(`${fat}.ms: must be a number >= 0`);
      }
      if (ft['type'] === 'expire' && !(typeof ft['afterMs'] === 'number' && ft['afterMs'] >= 0)) {
        throw new RangeError(`${fat}.afterMs: must be a number >= 0`);
      }
      checkEnum(ft, 'outcome', 'status', ['failed', 'incomplete', 'cancelled'], true, fat);
      checkEnum(ft, 'stream', 'action', ['truncate', 'reset', 'error'], true, fat);
      checkEnum(ft, 'stream', 'shape', ['flat', 'nested', 'azure'], false, fat);
      checkEnum(ft, 'reset', 'when', ['before_headers', 'mid_body'], false, fat);
      checkEnum(ft, 'batch', 'status', ['failed', 'expired', 'cancelled'], false, fat);
      for (const [type, field] of [['reset', 'afterBytes'], ['stream', 'afterEvents']] as const) {
        const v = ft[field];
        if (ft['type'] === type && v !== undefined && !(Number.isInteger(v) && (v as number) >= 0)) {
          throw new RangeError(`${fat}.${field}: must be an integer >= 0`);
        }
      }
    });
    const times = r['times'];
    if (times !== undefined && !(Number.isInteger(times) && (times as number) >= 1)) throw new RangeError(`${at}.times: must be an integer >= 1`);
    const m = r['match'] as Record<string, unknown> | undefined;
    if (m !== undefined && (typeof m !== 'object' || m === null || Array.isArray(m))) throw new TypeError(`${at}.match: must be an object`);
    if (m !== undefined) checkFields(m, SCENARIO_FIELDS.match, `${at}.match`);
    const p = m?.['probability'];
    if (p !== undefined && !(typeof p === 'number' && p >= 0 && p <= 1)) {
      throw new RangeError(`${at}.match.probability: must be a number in [0, 1]`);
    }
    for (const k of ['every', 'from', 'to'] as const) {
      const v = m?.[k];
      if (v !== undefined && !(Number.isInteger(v) && (v as number) >= 1)) throw new RangeError(`${at}.match.${k}: must be an integer >= 1`);
    }
    const nth = m?.['nth'];
    if (nth !== undefined && !(Array.isArray(nth) ? nth : [nth]).every((v: unknown) => Number.isInteger(v) && (v as number) >= 1)) {
      throw new RangeError(`${at}.match.nth: must be an integer >= 1 or an array of them`);
    }
  });
  return { rules: rules as Rule[] };
}

/** What a request looks like to the matcher. */
export interface MatchInput {
  readonly path: string;
  readonly method: string;
  readonly model: string | undefined;
  readonly key: string | undefined;
  readonly stream: boolean;
  readonly background: boolean;
  readonly batch: boolean;
}

/** The fired rule: its label and its faults. */
export interface Hit {
  readonly id: string;
  readonly faults: readonly Fault[];
}

function oneOf<T>(want: T | readonly T[] | undefined, got: T, eq: (a: T, b: T) => boolean = (a, b) => a === b): boolean {
  if (want === undefined) return true;
  return Array.isArray(want) ? (want as readonly T[]).some((w) => eq(w, got)) : eq(want as T, got);
}

function pathFits(pattern: string, path: string): boolean {
  return pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : pattern === path;
}

/** Stateful matcher over a scenario (per-rule counters), drawing from `random`. */
export class ScenarioMatcher {
  readonly #rules: readonly Rule[];
  readonly #seen: number[];
  readonly #fired: number[];
  readonly #random: () => number;

  constructor(scenario: Scenario, random: () => number) {
    this.#rules = scenario.rules;
    this.#seen = scenario.rules.map(() => 0);
    this.#fired = scenario.rules.map(() => 0);
    this.#random = random;
  }

  get empty(): boolean {
    return this.#rules.length === 0;
  }

  /**
   * The first rule that fires for this request, or undefined. Every rule whose conditions fit counts
   * the request, even when an earlier rule fires, so `nth` means "the n-th request this rule's
   * conditions fit", whatever the other rules do.
   */
  match(req: MatchInput): Hit | undefined {
    let hit: Hit | undefined;
    for (let i = 0; i < this.#rules.length; i++) {
      const rule = this.#rules[i]!;
      const m = rule.match ?? {};
      if (!oneOf(m.path, req.path, pathFits)) continue;
      if (m.method !== undefined && m.method.toUpperCase() !== req.method) continue;
      if (m.model !== undefined && (req.model === undefined || !oneOf(m.model, req.model))) continue;
      if (m.key !== undefined && m.key !== req.key) continue;
      if (m.stream !== undefined && m.stream !== req.stream) continue;
      if (m.background !== undefined && m.background !== req.background) continue;
      if (m.batch !== undefined && m.batch !== req.batch) continue;
      const n = ++this.#seen[i]!;
      if (hit !== undefined) continue;
      if (m.nth !== undefined && !oneOf(m.nth, n)) continue;
      if (m.every !== undefined && n % m.every !== 0) continue;
      if (m.from !== undefined && n < m.from) continue;
      if (m.to !== undefined && n > m.to) continue;
      if (rule.times !== undefined && this.#fired[i]! >= rule.times) continue;
      if (m.probability !== undefined && m.probability < 1 && !(this.#random() < m.probability)) continue;
      this.#fired[i]!++;
      const faults = Array.isArray(rule.fault) ? (rule.fault as readonly Fault[]) : [rule.fault as Fault];
      hit = { id: rule.id ?? `rule-${i}`, faults };
    }
    return hit;
  }
}
