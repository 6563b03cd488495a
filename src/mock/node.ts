/**
 * The node adapter: serves a mock over HTTP on 127.0.0.1 (another host only when asked). It depends on
 * the core, never the reverse, and converts node's request/response to the core's neutral shapes
 * directly (no WHATWG objects per request) to keep the mock fast.
 */
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { BodyTooLarge, ConnectionReset, DEFAULT_MAX_BODY_BYTES, declaredTooLarge, unsendableReply, type MockReply, type MockRequest } from './http.ts';
import { count, misuse, nonEmptyString, optionsObject, rejectRenamed, rejectUnknown } from '../internal/options.ts';
import { MOCK_OPTION_KEYS } from './options.ts';
import { createMock, type Mock } from './handler.ts';
import type { MockLogEntry, MockOptions } from './types.ts';

export interface ListenOptions {
  /** The TCP port; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** The interface to bind. Loopback unless you ask for another explicitly. @default '127.0.0.1' */
  readonly host?: string;
  /**
   * A mock to serve, or the options of a new one. Its `maxBodyBytes` is enforced while bodies stream in.
   * @default a new mock with default options
   */
  readonly mock?: Mock | MockOptions;
  /**
   * Also append the mock's log to this file, one JSON line per entry (created if missing); `close()`
   * flushes it. The call rejects when the file cannot be opened for appending, since every entry would
   * otherwise be lost in silence. Needs `mock` to be options (a running `Mock` reports through its own
   * `onLog`). @default in memory only
   */
  readonly logFile?: string;
}

export interface MockServerHandle {
  /** The base URL to give the SDK, ending in `/v1` (e.g. `http://127.0.0.1:51234/v1`). */
  readonly url: string;
  readonly port: number;
  /** The mock being served (its log, clock, ...). */
  readonly mock: Mock;
  /** Stops listening, drops open connections and closes the mock. Idempotent. */
  close(): Promise<void>;
}

const EMPTY = new Uint8Array(0);

/** Every key of {@link ListenOptions} (a `Record` over `keyof`, so the compiler keeps the list complete). */
const LISTEN_KEYS: ReadonlySet<string> = new Set(Object.keys({ port: true, host: true, mock: true, logFile: true } satisfies Record<keyof ListenOptions, true>));

function isMock(v: unknown): v is Mock {
  return typeof v === 'object' && v !== null && typeof (v as Mock).handle === 'function';
}

/**
 * After a body was refused, read and drop what the client still sends (so it gets to read the 413
 * instead of a broken pipe), up to this many times the limit; past that the connection is cut.
 */
const DRAIN_FACTOR = 8;

/** Reads and drops the rest of a refused body; cuts the connection past {@link DRAIN_FACTOR} × the limit. */
function drain(req: IncomingMessage, maxBodyBytes: number): void {
  let dropped = 0;
  req.on('data', (d: Buffer) => {
    dropped += d.length;
    if (dropped > DRAIN_FACTOR * maxBodyBytes) req.socket.destroy();
  });
  req.resume();
}

function toMockRequest(req: IncomingMessage, signal: AbortSignal, maxBodyBytes: number): MockRequest {
  let cached: Promise<Uint8Array> | undefined;
  const bytes = (): Promise<Uint8Array> =>
    (cached ??= new Promise<Uint8Array>((resolve, reject) => {
      // Announced too big: refused before a byte is kept.
      if (declaredTooLarge(req.headers['content-length'], maxBodyBytes)) {
        drain(req, maxBodyBytes);
        return reject(new BodyTooLarge(maxBodyBytes));
      }
      const chunks: Buffer[] = [];
      let total = 0;
      const onData = (c: Buffer): void => {
        total += c.length;
        if (total <= maxBodyBytes) {
          chunks.push(c);
          return;
        }
        // Over the limit while streaming in: stop keeping it and answer now.
        req.off('data', onData);
        req.off('end', onEnd);
        chunks.length = 0;
        drain(req, maxBodyBytes);
        reject(new BodyTooLarge(maxBodyBytes));
      };
      const onEnd = (): void => resolve(chunks.length === 0 ? EMPTY : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', reject);
    }));
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    url: req.url ?? '/',
    header: (n) => {
      const v = req.headers[n];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    bytes,
    text: async () => {
      const b = await bytes();
      return Buffer.isBuffer(b) ? b.toString('utf8') : new TextDecoder().decode(b);
    },
    signal,
  };
}

/**
 * `res.writeHead`, or, when node refuses the headers (a `trailer` on a sized body, anything a scenario
 * check could not foresee), the {@link unsendableReply} 500 instead of a throw that would kill the host.
 * Returns false when the fallback was sent.
 */
function writeHead(res: ServerResponse, reply: MockReply): boolean {
  try {
    res.writeHead(reply.status, reply.headers);
    return true;
  } catch (err) {
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    const fallback = unsendableReply(err);
    const body = fallback.body ?? '';
    res.writeHead(fallback.status, { ...fallback.headers, 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
    return false;
  }
}

async function write(res: ServerResponse, reply: MockReply): Promise<void> {
  if (reply.reset) {
    res.socket?.resetAndDestroy(); // TCP RST before any byte: the client sees ECONNRESET
    return;
  }
  if (reply.stream === undefined) {
    const body = reply.body ?? '';
    reply.headers['content-length'] = String(Buffer.byteLength(body));
    if (writeHead(res, reply)) res.end(body);
    return;
  }
  if (!writeHead(res, reply)) return;
  res.flushHeaders();
  let flushed: Promise<void> = Promise.resolve();
  try {
    for await (const chunk of reply.stream) {
      if (res.destroyed) return;
      flushed = new Promise((resolve) => res.write(chunk, () => resolve()));
      if (res.writableNeedDrain) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  } catch (err) {
    // An injected mid-body reset: let what was written reach the client, then send a TCP RST, as a
    // dropped upstream connection does. Any other failure while streaming cuts the socket too.
    const socket = res.socket;
    if (err instanceof ConnectionReset && socket) {
      await flushed;
      socket.resetAndDestroy();
    } else socket?.destroy();
  }
}

/**
 * Throws a TypeError naming `what` and `path` unless `path` can be opened for appending (the mock's log
 * file would otherwise fail in the background, every entry lost). Creates the file, as the log would.
 */
export async function assertAppendable(path: string, what: string): Promise<void> {
  try {
    await (await open(path, 'a')).close();
  } catch (err) {
    throw new TypeError(`${what} cannot be opened for appending: ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Appends log entries as JSON lines; a write error later on never crashes the server. */
function logSink(path: string): { write: (entry: MockLogEntry) => void; end: () => Promise<void> } {
  const file = createWriteStream(path, { flags: 'a' });
  file.on('error', () => {});
  return {
    write: (entry) => void file.write(JSON.stringify(entry) + '\n'),
    end: () => new Promise<void>((resolve) => file.end(resolve)),
  };
}

/**
 * Serves a mock over HTTP. Resolves once listening.
 *
 * @throws TypeError/RangeError for a bad port, host or logFile, or a `logFile` that cannot be opened
 *   for appending (the promise rejects).
 */
export async function listen(options: ListenOptions = {}): Promise<MockServerHandle> {
  const o = optionsObject('listen', options);
  // A createMock option given to listen() itself (`listen({ apiKeys })`) would be ignored: say where it goes.
  rejectUnknown('listen', o, LISTEN_KEYS, { elsewhere: (key) => (MOCK_OPTION_KEYS.has(key) ? 'mock' : undefined) });
  const port = count('listen', 'port', o['port'], { default: 0, max: 65535 });
  const host = nonEmptyString('listen', 'host', o['host']) ?? '127.0.0.1';
  const logFile = nonEmptyString('listen', 'logFile', o['logFile']);
  const given = o['mock'];
  if (!isMock(given) && typeof given === 'object' && given !== null) {
    rejectRenamed('listen', { 'mock.log': (given as { log?: unknown }).log }, { 'mock.log': 'logFile (0.2.0; or options.mock.onLog, a callback)' });
  }
  if (logFile !== undefined && isMock(given)) {
    throw misuse('type', 'listen', 'mock', 'mock options when options.logFile is given (a running Mock reports through its own onLog)', given);
  }
  if (logFile !== undefined) await assertAppendable(logFile, 'listen: options.logFile');
  const sink = logFile === undefined ? undefined : logSink(logFile);
  let mock: Mock;
  try {
    if (isMock(given)) mock = given;
    else {
      const mo = (given ?? {}) as MockOptions;
      const onLog = mo.onLog;
      mock = sink === undefined ? createMock(mo) : createMock({ ...mo, onLog: (e) => (sink.write(e), onLog?.(e)) });
    }
  } catch (err) {
    await sink?.end();
    throw err;
  }
  const maxBodyBytes = typeof mock.maxBodyBytes === 'number' ? mock.maxBodyBytes : DEFAULT_MAX_BODY_BYTES;
  const sockets = new Set<Socket>();
  const server = createServer({ keepAlive: true }, (req, res) => {
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    mock
      .handle(toMockRequest(req, ac.signal, maxBodyBytes))
      .then(
        (reply) => write(res, reply),
        () => res.socket?.destroy(),
      )
      // Whatever goes wrong answering one request must never become an unhandled rejection (a crash).
      .catch(() => res.socket?.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => void Promise.resolve(sink?.end()).finally(() => reject(err));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${addr.port}/v1`,
    port: addr.port,
    mock,
    close: () =>
      (closed ??= (async () => {
        const done = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await done;
        await mock.close();
        await sink?.end();
      })()),
  };
}
