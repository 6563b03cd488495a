/**
 * Resume tokens: everything another process needs to carry on waiting for the same background Response
 * (its id, whether it can be streamed, the last stream cursor, the overall deadline). A token holds no
 * secret and no output, so it can be logged, queued or stored in a cookie.
 */

/** A wait in progress, as plain data. */
export interface WaitToken {
  /** Format version. */
  readonly v: 1;
  /** The background Response id (`resp_…`). */
  readonly id: string;
  /** True when the Response was created with `stream: true`, so its events can be resumed. */
  readonly stream: boolean;
  /** The last stream `sequence_number` seen, if any: resuming streams events after it. */
  readonly cursor?: number;
  /** The overall deadline, in epoch milliseconds, if one was set. */
  readonly deadlineAt?: number;
  /** The Response's `created_at`, in epoch milliseconds, used to pace polling by the job's age. */
  readonly createdAtMs?: number;
}

const PREFIX = 'flt1.';

/** Encode a token as a short URL-safe string. */
export function serializeToken(token: WaitToken): string {
  const data: Record<string, unknown> = { v: 1, id: token.id, s: token.stream ? 1 : 0 };
  if (token.cursor !== undefined) data['c'] = token.cursor;
  if (token.deadlineAt !== undefined) data['d'] = token.deadlineAt;
  if (token.createdAtMs !== undefined) data['t'] = token.createdAtMs;
  return PREFIX + Buffer.from(JSON.stringify(data), 'utf8').toString('base64url');
}

function optionalNumber(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`resume token: bad ${what}`);
  return value;
}

/** Decode a string from {@link serializeToken}; throws a TypeError for anything else. */
export function parseToken(text: string): WaitToken {
  if (typeof text !== 'string' || !text.startsWith(PREFIX)) throw new TypeError('resume token: not a faultline token (expected "flt1.…")');
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(text.slice(PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw new TypeError('resume token: not valid base64url JSON');
  }
  if (typeof data !== 'object' || data === null) throw new TypeError('resume token: not an object');
  const d = data as Record<string, unknown>;
  if (d['v'] !== 1) throw new TypeError('resume token: unsupported version');
  if (typeof d['id'] !== 'string' || d['id'] === '') throw new TypeError('resume token: missing id');
  const cursor = optionalNumber(d['c'], 'cursor');
  const deadlineAt = optionalNumber(d['d'], 'deadline');
  const createdAtMs = optionalNumber(d['t'], 'created_at');
  return {
    v: 1,
    id: d['id'],
    stream: d['s'] === 1,
    ...(cursor !== undefined ? { cursor } : {}),
    ...(deadlineAt !== undefined ? { deadlineAt } : {}),
    ...(createdAtMs !== undefined ? { createdAtMs } : {}),
  };
}

/** True for a value shaped like a {@link WaitToken} (not a Response: tokens have `v: 1` and no `object`). */
export function isWaitToken(value: unknown): value is WaitToken {
  return typeof value === 'object' && value !== null && (value as { v?: unknown }).v === 1 && typeof (value as { id?: unknown }).id === 'string' && !('object' in value);
}
