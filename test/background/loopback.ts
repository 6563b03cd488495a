/**
 * A small independent OpenAI-compatible server on 127.0.0.1 for the background tests, written from the
 * wire protocol (node:http, no faultline code), and a driver that moves a {@link ManualClock} only while
 * no request is on the wire, so real loopback I/O and virtual time mix without a wall-clock sleep.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import type { ManualClock } from '../../src/mock/index.ts';

export interface LoopbackRequest {
  readonly method: string;
  readonly url: string;
  readonly body: unknown;
}

export interface Loopback {
  /** The base URL, ending in `/v1`. */
  readonly url: string;
  readonly requests: LoopbackRequest[];
  /** Requests received and not yet answered in full, plus client fetches not yet answered. */
  readonly busy: () => boolean;
  /** A `fetch` for the SDK that counts the requests it has on the wire. */
  readonly fetch: typeof fetch;
  close(): Promise<void>;
}

export type Handler = (req: LoopbackRequest, res: ServerResponse) => void;

export async function serveLoopback(handler: Handler): Promise<Loopback> {
  const requests: LoopbackRequest[] = [];
  let serverOpen = 0;
  let clientOpen = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    serverOpen++;
    res.on('close', () => serverOpen--);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        // kept as text
      }
      const r = { method: req.method ?? 'GET', url: req.url ?? '/', body };
      requests.push(r);
      handler(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // A request counts as on the wire until its answer's body has been read to the end (or cancelled).
  const countingFetch = (async (input: string | URL | Request, init?: RequestInit) => {
    clientOpen++;
    let open = true;
    const done = (): void => {
      if (open) clientOpen--;
      open = false;
    };
    let res: Response;
    try {
      res = await fetch(input, init);
    } catch (error) {
      done();
      throw error;
    }
    if (res.body === null) {
      done();
      return res;
    }
    const counted = res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush: done }));
    const reader = counted.getReader();
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const { value, done: end } = await reader.read().catch((e: unknown) => {
          done();
          throw e;
        });
        if (end) {
          done();
          controller.close();
        } else controller.enqueue(value);
      },
      cancel: async (reason) => {
        done();
        await reader.cancel(reason);
      },
    });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  }) as typeof fetch;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    busy: () => serverOpen > 0 || clientOpen > 0,
    fetch: countingFetch,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reply with a JSON body. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/**
 * Drive `promise` to its end: let real I/O run, and fire the next virtual timer only when nothing is on
 * the wire and the event loop has been idle for a few turns. Bounded in turns, never sleeps.
 */
export async function driveIO<T>(clock: ManualClock, wire: Pick<Loopback, 'busy'>, promise: Promise<T>, maxTurns = 200_000): Promise<T> {
  let settled = false;
  const watched = promise.finally(() => {
    settled = true;
  });
  watched.catch(() => {});
  let idle = 0;
  for (let turn = 0; turn < maxTurns; turn++) {
    await tick();
    if (settled) return watched;
    if (wire.busy()) {
      idle = 0;
      continue;
    }
    if (++idle < 20) continue;
    idle = 0;
    if (!clock.wakeNext() && turn > maxTurns / 2) break;
  }
  throw new Error('driveIO: the promise did not settle (deadlock or a test bug)');
}
