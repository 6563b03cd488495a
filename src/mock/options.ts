/**
 * `createMock` options, checked and filled with defaults in one place, through the library's one set of
 * option checks (`createMock: options.x must be …, got …`). A scenario document keeps its own messages
 * (they name a place in a JSON file, see scenario.ts).
 */
import { costModel, type Charge, type MockCostModel } from './cost.ts';
import type { Clock } from '../internal/clock.ts';
import { clock as clockOption, count, durationMs, finite, fraction, misuse, nonEmptyString, oneOf, optionsObject, rejectRenamed, rejectUnknown, fn } from '../internal/options.ts';
import { realClock } from './clock.ts';
import { DEFAULT_STRIP } from './faults.ts';
import { DEFAULT_MAX_BODY_BYTES } from './http.ts';
import type { RateLimitConfig } from './ratelimit.ts';
import { parseScenario, type Scenario } from './scenario.ts';
import type { MockLogEntry, MockOptions, MockRateLimitOptions, MockWebhookOptions } from './types.ts';
import { webhookKey } from './webhook-sign.ts';

const OWNER = 'createMock';

/** Keys renamed before 1.0: a call that still passes one fails at once, naming the new key. */
const RENAMED: Readonly<Record<string, string>> = {
  log: 'onLog (0.2.0: a callback; to write a file, use listen({ logFile }) or faultline mock --log)',
};
const RENAMED_WEBHOOKS: Readonly<Record<string, string>> = {
  'webhooks.maxAttempts': 'webhooks.retries (0.2.0: retries after the first attempt, maxAttempts − 1)',
  'webhooks.timeoutMs': 'webhooks.attemptTimeoutMs (0.2.0)',
};

/** Every key of {@link MockOptions} (a `Record` over `keyof`, so the compiler keeps the list complete). */
const OPTION_KEYS: Readonly<Record<keyof MockOptions, true>> = {
  seed: true,
  clock: true,
  scenario: true,
  rateLimit: true,
  organization: true,
  reply: true,
  models: true,
  apiKeys: true,
  modelAccess: true,
  background: true,
  batch: true,
  responseTtlMs: true,
  streamDelayMs: true,
  azure: true,
  stripHeaders: true,
  webhooks: true,
  onLog: true,
  maxBodyBytes: true,
  maxLogEntries: true,
};
/** The keys `createMock` takes, for a check of unknown keys (`listen()` uses it to say where one goes). */
export const MOCK_OPTION_KEYS: ReadonlySet<string> = new Set(Object.keys(OPTION_KEYS));
const RATE_LIMIT_KEYS: ReadonlySet<string> = new Set(Object.keys({ rpm: true, tpm: true, burstWindowMs: true, countRejected: true, cost: true } satisfies Record<keyof MockRateLimitOptions, true>));
const WEBHOOK_KEYS: ReadonlySet<string> = new Set(
  Object.keys({ url: true, secret: true, fetch: true, retries: true, retryDelaysMs: true, attemptTimeoutMs: true, duplicateProbability: true } satisfies Record<keyof MockWebhookOptions, true>),
);
const BACKGROUND_KEYS: ReadonlySet<string> = new Set(Object.keys({ queuedMs: true, runMs: true } satisfies Record<keyof NonNullable<MockOptions['background']>, true>));
const BATCH_KEYS: ReadonlySet<string> = new Set(Object.keys({ validatingMs: true, runMs: true } satisfies Record<keyof NonNullable<MockOptions['batch']>, true>));

const DEFAULT_MODELS = ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1-mini', 'gpt-5-mini', 'o4-mini'];

export interface ResolvedWebhookOptions {
  readonly url: string;
  /** The decoded signing key (the secret itself is never kept in a message or the log). */
  readonly key: Uint8Array;
  readonly fetch: (input: string, init: RequestInit) => Promise<Response>;
  readonly retries: number;
  readonly retryDelaysMs: readonly number[];
  readonly attemptTimeoutMs: number;
  readonly duplicateProbability: number;
}

export interface ResolvedMockOptions {
  readonly seed: number;
  /** The clock as given (or the real one): `mock.clock`, and `advance()` when it is a manual clock. */
  readonly givenClock: Clock;
  /** The same clock held to the clock contract; every wait uses it. */
  readonly clock: Clock;
  readonly scenario: Scenario;
  readonly limits: RateLimitConfig | undefined;
  readonly countRejected: boolean;
  /** `rateLimit.cost`'s charge function; absent: prompt characters / 4 plus the output cap. */
  readonly charge: Charge | undefined;
  readonly organization: string;
  readonly reply: string;
  readonly models: readonly string[];
  readonly apiKeys: ReadonlySet<string> | undefined;
  /** Per key, the models it may use (keys not in the map may use every model). */
  readonly modelAccess: ReadonlyMap<string, ReadonlySet<string>>;
  readonly queuedMs: number;
  readonly runMs: number;
  readonly batchValidatingMs: number;
  readonly batchRunMs: number;
  readonly responseTtlMs: number;
  readonly streamDelayMs: number;
  readonly azure: boolean;
  readonly strip: readonly string[] | undefined;
  readonly maxLogEntries: number;
  readonly maxBodyBytes: number;
  readonly onLog: ((entry: MockLogEntry) => void) | undefined;
  readonly webhooks: ResolvedWebhookOptions | undefined;
}

function strings(name: string, value: unknown, opts: { secret?: boolean } = {}): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw misuse('type', OWNER, name, 'an array of strings', value, opts);
  return value as readonly string[];
}

function modelAccessOf(value: unknown): ReadonlyMap<string, ReadonlySet<string>> {
  const access = new Map<string, ReadonlySet<string>>();
  if (value === undefined) return access;
  const what = 'an object from API key to an array of model ids';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw misuse('type', OWNER, 'modelAccess', what, value);
  for (const [key, models] of Object.entries(value)) {
    // The message names no key: keys are secrets.
    if (!Array.isArray(models) || !models.every((m) => typeof m === 'string')) throw misuse('type', OWNER, 'modelAccess', what, models);
    access.set(key, new Set(models as string[]));
  }
  return access;
}

function phase(name: string, value: unknown, fallback: number): number {
  return durationMs(OWNER, name, value, { default: fallback, infinity: true });
}

function rateLimitOf(value: unknown): { limits: RateLimitConfig | undefined; countRejected: boolean; charge: Charge | undefined } {
  if (value === undefined) return { limits: undefined, countRejected: true, charge: undefined };
  const r = optionsObject(OWNER, value, 'options.rateLimit');
  rejectUnknown(OWNER, r, RATE_LIMIT_KEYS, { path: 'rateLimit' });
  const perMinute = (name: string, v: unknown): number => (v === undefined || v === Infinity ? Infinity : finite(OWNER, name, v, { min: 0, exclusiveMin: true }));
  const rpm = perMinute('rateLimit.rpm', r['rpm']);
  const tpm = perMinute('rateLimit.tpm', r['tpm']);
  const burstWindowMs = durationMs(OWNER, 'rateLimit.burstWindowMs', r['burstWindowMs'], { default: 60_000, exclusiveMin: true });
  // An infinite limit is modelled as a huge one so the arithmetic stays finite.
  return {
    limits: { rpm: Number.isFinite(rpm) ? rpm : 1e12, tpm: Number.isFinite(tpm) ? tpm : 1e15, burstWindowMs },
    countRejected: oneOf(OWNER, 'rateLimit.countRejected', r['countRejected'], [true, false], true),
    charge: r['cost'] === undefined ? undefined : costModel(optionsObject(OWNER, r['cost'], 'options.rateLimit.cost') as MockCostModel),
  };
}

function webhooksOf(value: unknown): ResolvedWebhookOptions | undefined {
  if (value === undefined) return undefined;
  const w = optionsObject(OWNER, value, 'options.webhooks');
  rejectRenamed(OWNER, { 'webhooks.maxAttempts': w['maxAttempts'], 'webhooks.timeoutMs': w['timeoutMs'] }, RENAMED_WEBHOOKS);
  rejectUnknown(OWNER, w, WEBHOOK_KEYS, { path: 'webhooks' });
  const url = w['url'];
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw misuse('type', OWNER, 'webhooks.url', 'an http(s) URL', url);
  // A malformed secret fails now (misuse), not at the first delivery.
  const key = typeof w['secret'] === 'string' ? webhookKey(w['secret']) : undefined;
  if (key === undefined) throw misuse('type', OWNER, 'webhooks.secret', 'a string, whsec_ followed by base64 key bytes', w['secret'], { secret: true });
  const delays = w['retryDelaysMs'];
  if (delays !== undefined && (!Array.isArray(delays) || !delays.every((d) => typeof d === 'number' && Number.isFinite(d) && d >= 0))) {
    throw misuse('range', OWNER, 'webhooks.retryDelaysMs', 'an array of finite numbers of milliseconds >= 0', delays);
  }
  const send = fn<(input: string, init: RequestInit) => Promise<Response>>(OWNER, 'webhooks.fetch', w['fetch']);
  return {
    url,
    key,
    fetch: send ?? ((input, init) => globalThis.fetch(input, init)),
    retries: count(OWNER, 'webhooks.retries', w['retries'], { default: 2, max: 99 }),
    retryDelaysMs: (delays as readonly number[] | undefined) ?? [1000, 5000, 30000],
    attemptTimeoutMs: durationMs(OWNER, 'webhooks.attemptTimeoutMs', w['attemptTimeoutMs'], { default: 10_000, exclusiveMin: true }),
    duplicateProbability: fraction(OWNER, 'webhooks.duplicateProbability', w['duplicateProbability'], { default: 0 }),
  };
}

/** Checks `createMock`'s options and fills the defaults. @throws TypeError/RangeError naming the option. */
export function resolveMockOptions(value: MockOptions | undefined): ResolvedMockOptions {
  const o = optionsObject(OWNER, value);
  rejectRenamed(OWNER, o, RENAMED);
  rejectUnknown(OWNER, o, MOCK_OPTION_KEYS);
  const seed = o['seed'] ?? 1;
  if (!Number.isSafeInteger(seed)) throw misuse('type', OWNER, 'seed', 'an integer', seed);
  const givenClock = o['clock'] === undefined ? realClock : (o['clock'] as Clock);
  const clock = o['clock'] === undefined ? realClock : clockOption(OWNER, o['clock']);
  const reply = o['reply'] ?? 'Hello from the faultline mock server.';
  if (typeof reply !== 'string') throw misuse('type', OWNER, 'reply', 'a string', reply);
  const strip = o['stripHeaders'] ?? false;
  if (typeof strip !== 'boolean' && !(Array.isArray(strip) && strip.every((h) => typeof h === 'string'))) {
    throw misuse('type', OWNER, 'stripHeaders', 'a boolean or an array of header names', strip);
  }
  const maxBodyBytes = o['maxBodyBytes'] ?? DEFAULT_MAX_BODY_BYTES;
  if (typeof maxBodyBytes !== 'number' || !(maxBodyBytes >= 1) || (!Number.isInteger(maxBodyBytes) && maxBodyBytes !== Infinity)) {
    throw misuse('range', OWNER, 'maxBodyBytes', 'an integer >= 1 (bytes) or Infinity', maxBodyBytes);
  }
  const apiKeys = strings('apiKeys', o['apiKeys'], { secret: true });
  const background = optionsObject(OWNER, o['background'], 'options.background');
  const batch = optionsObject(OWNER, o['batch'], 'options.batch');
  rejectUnknown(OWNER, background, BACKGROUND_KEYS, { path: 'background' });
  rejectUnknown(OWNER, batch, BATCH_KEYS, { path: 'batch' });
  const { limits, countRejected, charge } = rateLimitOf(o['rateLimit']);
  return {
    seed: seed as number,
    givenClock,
    clock,
    scenario: parseScenario(o['scenario'] ?? []),
    limits,
    countRejected,
    charge,
    organization: nonEmptyString(OWNER, 'organization', o['organization']) ?? 'org-mock',
    reply,
    models: strings('models', o['models']) ?? DEFAULT_MODELS,
    apiKeys: apiKeys === undefined ? undefined : new Set(apiKeys),
    modelAccess: modelAccessOf(o['modelAccess']),
    queuedMs: phase('background.queuedMs', background['queuedMs'], 100),
    runMs: phase('background.runMs', background['runMs'], 1000),
    batchValidatingMs: phase('batch.validatingMs', batch['validatingMs'], 100),
    batchRunMs: phase('batch.runMs', batch['runMs'], 1000),
    responseTtlMs: phase('responseTtlMs', o['responseTtlMs'], Infinity),
    streamDelayMs: phase('streamDelayMs', o['streamDelayMs'], 0),
    azure: oneOf(OWNER, 'azure', o['azure'], [true, false], false),
    strip: strip === true ? DEFAULT_STRIP : strip === false || (strip as readonly string[]).length === 0 ? undefined : (strip as readonly string[]).map((h) => h.toLowerCase()),
    maxLogEntries: o['maxLogEntries'] === Infinity ? Infinity : finite(OWNER, 'maxLogEntries', o['maxLogEntries'], { default: Infinity, min: 0 }),
    maxBodyBytes,
    onLog: fn<(entry: MockLogEntry) => void>(OWNER, 'onLog', o['onLog']),
    webhooks: webhooksOf(o['webhooks']),
  };
}
