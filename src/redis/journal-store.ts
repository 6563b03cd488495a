/**
 * A {@link JournalStore} on Redis, so `createAndWait`, `resumeAll` and the webhook handler work across
 * machines: the same contract as the SQLite store, each transition one Lua script with its precondition
 * inside (Redis runs a script atomically, so every lease and delivery transition is a compare-and-set).
 *
 * Layout (one hash tag, `{name}`, so every key of a journal lives in one Redis Cluster slot):
 *   faultline:journal:{name}:job:<key>   a hash per job (the SQLite row's columns)
 *   faultline:journal:{name}:oid:<id>    the job key owning a server id (SQLite's UNIQUE object_id)
 *   faultline:journal:{name}:open        a sorted set of the jobs not delivered, by creation time
 *   faultline:journal:{name}:wh:<id>     a webhook id seen (SET NX, expiring)
 * Unlike SQLite's file, the state is bounded: a delivered job (and its id) expires after `retentionMs`
 * and a webhook id after `webhookTtlMs`.
 */
import type { JobKind, JobRecord, JobState, JournalStore, NewJob } from '../journal/store.ts';
import { Connection } from './connection.ts';
import { defineScript, type Script } from './scripts.ts';
import type { RedisClientLike } from './types.ts';
import { durationMs, nonEmptyString, optionsObject, rejectUnknown } from '../internal/options.ts';

const OWNER = 'RedisJournalStore';

/** Options of {@link RedisJournalStore}. One of `url` and `client` is required. */
export interface RedisJournalStoreOptions {
  /** A Redis URL; the store opens (and closes) its own ioredis connection. */
  readonly url?: string;
  /** A ready client instead of `url` (left open by `close()`). */
  readonly client?: RedisClientLike;
  /**
   * The journal's name: every process and machine naming the same journal (on the same Redis) shares it.
   * @default 'default'
   */
  readonly name?: string;
  /**
   * How long a delivered job is kept (so a repeated `createAndWait` with its key still finds it), in ms.
   * @default 2592000000 (30 days)
   */
  readonly retentionMs?: number;
  /**
   * How long a webhook id is remembered for dedupe, in ms (OpenAI retries a webhook for up to 3 days).
   * @default 259200000 (3 days)
   */
  readonly webhookTtlMs?: number;
  /**
   * The bound on every Redis call, in milliseconds; a call that takes longer rejects.
   * @default 5000
   */
  readonly commandTimeoutMs?: number;
}

const STORE_KEYS: ReadonlySet<string> = new Set(['url', 'client', 'name', 'retentionMs', 'webhookTtlMs', 'commandTimeoutMs'] satisfies (keyof RedisJournalStoreOptions)[]);

const FIELDS = ['kind', 'state', 'object_id', 'stream', 'cursor', 'result', 'failure_code', 'lost_reason', 'lease_owner', 'lease_until', 'delivery_attempts', 'created_at', 'updated_at', 'deadline_at', 'window_ms'] as const;

function script(name: string, body: string): Script {
  return defineScript(name, `local function get(f) return redis.call('HGET', KEYS[1], f) end\n${body}`);
}

// KEYS: job, oid ('' key when no id), open. ARGV: key, kind, objectId ('' none), stream, now, deadline (''), window ('').
const INSERT = script(
  'insert',
  `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if ARGV[3] ~= '' and redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local state = 'creating'
if ARGV[3] ~= '' then state = 'pending' end
redis.call('HSET', KEYS[1], 'kind', ARGV[2], 'state', state, 'stream', ARGV[4], 'delivery_attempts', 0, 'created_at', ARGV[5], 'updated_at', ARGV[5])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'object_id', ARGV[3]); redis.call('SET', KEYS[2], ARGV[1]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'deadline_at', ARGV[6]) end
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'window_ms', ARGV[7]) end
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
return 1`,
);

// KEYS: job, oid. ARGV: key, objectId, now.
const ATTACH = script(
  'attachId',
  `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local cur = get('object_id')
if cur and cur ~= ARGV[2] then return 0 end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return redis.error_reply('faultline: object id ' .. ARGV[2] .. ' is already journaled for another job') end
redis.call('HSET', KEYS[1], 'object_id', ARGV[2], 'updated_at', ARGV[3])
if get('state') == 'creating' then redis.call('HSET', KEYS[1], 'state', 'pending') end
redis.call('SET', KEYS[2], ARGV[1])
return 1`,
);

// KEYS: job. ARGV: cursor, now.
const CURSOR = script(
  'setCursor',
  `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local cur = tonumber(get('cursor'))
if cur and cur >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'cursor', ARGV[1], 'updated_at', ARGV[2])
return 1`,
);

/** The guard of every transition out of an unfinished job: a job already terminal or lost is left alone. */
const ONLY_UNFINISHED = `local s = get('state')
if s ~= 'creating' and s ~= 'pending' then return 0 end`;

// KEYS: job. ARGV: result JSON, failureCode ('' none), now.
const TERMINAL = script(
  'recordTerminal',
  `${ONLY_UNFINISHED}
redis.call('HSET', KEYS[1], 'state', 'terminal', 'result', ARGV[1], 'updated_at', ARGV[3])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'failure_code', ARGV[2]) else redis.call('HDEL', KEYS[1], 'failure_code') end
return 1`,
);

// KEYS: job. ARGV: reason, now.
const LOST = script(
  'markLost',
  `${ONLY_UNFINISHED}
redis.call('HSET', KEYS[1], 'state', 'lost', 'lost_reason', ARGV[1], 'updated_at', ARGV[2])
return 1`,
);

// KEYS: job. ARGV: owner, until, now, stealFrom ('' none).
const ACQUIRE_LEASE = script(
  'acquireLease',
  `local s = get('state')
if not s or s == 'delivered' then return 0 end
local o = get('lease_owner')
local u = tonumber(get('lease_until'))
if (not o) or o == ARGV[1] or (u and u <= tonumber(ARGV[3])) or (ARGV[4] ~= '' and o == ARGV[4]) then
  redis.call('HSET', KEYS[1], 'lease_owner', ARGV[1], 'lease_until', ARGV[2])
  return 1
end
return 0`,
);

// KEYS: job. ARGV: owner, until.
const RENEW = script(
  'renewLease',
  `if get('lease_owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'lease_until', ARGV[2])
return 1`,
);

// KEYS: job. ARGV: owner.
const RELEASE = script(
  'releaseLease',
  `if get('lease_owner') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'lease_owner', 'lease_until')
return 1`,
);

// KEYS: job. ARGV: owner, now, leaseUntil.
const CLAIM = script(
  'claimDelivery',
  `if get('lease_owner') ~= ARGV[1] then return 0 end
local s = get('state')
if s ~= 'terminal' and s ~= 'lost' and s ~= 'delivering' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'delivering', 'updated_at', ARGV[2], 'lease_until', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'delivery_attempts', 1)
return 1`,
);

// KEYS: job, open, oid ('' key when no id). ARGV: owner, now, key, retentionMs.
const DELIVERED = script(
  'markDelivered',
  `if get('lease_owner') ~= ARGV[1] or get('state') ~= 'delivering' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'delivered', 'updated_at', ARGV[2])
redis.call('HDEL', KEYS[1], 'lease_owner', 'lease_until')
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if get('object_id') then redis.call('PEXPIRE', KEYS[3], ARGV[4]) end
return 1`,
);

// KEYS: open. ARGV: the job key prefix. Every unfinished job's hash, in creation order.
const LIST = script(
  'listUnfinished',
  `local keys = redis.call('ZRANGE', KEYS[1], 0, -1)
local out = {}
for i, k in ipairs(keys) do
  local h = redis.call('HGETALL', ARGV[1] .. k)
  if #h > 0 then table.insert(out, k); table.insert(out, h) end
end
return out`,
);

function toRecord(key: string, flat: unknown): JobRecord | undefined {
  if (!Array.isArray(flat) || flat.length === 0) return undefined;
  const h = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) h.set(String(flat[i]), String(flat[i + 1]));
  const num = (f: (typeof FIELDS)[number]): number | undefined => (h.has(f) ? Number(h.get(f)) : undefined);
  const str = (f: (typeof FIELDS)[number]): string | undefined => h.get(f);
  const objectId = str('object_id');
  const cursor = num('cursor');
  const result = str('result');
  const failureCode = str('failure_code');
  const lostReason = str('lost_reason');
  const leaseOwner = str('lease_owner');
  const leaseUntil = num('lease_until');
  const deadlineAt = num('deadline_at');
  const windowMs = num('window_ms');
  return {
    key,
    kind: str('kind') as JobKind,
    state: str('state') as JobState,
    stream: str('stream') === '1',
    deliveryAttempts: num('delivery_attempts') ?? 0,
    createdAt: num('created_at') ?? 0,
    updatedAt: num('updated_at') ?? 0,
    ...(objectId !== undefined ? { objectId } : {}),
    ...(cursor !== undefined ? { cursor } : {}),
    ...(result !== undefined ? { result: JSON.parse(result) as unknown } : {}),
    ...(failureCode !== undefined ? { failureCode } : {}),
    ...(lostReason !== undefined ? { lostReason } : {}),
    ...(leaseOwner !== undefined ? { leaseOwner } : {}),
    ...(leaseUntil !== undefined ? { leaseUntil } : {}),
    ...(deadlineAt !== undefined ? { deadlineAt } : {}),
    ...(windowMs !== undefined ? { windowMs } : {}),
  };
}

/** A {@link JournalStore} in Redis, shared by every process and machine naming the same journal. */
export class RedisJournalStore implements JournalStore {
  readonly #redis: Connection;
  readonly #base: string;
  readonly #retentionMs: number;
  readonly #webhookTtlMs: number;

  constructor(options: RedisJournalStoreOptions) {
    const o = optionsObject(OWNER, options);
    rejectUnknown(OWNER, o, STORE_KEYS);
    const name = nonEmptyString(OWNER, 'name', o['name']) ?? 'default';
    if (/[{}]/.test(name)) throw new TypeError(`${OWNER}: options.name must not contain braces (it becomes a Redis hash tag), got ${JSON.stringify(name)}`);
    this.#base = `faultline:journal:{${name}}:`;
    this.#retentionMs = durationMs(OWNER, 'retentionMs', o['retentionMs'], { default: 30 * 86_400_000, min: 1 });
    this.#webhookTtlMs = durationMs(OWNER, 'webhookTtlMs', o['webhookTtlMs'], { default: 3 * 86_400_000, min: 1 });
    this.#redis = new Connection(OWNER, o, durationMs(OWNER, 'commandTimeoutMs', o['commandTimeoutMs'], { default: 5000, min: 1 }));
  }

  #job(key: string): string {
    return `${this.#base}job:${key}`;
  }
  #oid(objectId: string | undefined): string {
    return objectId === undefined ? `${this.#base}oid:` : `${this.#base}oid:${objectId}`;
  }
  get #open(): string {
    return `${this.#base}open`;
  }

  #cmd(command: string, ...args: (string | number)[]): Promise<unknown> {
    return this.#redis.call(command, ...args);
  }

  async #ok(script: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<boolean> {
    return Number(await this.#redis.script(script, keys, args)) === 1;
  }

  insert(job: NewJob, now: number): Promise<boolean> {
    return this.#ok(INSERT, [this.#job(job.key), this.#oid(job.objectId), this.#open], [job.key, job.kind, job.objectId ?? '', job.stream ? 1 : 0, now, job.deadlineAt ?? '', job.windowMs ?? '']);
  }

  async attachId(key: string, objectId: string, now: number): Promise<void> {
    await this.#redis.script(ATTACH, [this.#job(key), this.#oid(objectId)], [key, objectId, now]);
  }

  async setCursor(key: string, cursor: number, now: number): Promise<void> {
    await this.#redis.script(CURSOR, [this.#job(key)], [cursor, now]);
  }

  recordTerminal(key: string, result: unknown, failureCode: string | undefined, now: number): Promise<boolean> {
    return this.#ok(TERMINAL, [this.#job(key)], [JSON.stringify(result), failureCode ?? '', now]);
  }

  markLost(key: string, reason: string, now: number): Promise<boolean> {
    return this.#ok(LOST, [this.#job(key)], [reason, now]);
  }

  async get(key: string): Promise<JobRecord | undefined> {
    return toRecord(key, await this.#cmd('HGETALL', this.#job(key)));
  }

  async findByObjectId(objectId: string): Promise<JobRecord | undefined> {
    const key = await this.#cmd('GET', this.#oid(objectId));
    return typeof key === 'string' ? this.get(key) : undefined;
  }

  async listUnfinished(): Promise<JobRecord[]> {
    const flat = await this.#redis.script(LIST, [this.#open], [`${this.#base}job:`]);
    const out: JobRecord[] = [];
    if (!Array.isArray(flat)) return out;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const r = toRecord(String(flat[i]), flat[i + 1]);
      if (r !== undefined && r.state !== 'delivered') out.push(r);
    }
    return out;
  }

  acquireLease(key: string, owner: string, until: number, now: number, stealFrom?: string): Promise<boolean> {
    return this.#ok(ACQUIRE_LEASE, [this.#job(key)], [owner, until, now, stealFrom ?? '']);
  }

  renewLease(key: string, owner: string, until: number): Promise<boolean> {
    return this.#ok(RENEW, [this.#job(key)], [owner, until]);
  }

  async releaseLease(key: string, owner: string): Promise<void> {
    await this.#redis.script(RELEASE, [this.#job(key)], [owner]);
  }

  claimDelivery(key: string, owner: string, now: number, leaseUntil: number): Promise<boolean> {
    return this.#ok(CLAIM, [this.#job(key)], [owner, now, leaseUntil]);
  }

  async markDelivered(key: string, owner: string, now: number): Promise<boolean> {
    const row = await this.get(key);
    return this.#ok(DELIVERED, [this.#job(key), this.#open, this.#oid(row?.objectId)], [owner, now, key, Math.ceil(this.#retentionMs)]);
  }

  async rememberWebhook(webhookId: string, _now: number): Promise<boolean> {
    return (await this.#cmd('SET', `${this.#base}wh:${webhookId}`, '1', 'NX', 'PX', Math.ceil(this.#webhookTtlMs))) === 'OK';
  }

  async forgetWebhook(webhookId: string): Promise<void> {
    await this.#cmd('DEL', `${this.#base}wh:${webhookId}`);
  }

  close(): Promise<void> {
    return this.#redis.close();
  }
}
