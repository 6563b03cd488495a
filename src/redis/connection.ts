/**
 * The Redis side of `faultline/redis`: opening a connection from a URL (ioredis, loaded only here and
 * only when a URL is given, so a caller who passes a client of their own needs no ioredis), running a
 * script by SHA with one fallback to its source, and bounding every call in time.
 */
import type { RedisClientLike } from './types.ts';
import type { Script } from './scripts.ts';
import { nonEmptyString } from '../internal/options.ts';

/** A connection this package opened (and so closes). */
export interface OwnedClient extends RedisClientLike {
  quit(): Promise<void>;
}

/** Whether `ioredis` resolves from here (checked synchronously, so a missing peer is misuse at once). */
function ioredisInstalled(): boolean {
  try {
    import.meta.resolve('ioredis');
    return true;
  } catch {
    return false;
  }
}

/** A Redis call that took longer than its bound. */
export class RedisTimeout extends Error {
  override readonly name = 'RedisTimeout';
}

/**
 * Resolves or rejects with `work`, or rejects with a {@link RedisTimeout} after `ms` milliseconds of
 * real time (the bound is on I/O, so it is not on an injected clock). The timer never holds the process.
 */
export function bounded<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisTimeout(`${what}: no answer from Redis within ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs `script` on `keys` with `args`: `EVALSHA` first (one round trip), `EVAL` once if the server does
 * not know the script yet (after a restart or `SCRIPT FLUSH`), which also caches it there.
 */
export async function runScript(client: RedisClientLike, script: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
  try {
    return await client.call('EVALSHA', script.sha, keys.length, ...keys, ...args);
  } catch (e) {
    if (!/NOSCRIPT/i.test(String((e as { message?: unknown })?.message ?? e))) throw e;
    return client.call('EVAL', script.lua, keys.length, ...keys, ...args);
  }
}

interface IoredisLike {
  status: string;
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  once(event: string, listener: (...a: unknown[]) => void): unknown;
  on(event: string, listener: (...a: unknown[]) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/**
 * Opens an ioredis connection for `url`, configured so that nothing queues while Redis is away: no
 * offline queue (a command sent while disconnected fails at once instead of waiting, unbounded, for a
 * reconnect that would then replay stale reservations), no per-request retries, and a reconnect loop
 * (100 ms more per attempt, at most 2 s apart) so the connection comes back by itself. A command sent
 * while the first connection is still being made waits for it, within the caller's bound.
 */
export async function openUrl(url: string, owner: string, commandTimeoutMs: number): Promise<OwnedClient> {
  let mod: { Redis: new (url: string, options: object) => IoredisLike };
  try {
    mod = (await import('ioredis')) as unknown as typeof mod;
  } catch (cause) {
    throw new Error(`${owner}: options.url needs the optional peer dependency ioredis (npm install ioredis), or pass options.client`, { cause });
  }
  const client = new mod.Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(1000, commandTimeoutMs),
    retryStrategy: (attempt: number) => Math.min(100 * attempt, 2000),
    enableReadyCheck: true,
  });
  // Failures reach the caller through its failed command; without a listener ioredis prints every
  // reconnect error to the console.
  client.on('error', () => {});
  // One shared wait for the first connection (not a listener per call while Redis has never answered).
  let everReady = false;
  const firstReady = new Promise<void>((resolve) =>
    client.once('ready', () => {
      everReady = true;
      resolve();
    }),
  );
  return {
    async call(command, ...args) {
      // Only the very first connection is waited for; later, a disconnected client fails fast.
      if (!everReady && client.status !== 'ready') await firstReady;
      return client.call(command, ...args);
    },
    async quit() {
      try {
        await bounded(client.quit(), commandTimeoutMs, owner);
      } catch {
        client.disconnect();
      }
    },
  };
}

/**
 * The connection of one budget or store, from its `url` or `client` option: opened lazily (a URL on the
 * first call), every call bounded by `timeoutMs`, closed only if it was opened here.
 */
export class Connection {
  readonly #owner: string;
  readonly #url: string | undefined;
  readonly #timeoutMs: number;
  #client: RedisClientLike | undefined;
  #owned: Promise<OwnedClient> | undefined;
  #closed = false;

  /** Reads and checks `options.url` / `options.client` (exactly one). */
  constructor(owner: string, options: Record<string, unknown>, timeoutMs: number) {
    this.#owner = owner;
    this.#timeoutMs = timeoutMs;
    this.#url = nonEmptyString(owner, 'url', options['url'], { secret: true });
    const client = options['client'] as RedisClientLike | undefined;
    if (client !== undefined && (typeof client !== 'object' || client === null || typeof client.call !== 'function')) {
      throw new TypeError(`${owner}: options.client must be a Redis client with call(command, ...args) (ioredis, iovalkey), got ${typeof client}`);
    }
    if ((this.#url === undefined) === (client === undefined)) throw new TypeError(`${owner}: exactly one of options.url and options.client is required`);
    if (this.#url !== undefined && !ioredisInstalled()) {
      throw new TypeError(`${owner}: options.url needs the optional peer dependency ioredis (npm install ioredis); or pass options.client`);
    }
    this.#client = client;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #bounded<T>(work: (c: RedisClientLike) => Promise<T>, what: string, onLate?: (value: T) => void): Promise<T> {
    if (this.#closed) return Promise.reject(new Error(`${this.#owner}: closed`));
    const run = (async () => {
      if (this.#client === undefined) {
        this.#owned ??= openUrl(this.#url!, this.#owner, this.#timeoutMs);
        this.#client = await this.#owned;
      }
      return work(this.#client);
    })();
    run.catch(() => {}); // a late failure after the timeout is not unhandled
    const out = bounded(run, this.#timeoutMs, `${this.#owner} ${what}`);
    // A cut call may still run in Redis: whoever needs its effect undone hears its late answer.
    if (onLate !== undefined) out.catch((e: unknown) => (e instanceof RedisTimeout ? run.then(onLate, () => {}) : undefined));
    return out;
  }

  /** One command. */
  call(command: string, ...args: (string | number)[]): Promise<unknown> {
    return this.#bounded((c) => c.call(command, ...args), command);
  }

  /**
   * One script (see {@link runScript}). `onLate` hears the script's answer when it arrives after the call
   * was cut at the timeout (Redis may run a command it has already received long after the cut).
   */
  script(script: Script, keys: readonly string[], args: readonly (string | number)[], onLate?: (reply: unknown) => void): Promise<unknown> {
    return this.#bounded((c) => runScript(c, script, keys, args), script.name, onLate);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owned !== undefined) await this.#owned.then((c) => c.quit(), () => {});
  }
}
