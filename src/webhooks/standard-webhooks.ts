/**
 * Standard Webhooks signing and verification, pure `node:crypto`, no I/O.
 *
 * The scheme (the one OpenAI uses for its webhooks):
 * - the secret is `whsec_` followed by base64 key bytes;
 * - the signed content is `${webhook-id}.${webhook-timestamp}.${body}` (timestamp in whole seconds);
 * - the signature is `v1,` + base64(HMAC-SHA256(key, content));
 * - `webhook-signature` may hold several space-separated signatures (key rotation); one match is enough;
 * - a timestamp more than the tolerance (5 minutes by default) away from now is rejected, so a captured
 *   delivery cannot be replayed later.
 *
 * Nothing here ever puts a secret, or a signature computed from it, into a returned value or message.
 *
 * @see https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { durationMs, fn, misuse, moment, nonEmptyString, optionsObject, rejectRenamed, rejectUnknown, type Owner } from '../internal/options.ts';

/**
 * The three headers of a signed delivery. (A type alias, not an interface, so it can be passed straight
 * to {@link verifyWebhook} or any `Record<string, string>` header bag.)
 */
export type WebhookHeaders = {
  readonly 'webhook-id': string;
  /** Unix time in whole seconds, as a decimal string (the wire's unit; the options are in milliseconds). */
  readonly 'webhook-timestamp': string;
  /** One or more space-separated `v1,<base64>` signatures. */
  readonly 'webhook-signature': string;
};

/** Input of {@link signWebhook}. */
export interface SignWebhookInput {
  /** The unique delivery id (`webhook-id`); retries of one delivery reuse it. */
  readonly id: string;
  /**
   * When the delivery is sent: epoch milliseconds or a `Date`. The header carries whole seconds
   * (milliseconds are truncated).
   */
  readonly sentAt: number | Date;
  /** The exact body bytes that will be sent, as a string (sign what you send, do not re-serialise). */
  readonly body: string;
  /** The signing secret, `whsec_<base64>` (a bare base64 secret is accepted too). */
  readonly secret: string;
}

/** Keys of {@link SignWebhookInput} renamed before 1.0 (CONTRIBUTING.md, rule 9); deleted at 1.0. */
const SIGN_RENAMED: Readonly<Record<string, string>> = {
  timestamp: 'sentAt (0.2.0; epoch milliseconds or a Date, no longer seconds)',
};

/** Keys of {@link VerifyWebhookInput} (and the handler's options) renamed before 1.0; deleted at 1.0. */
export const TOLERANCE_RENAMED: Readonly<Record<string, string>> = {
  toleranceSeconds: 'toleranceMs (0.2.0; milliseconds, no longer seconds)',
};

const SIGN_KEYS: ReadonlySet<string> = new Set(Object.keys({ id: true, sentAt: true, body: true, secret: true } satisfies Record<keyof SignWebhookInput, true>));
const VERIFY_KEYS: ReadonlySet<string> = new Set(
  Object.keys({ body: true, headers: true, secret: true, secrets: true, toleranceMs: true, now: true } satisfies Record<keyof VerifyWebhookInput, true>),
);

/** A required option: its check passes `undefined` through, so absence is refused here. */
function required<T>(owner: Owner, name: string, value: T | undefined, expectation: string): T {
  if (value === undefined) throw misuse('type', owner, name, expectation, value);
  return value;
}

/**
 * Signs one delivery and returns the headers to send with it.
 *
 * @throws TypeError/RangeError when `id` is not a non-empty string, `body` not a string, `sentAt` not
 *   epoch milliseconds (>= 0) or a valid Date, or the secret not `whsec_` + base64. The message never
 *   contains the secret.
 */
export function signWebhook(input: SignWebhookInput): WebhookHeaders {
  const owner = 'signWebhook';
  const o = optionsObject(owner, input);
  rejectRenamed(owner, o, SIGN_RENAMED);
  rejectUnknown(owner, o, SIGN_KEYS);
  const id = required(owner, 'id', nonEmptyString(owner, 'id', o['id']), 'a non-empty string');
  const body = o['body'];
  if (typeof body !== 'string') throw misuse('type', owner, 'body', 'a string (the exact body that is sent)', body);
  const sentAt = required(owner, 'sentAt', moment(owner, 'sentAt', o['sentAt']), 'epoch milliseconds or a valid Date');
  // The header is a decimal integer of seconds: a moment before 1970 cannot be written in it.
  if (sentAt < 0) throw misuse('range', owner, 'sentAt', 'a moment from 1970 on (epoch milliseconds >= 0)', sentAt);
  const key = decodeSecret(o['secret'], owner, 'secret');
  const timestamp = String(Math.floor(sentAt / 1000));
  return {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${hmac(key, id, timestamp, body).toString('base64')}`,
  };
}

/** Why a delivery was rejected. Stable strings: match on them. */
export type WebhookRejection =
  /** A required header is absent or empty. */
  | 'missing_headers'
  /** `webhook-timestamp` is not a decimal integer. */
  | 'invalid_timestamp'
  /** The timestamp is older than the tolerance allows (a replay, or a very late retry). */
  | 'timestamp_too_old'
  /** The timestamp is further in the future than the tolerance allows (clock skew). */
  | 'timestamp_too_new'
  /** No `v1,` signature in the header matched any secret. */
  | 'no_matching_signature';

/** The outcome of {@link verifyWebhook}: never throws for bad deliveries, only for misuse. */
export type WebhookVerification =
  | {
      readonly ok: true;
      /** The `webhook-id` header: the delivery's id (the same on every retry of it), for deduplication. */
      readonly id: string;
      /** When the sender signed it (the `webhook-timestamp` header), in epoch milliseconds. */
      readonly sentAt: number;
    }
  | { readonly ok: false; readonly reason: WebhookRejection; readonly message: string };

/** Header bag accepted by {@link verifyWebhook}: a `Headers` object or a plain record (any key case). */
export type WebhookHeaderInput =
  | Headers
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/** Input of {@link verifyWebhook}. */
export interface VerifyWebhookInput {
  /** The raw body exactly as received (a string or bytes); verify before parsing JSON. */
  readonly body: string | Uint8Array;
  /** The received headers. */
  readonly headers: WebhookHeaderInput;
  /** The signing secret (`whsec_<base64>`). Give this or `secrets`. */
  readonly secret?: string;
  /** Several secrets (key rotation): a signature matching any of them is accepted. */
  readonly secrets?: readonly string[];
  /**
   * How far the `webhook-timestamp` may be from `now`, either way, in milliseconds (the header has whole
   * seconds, so the window is checked in seconds: `toleranceMs / 1000`).
   * @default 300000 (5 minutes)
   */
  readonly toleranceMs?: number;
  /**
   * The current time in epoch milliseconds (inject it in tests).
   * @default Date.now()
   */
  readonly now?: number;
}

/**
 * Verifies one delivery. Returns `{ ok: true, id, sentAt }` (`sentAt` in epoch milliseconds) or `{ ok: false, reason, message }`.
 * Comparisons use `timingSafeEqual`. Messages never contain a secret or an expected signature.
 *
 * A signature verifies only if its base64 text is exactly the expected one (as in the Standard Webhooks
 * reference libraries): `v1,<sig>junk`, `v1,<sig>==` or a truncated signature do not.
 *
 * @throws TypeError/RangeError on misuse only: no secret given, both `secret` and `secrets`, an empty
 *   `secrets`, a secret that is not canonical base64 (`'whsec_'` alone, stray characters), a negative or
 *   non-finite `toleranceMs`. The message names the option and never shows the secret.
 */
export function verifyWebhook(input: VerifyWebhookInput): WebhookVerification {
  const owner = 'verifyWebhook';
  const o = optionsObject(owner, input);
  rejectRenamed(owner, o, TOLERANCE_RENAMED);
  rejectUnknown(owner, o, VERIFY_KEYS);
  const keys = webhookKeys(o, owner);
  const nowMs = moment(owner, 'now', o['now']) ?? Date.now();
  return verifyWithKeys(input, keys, toleranceOf(o['toleranceMs'], owner), nowMs);
}

/**
 * The secrets of `options` (`secret` or `secrets`, not both) decoded once, for a caller that
 * verifies many deliveries ({@link verifyWithKeys}).
 *
 * @throws TypeError naming the option (`options.secret`, `options.secrets[1]`), never showing it: a
 *   missing secret, an empty array, `'whsec_'` alone, text that is not canonical base64.
 */
export function webhookKeys(options: { readonly secret?: unknown; readonly secrets?: unknown }, owner: Owner): readonly Buffer[] {
  const { secret, secrets } = options;
  if (secrets !== undefined && secret !== undefined) {
    throw misuse('type', owner, 'secrets', 'left out when options.secret is given (give one, not both)', secrets, { secret: true });
  }
  if (secrets !== undefined) {
    if (!Array.isArray(secrets) || secrets.length === 0) throw misuse('type', owner, 'secrets', 'a non-empty array of whsec_ secrets', secrets, { secret: true });
    return secrets.map((s: unknown, i) => decodeSecret(s, owner, `secrets[${i}]`));
  }
  if (secret === undefined) throw misuse('type', owner, 'secret', `${SECRET_SHAPE} (or give options.secrets)`, secret);
  return [decodeSecret(secret, owner, 'secret')];
}

/** `toleranceMs` checked: a finite number of milliseconds >= 0, 5 minutes when absent. */
export function toleranceOf(value: unknown, owner: Owner): number {
  return durationMs(owner, 'toleranceMs', value, { default: 300_000 });
}

/** {@link verifyWebhook} with the secrets decoded by {@link webhookKeys} and the options checked. */
export function verifyWithKeys(input: Pick<VerifyWebhookInput, 'body' | 'headers'>, keys: readonly Buffer[], toleranceMs: number, nowMs: number): WebhookVerification {
  // The header has whole seconds: the window is compared in seconds, converted here at the wire.
  const tolerance = toleranceMs / 1000;

  const id = readHeader(input.headers, 'webhook-id');
  const ts = readHeader(input.headers, 'webhook-timestamp');
  const sig = readHeader(input.headers, 'webhook-signature');
  if (!id || !ts || !sig) {
    return reject('missing_headers', 'webhook-id, webhook-timestamp and webhook-signature are all required');
  }
  if (!/^\d{1,15}$/.test(ts)) return reject('invalid_timestamp', 'webhook-timestamp is not an integer number of seconds');
  const timestamp = Number(ts);
  const nowSeconds = Math.floor(nowMs / 1000);
  if (timestamp < nowSeconds - tolerance) {
    return reject('timestamp_too_old', `webhook-timestamp is more than ${toleranceMs} ms in the past`);
  }
  if (timestamp > nowSeconds + tolerance) {
    return reject('timestamp_too_new', `webhook-timestamp is more than ${toleranceMs} ms in the future`);
  }

  const body = typeof input.body === 'string' ? input.body : Buffer.from(input.body).toString('utf8');
  // The signature *text* is compared, as the reference libraries do: decoding it first would accept
  // junk after the base64 (`<sig>junk`, `<sig>==`) and other spellings of the same bytes.
  const expected = keys.map((key) => Buffer.from(hmac(key, id, ts, body).toString('base64')));
  // Check every candidate against every key without an early exit on the first mismatch, so timing does
  // not reveal which part matched.
  let matched = false;
  for (const candidate of sig.split(' ')) {
    const comma = candidate.indexOf(',');
    if (comma < 0 || candidate.slice(0, comma) !== 'v1') continue;
    const given = Buffer.from(candidate.slice(comma + 1));
    for (const want of expected) {
      if (given.length === want.length && timingSafeEqual(given, want)) matched = true;
    }
  }
  if (!matched) return reject('no_matching_signature', 'no v1 signature in webhook-signature matched');
  return { ok: true, id, sentAt: timestamp * 1000 };
}

/**
 * Creates a secret in the `whsec_<base64>` form from 24 random bytes (the spec asks for 24 to 64).
 * Pass `random` to make it deterministic in tests.
 */
export function generateWebhookSecret(random: (n: number) => Uint8Array = randomBytes): string {
  const draw = fn<(n: number) => Uint8Array>('generateWebhookSecret', '#random', random) ?? randomBytes;
  return `whsec_${Buffer.from(draw(24)).toString('base64')}`;
}

function hmac(key: Buffer, id: string, timestamp: string, body: string): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
}

function reject(reason: WebhookRejection, message: string): WebhookVerification {
  return { ok: false, reason, message };
}

/** What a secret must look like, in misuse messages. */
const SECRET_SHAPE = 'whsec_ followed by base64 key bytes';

/** Base64 digits, then at most two `=`. */
const BASE64 = /^([A-Za-z0-9+/]+)(={0,2})$/;

/**
 * The key bytes of a `whsec_<base64>` secret (or bare base64). Only canonical base64 is accepted: a
 * length that encodes whole bytes, padding (if any) that fits it, no stray characters, no unused bits set,
 * so a mistyped secret fails here rather than at every delivery.
 */
function decodeSecret(secret: unknown, owner: Owner, name: string): Buffer {
  const bad = (): TypeError | RangeError => misuse('type', owner, name, `a string, ${SECRET_SHAPE}`, secret, { secret: true });
  if (typeof secret !== 'string') throw bad();
  const raw = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  const m = BASE64.exec(raw);
  if (m === null) throw bad();
  const digits = m[1]!;
  const padding = m[2]!.length;
  if (digits.length % 4 === 1 || (padding > 0 && (digits.length + padding) % 4 !== 0)) throw bad();
  const key = Buffer.from(digits, 'base64');
  if (key.length === 0 || key.toString('base64').replace(/=+$/, '') !== digits) throw bad();
  return key;
}

function readHeader(headers: WebhookHeaderInput, name: string): string | undefined {
  if (typeof Headers !== 'undefined' && headers instanceof Headers) return headers.get(name) ?? undefined;
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() !== name) continue;
    const value = record[key];
    return typeof value === 'string' ? value : value?.[0];
  }
  return undefined;
}
