/**
 * The one set of option checks (CONTRIBUTING.md, "Checking options"). Every public function and class
 * validates its options through these helpers, so every misuse message has one format:
 *
 *   `owner: options.path must be <expectation>, got <shown>`
 *
 * A wrong type throws `TypeError`, a value out of range `RangeError`. `owner` is the public function or
 * class name; `name` may be a dotted path (`'webhooks.url'`), or `'#id'` for a positional argument (the
 * message then says `id`, not `options.id`). Values of secret options are never shown.
 */
import { resolveClock, type Clock } from './clock.ts';

export type Owner = string;

const SHOWN_MAX = 40;

/** The `, got …` part: numbers and strings as JSON (long strings cut), other values by their type. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > SHOWN_MAX ? `${value.slice(0, SHOWN_MAX)}…` : value);
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

function place(name: string): string {
  return name.startsWith('#') ? name.slice(1) : `options.${name}`;
}

/**
 * Builds the misuse error. `name` is an option path (`'retries'`, `'webhooks.url'`), or `#id` for a
 * positional argument (the message then says `id`, not `options.id`).
 */
export function misuse(kind: 'type' | 'range', owner: Owner, name: string, expectation: string, value: unknown, opts: { secret?: boolean } = {}): TypeError | RangeError {
  // A secret is hidden where `describe` would show it; an array or object is only ever named by its type.
  const hidden = opts.secret === true && (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint');
  const shown = hidden ? `a ${typeof value} (not shown)` : describe(value);
  const message = `${owner}: ${place(name)} must be ${expectation}, got ${shown}`;
  return kind === 'type' ? new TypeError(message) : new RangeError(message);
}

/** The options argument itself: `undefined` reads as `{}`; anything but a plain object is a TypeError. */
export function optionsObject(owner: Owner, value: unknown, name = 'options'): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${owner}: ${name} must be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/**
 * Throws at once when `options` still uses a key that was renamed, naming the new key. The table is
 * `{ oldKey: 'newKey (version)' }`, kept until 1.0 and never in the types or docs.
 */
export function rejectRenamed(owner: Owner, options: object, renamed: Readonly<Record<string, string>>): void {
  for (const old of Object.keys(renamed)) {
    if (Object.hasOwn(options, old) && (options as Record<string, unknown>)[old] !== undefined) {
      throw new TypeError(`${owner}: options.${old} was renamed to options.${renamed[old]}`);
    }
  }
}

/** The edit distance (insertions, deletions, substitutions) between `a` and `b`, given up above `max`. */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

/**
 * The known key closest to `key`, when one is within `maxDistance` edits (default 2), for a "did you
 * mean" hint. A difference of case only (`timeoutMS` for `timeoutMs`) counts as closest of all; on a tie
 * the first key of `known` wins. `undefined` when no key is that close.
 */
export function closestKey(key: string, known: Iterable<string>, maxDistance = 2): string | undefined {
  let best: string | undefined;
  let bestDistance = maxDistance + 1;
  for (const candidate of known) {
    const d = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate, maxDistance);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Throws a `TypeError` at once when `options` has a key its owner does not know, since a typo or a
 * misplaced option would otherwise be ignored in silence: `owner: options.x is not an option of
 * owner()`. `path` names a nested object (`'webhooks'` → `options.webhooks.x`); `elsewhere(key)` gives
 * the path where a misplaced key belongs (`'mock'` → `; pass it as options.mock.x`); otherwise a known
 * key within two edits is suggested (`; did you mean options.retries?`). A key whose value
 * is `undefined` changes nothing and is let through; a key that is not an identifier is not shown (it
 * could be anything, a secret included).
 */
export function rejectUnknown(
  owner: Owner,
  options: object,
  known: ReadonlySet<string>,
  spec: { path?: string; elsewhere?: (key: string) => string | undefined } = {},
): void {
  for (const key of Object.keys(options)) {
    if (known.has(key) || (options as Record<string, unknown>)[key] === undefined) continue;
    const shown = /^[A-Za-z_$][\w$]{0,39}$/.test(key) ? key : '<a key that is not an identifier, not shown>';
    const name = spec.path === undefined ? shown : `${spec.path}.${shown}`;
    const where = spec.elsewhere?.(key);
    const near = where === undefined && shown === key ? closestKey(key, known) : undefined;
    const hint =
      where !== undefined ? `; pass it as options.${where}.${shown}` : near === undefined ? '' : `; did you mean options.${spec.path === undefined ? '' : `${spec.path}.`}${near}?`;
    throw new TypeError(`${owner}: options.${name} is not an option of ${owner}()${hint}`);
  }
}

/**
 * The misuse error of a number option that failed its check: a `TypeError` for a non-number (or NaN),
 * a `RangeError` otherwise. The checks below test the value first and build a message only on failure,
 * so a check on a hot path (every request) costs a few comparisons.
 */
function badNumber(owner: Owner, name: string, value: unknown, what: string): TypeError | RangeError {
  return misuse(typeof value !== 'number' || Number.isNaN(value) ? 'type' : 'range', owner, name, what, value);
}

/**
 * A length of time in milliseconds: finite, at least `min` (default 0; `exclusiveMin` makes it `>`), at
 * most `max` when given, `Infinity` only when `infinity` is set. `default` when absent (a missing value
 * without a default is `undefined`, typed as `number` for callers that always pass one).
 */
export function durationMs(owner: Owner, name: string, value: unknown, spec: { default?: number; min?: number; exclusiveMin?: boolean; max?: number; infinity?: boolean } = {}): number {
  if (value === undefined) return spec.default as number;
  const min = spec.min ?? 0;
  if (
    typeof value === 'number' &&
    (Number.isFinite(value) || (spec.infinity === true && value === Infinity)) &&
    (spec.exclusiveMin === true ? value > min : value >= min) &&
    (spec.max === undefined || value <= spec.max)
  ) {
    return value;
  }
  const upTo = spec.max === undefined ? '' : ` and <= ${spec.max}`;
  throw badNumber(owner, name, value, `a number of milliseconds ${spec.exclusiveMin === true ? '>' : '>='} ${min}${upTo}${spec.infinity === true ? ' (or Infinity)' : ''}`);
}

/** A whole number in [min, max] (min defaults to 0); `default` when absent. */
export function count(owner: Owner, name: string, value: unknown, spec: { default?: number; min?: number; max?: number; infinity?: boolean } = {}): number {
  if (value === undefined) return spec.default as number;
  const min = spec.min ?? 0;
  const max = spec.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value === 'number' && ((spec.infinity === true && value === Infinity) || (Number.isSafeInteger(value) && value >= min && value <= max))) return value;
  throw badNumber(owner, name, value, `an integer from ${min} to ${spec.max === undefined ? (spec.infinity === true ? 'Infinity' : 'Number.MAX_SAFE_INTEGER') : max}`);
}

/** A fraction in [0, max] (max defaults to 1); `default` when absent. */
export function fraction(owner: Owner, name: string, value: unknown, spec: { default: number; min?: number; exclusiveMin?: boolean; max?: number }): number {
  if (value === undefined) return spec.default;
  const min = spec.min ?? 0;
  const max = spec.max ?? 1;
  if (typeof value === 'number' && value >= min && value <= max && !(spec.exclusiveMin === true && value === min)) return value;
  throw badNumber(owner, name, value, `a number in ${spec.exclusiveMin === true ? '(' : '['}${min}, ${max}]`);
}

/** A finite number in [min, max]; `default` when absent. For ratios and limits that are not durations. */
export function finite(owner: Owner, name: string, value: unknown, spec: { default?: number; min?: number; exclusiveMin?: boolean; max?: number } = {}): number {
  if (value === undefined) return spec.default as number;
  const min = spec.min ?? -Infinity;
  const max = spec.max ?? Infinity;
  if (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && !(spec.exclusiveMin === true && value === min)) return value;
  const bounds = [min !== -Infinity ? `${spec.exclusiveMin === true ? '>' : '>='} ${min}` : '', max !== Infinity ? `<= ${max}` : ''].filter(Boolean).join(' and ');
  throw badNumber(owner, name, value, `a finite number${bounds === '' ? '' : ` ${bounds}`}`);
}

/** One of `allowed` (strings or booleans), `fallback` when absent. */
export function oneOf<T extends string | boolean>(owner: Owner, name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw misuse(typeof value === typeof allowed[0] ? 'range' : 'type', owner, name, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
  }
  return value as T;
}

/** A function, or `undefined` when absent. */
export function fn<F extends (...args: never[]) => unknown>(owner: Owner, name: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw misuse('type', owner, name, 'a function', value);
  return value as F;
}

/** An `AbortSignal`, or `undefined` when absent. */
export function signal(owner: Owner, name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw misuse('type', owner, name, 'an AbortSignal', value);
  return value;
}

/** A non-empty string, or `undefined` when absent; with `secret`, the value is never shown. */
export function nonEmptyString(owner: Owner, name: string, value: unknown, opts: { secret?: boolean } = {}): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw misuse('type', owner, name, 'a non-empty string', value, opts);
  return value;
}

/** A moment: epoch milliseconds or a valid `Date`, as epoch ms; `undefined` when absent. */
export function moment(owner: Owner, name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    // NaN is a wrong type here, as for every number option (`numberOf`); Infinity and Invalid Date are out of range.
    const kind = value instanceof Date || (typeof value === 'number' && !Number.isNaN(value)) ? 'range' : 'type';
    throw misuse(kind, owner, name, 'epoch milliseconds or a valid Date', value instanceof Date ? 'Invalid Date' : value);
  }
  return ms;
}

/** `options.clock`: a `{ now(), sleep(ms, signal) }` object held to the clock contract; the system clock when absent. */
export function clock(owner: Owner, value: unknown, name = 'clock'): Clock {
  if (value === undefined) return resolveClock({});
  if (typeof value !== 'object' || value === null) throw misuse('type', owner, name, 'a Clock ({ now(), sleep(ms, signal) })', value);
  const c = value as Partial<Clock>;
  if (typeof c.now !== 'function') throw misuse('type', owner, `${name}.now`, 'a function returning epoch milliseconds', c.now);
  if (typeof c.sleep !== 'function') throw misuse('type', owner, `${name}.sleep`, 'a function (ms, signal) => Promise<void>', c.sleep);
  return resolveClock({ now: c.now.bind(c), sleep: c.sleep.bind(c) });
}
