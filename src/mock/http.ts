/**
 * The mock's neutral request/reply shapes and the Web `fetch` adapter.
 *
 * The core handler works on {@link MockRequest}/{@link MockReply} rather than on `Request`/`Response`
 * objects so that the node adapter can skip building WHATWG objects per request (a large share of the
 * cost at benchmark rates); the `fetch` adapter here converts both ways for in-process use.
 */
import { abortReason } from '../internal/abort.ts';

/** A request as the core handler sees it. */
export interface MockRequest {
  /** Upper-case method. */
  readonly method: string;
  /** Path and query, e.g. `/v1/responses/resp_1?stream=true`. */
  readonly url: string;
  /** A request header by lower-case name. */
  header(name: string): string | undefined;
  /** The body bytes (empty when none). */
  bytes(): Promise<Uint8Array>;
  /** The body as UTF-8 text. */
  text(): Promise<string>;
  /** Aborts when the client goes away. */
  readonly signal?: AbortSignal | undefined;
}

/** A reply from the core handler. */
export interface MockReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** A complete body. */
  readonly body?: string;
  /** A streamed body; throwing {@link ConnectionReset} from it cuts the connection mid-body. */
  readonly stream?: AsyncIterable<string>;
  /** Drop the connection before sending any header. */
  readonly reset?: boolean;
}

/** Thrown inside a reply stream to cut the connection. */
export class ConnectionReset extends Error {
  override readonly name = 'ConnectionReset';
}

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** Default of `MockOptions.maxBodyBytes`: 16 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * A request body passed `maxBodyBytes`: `bytes()`/`text()` reject with it as soon as the count is
 * passed (the rest is never buffered), and the core answers {@link tooLargeReply}.
 */
export class BodyTooLarge extends Error {
  override readonly name = 'BodyTooLarge';
  readonly maxBodyBytes: number;
  constructor(maxBodyBytes: number) {
    super(`request body larger than ${maxBodyBytes} bytes`);
    this.maxBodyBytes = maxBodyBytes;
  }
}

/**
 * What api.openai.com answers to a body over its size limit: Cloudflare's own 413 page (the edge refuses
 * it before the API sees it), as clients report it (see openai/codex#2908).
 */
export function tooLargeReply(headers: Record<string, string>): MockReply {
  return {
    status: 413,
    headers: { ...headers, 'content-type': 'text/html' },
    body: '<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n',
  };
}

/**
 * The 500 an adapter sends when the platform refuses a reply's headers (node's writer or `new Response`
 * throws): an OpenAI-shaped `server_error` body naming the problem, instead of a crash.
 */
export function unsendableReply(err: unknown): MockReply {
  const why = err instanceof Error ? err.message : String(err);
  const body = JSON.stringify({
    error: { message: `The mock could not send its reply headers (${why.slice(0, 200)}).`, type: 'server_error', param: null, code: 'server_error' },
  });
  return { status: 500, headers: { 'content-type': 'application/json' }, body };
}

/** A declared `content-length` over `max` (a body that cannot fit, refused before reading). */
export function declaredTooLarge(contentLength: string | undefined, max: number): boolean {
  if (contentLength === undefined || max === Infinity) return false;
  const n = Number(contentLength);
  return Number.isFinite(n) && n > max;
}

/** Reads a web stream into one array, cancelling it (and rejecting) once it passes `max` bytes. */
async function readLimited(stream: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array> {
  if (stream === null) return EMPTY;
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLarge(max);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** The error undici's fetch gives for a socket reset (`TypeError: fetch failed`, cause ECONNRESET). */
export function fetchResetError(phase: 'headers' | 'body'): TypeError {
  const cause = Object.assign(new Error(phase === 'headers' ? 'read ECONNRESET' : 'other side closed'), {
    code: phase === 'headers' ? 'ECONNRESET' : 'UND_ERR_SOCKET',
    ...(phase === 'headers' ? { errno: -104, syscall: 'read' } : {}),
  });
  return new TypeError(phase === 'headers' ? 'fetch failed' : 'terminated', { cause });
}


function headerGetter(init: HeadersInit | undefined): (name: string) => string | undefined {
  if (init === undefined) return () => undefined;
  if (init instanceof Headers) return (n) => init.get(n) ?? undefined;
  if (Array.isArray(init)) {
    const h = new Headers(init as [string, string][]);
    return (n) => h.get(n) ?? undefined;
  }
  const rec = init as Record<string, string | readonly string[] | undefined>;
  const lower = new Map<string, string>();
  for (const k of Object.keys(rec)) {
    const v = rec[k];
    if (v !== undefined && v !== null) lower.set(k.toLowerCase(), Array.isArray(v) ? v.join(', ') : String(v));
  }
  return (n) => lower.get(n);
}

/**
 * What the mock's `fetch` accepts: a string, a URL, a Request, or the looser shapes openai v4's shims
 * declare (`{ href }` URL-likes, `{ url }` Request-likes), so it type-checks as every major's `fetch`.
 */
export type FetchInput = string | URL | Request | { readonly href: string } | { readonly url: string };

/**
 * The `init` the mock's `fetch` accepts: the fields it reads, typed loosely so that both the DOM
 * `RequestInit` and the node-fetch one of openai v4's shims are accepted. Header bags may be a
 * `Headers`, an array of pairs or a record; the body a string or anything `new Request()` takes.
 */
export interface FetchInit {
  readonly method?: string | undefined;
  readonly headers?: unknown;
  readonly body?: unknown;
  readonly signal?: unknown;
}

function signalOf(v: unknown): AbortSignal | undefined {
  return v instanceof AbortSignal ? v : undefined;
}

/**
 * Builds a {@link MockRequest} from `fetch(input, init)` arguments without copying a string body. A body
 * over `maxBodyBytes` makes `bytes()`/`text()` reject with {@link BodyTooLarge}: a declared
 * `content-length` or a string is refused before it is read, a stream is read only up to the limit.
 */
export function requestFromFetch(input: FetchInput, init?: FetchInit, maxBodyBytes: number = DEFAULT_MAX_BODY_BYTES): MockRequest {
  if (input instanceof Request && init === undefined) {
    const u = new URL(input.url);
    let cached: Promise<Uint8Array> | undefined;
    const bytes = (): Promise<Uint8Array> =>
      (cached ??= declaredTooLarge(input.headers.get('content-length') ?? undefined, maxBodyBytes)
        ? Promise.reject(new BodyTooLarge(maxBodyBytes))
        : readLimited(input.body, maxBodyBytes));
    return {
      method: input.method.toUpperCase(),
      url: u.pathname + u.search,
      header: (n) => input.headers.get(n) ?? undefined,
      bytes,
      text: async () => new TextDecoder().decode(await bytes()),
      signal: input.signal,
    };
  }
  const href =
    typeof input === 'string' ? input : 'href' in input ? input.href : input.url; // Request has `url`, URL has `href`
  const u = new URL(href, 'http://mock');
  const body = init?.body;
  const header = headerGetter((init?.headers as HeadersInit | undefined) ?? (input instanceof Request ? input.headers : undefined));
  let cached: Promise<Uint8Array> | undefined;
  let contentTypeOverride: string | undefined;
  const bytes = (): Promise<Uint8Array> => {
    if (cached) return cached;
    if (body === undefined || body === null) return (cached = Promise.resolve(EMPTY));
    if (typeof body === 'string') {
      // A string of n UTF-16 units is at least n UTF-8 bytes: a long one is refused without encoding it.
      const encoded = body.length > maxBodyBytes ? undefined : encoder.encode(body);
      return (cached = encoded === undefined || encoded.byteLength > maxBodyBytes ? Promise.reject(new BodyTooLarge(maxBodyBytes)) : Promise.resolve(encoded));
    }
    // FormData, streams, blobs...: let the platform serialise them (sets the multipart boundary too).
    // The cast: `duplex` is not in the DOM lib's RequestInit yet, and body/headers were typed loosely.
    const r = new Request(u, { method: init?.method ?? 'POST', body, headers: init?.headers ?? {}, duplex: 'half' } as unknown as RequestInit);
    contentTypeOverride = r.headers.get('content-type') ?? undefined;
    return (cached = readLimited(r.body, maxBodyBytes));
  };
  return {
    method: (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase(),
    url: u.pathname + u.search,
    header: (n) => (n === 'content-type' && contentTypeOverride !== undefined ? contentTypeOverride : header(n)),
    bytes,
    text: async () => {
      const b = await bytes(); // the size check, for a string too
      return typeof body === 'string' ? body : new TextDecoder().decode(b);
    },
    signal: signalOf(init?.signal) ?? (input instanceof Request ? input.signal : undefined),
  };
}

/**
 * Converts a reply to a WHATWG `Response`; throws the undici-like error for a reset before headers. A
 * reply whose headers a `Response` refuses becomes {@link unsendableReply}'s 500, never a throw. When
 * `signal` aborts while a streamed body is being read, the body errors with the signal's reason (as
 * fetch's does) and the reply's stream is ended.
 */
export function replyToResponse(reply: MockReply, signal?: AbortSignal): Response {
  if (reply.reset) throw fetchResetError('headers');
  let headers: Headers;
  try {
    headers = new Headers(reply.headers);
  } catch (err) {
    const fallback = unsendableReply(err);
    return new Response(fallback.body, { status: fallback.status, headers: fallback.headers });
  }
  const init: ResponseInit = { status: reply.status, headers };
  if (reply.stream === undefined) return new Response(reply.body ?? '', init);
  const iterator = reply.stream[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const release = (): void => {
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (signal === undefined) return;
      onAbort = (): void => {
        controller.error(abortReason(signal));
        void Promise.resolve(iterator.return?.()).catch(() => undefined);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    },
    async pull(controller) {
      try {
        const { value, done } = await iterator.next();
        if (signal?.aborted === true) return; // already errored with the reason
        if (done) {
          release();
          controller.close();
        } else controller.enqueue(encoder.encode(value));
      } catch (err) {
        release();
        if (signal?.aborted !== true) controller.error(err instanceof ConnectionReset ? fetchResetError('body') : err);
      }
    },
    async cancel() {
      release();
      await iterator.return?.();
    },
  });
  return new Response(body, init);
}
