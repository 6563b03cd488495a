/**
 * The mock's neutral request/reply shapes and the Web `fetch` adapter.
 *
 * The core handler works on {@link MockRequest}/{@link MockReply} rather than on `Request`/`Response`
 * objects so that the node adapter can skip building WHATWG objects per request (a large share of the
 * cost at benchmark rates); the `fetch` adapter here converts both ways for in-process use.
 */

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

/** The error undici's fetch gives for a socket reset (`TypeError: fetch failed`, cause ECONNRESET). */
export function fetchResetError(phase: 'headers' | 'body'): TypeError {
  const cause = Object.assign(new Error(phase === 'headers' ? 'read ECONNRESET' : 'other side closed'), {
    code: phase === 'headers' ? 'ECONNRESET' : 'UND_ERR_SOCKET',
    ...(phase === 'headers' ? { errno: -104, syscall: 'read' } : {}),
  });
  return new TypeError(phase === 'headers' ? 'fetch failed' : 'terminated', { cause });
}

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

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

/** Builds a {@link MockRequest} from `fetch(input, init)` arguments without copying a string body. */
export function requestFromFetch(input: FetchInput, init?: FetchInit): MockRequest {
  if (input instanceof Request && init === undefined) {
    const u = new URL(input.url);
    let cached: Promise<Uint8Array> | undefined;
    const bytes = (): Promise<Uint8Array> => (cached ??= input.arrayBuffer().then((b) => new Uint8Array(b)));
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
    if (typeof body === 'string') return (cached = Promise.resolve(encoder.encode(body)));
    // FormData, streams, blobs...: let the platform serialise them (sets the multipart boundary too).
    // The cast: `duplex` is not in the DOM lib's RequestInit yet, and body/headers were typed loosely.
    const r = new Request(u, { method: init?.method ?? 'POST', body, headers: init?.headers ?? {}, duplex: 'half' } as unknown as RequestInit);
    contentTypeOverride = r.headers.get('content-type') ?? undefined;
    return (cached = r.arrayBuffer().then((b) => new Uint8Array(b)));
  };
  return {
    method: (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase(),
    url: u.pathname + u.search,
    header: (n) => (n === 'content-type' && contentTypeOverride !== undefined ? contentTypeOverride : header(n)),
    bytes,
    text: async () => (typeof body === 'string' ? body : new TextDecoder().decode(await bytes())),
    signal: signalOf(init?.signal) ?? (input instanceof Request ? input.signal : undefined),
  };
}

/** Converts a reply to a WHATWG `Response`; throws the undici-like error for a reset before headers. */
export function replyToResponse(reply: MockReply): Response {
  if (reply.reset) throw fetchResetError('headers');
  const init: ResponseInit = { status: reply.status, headers: reply.headers };
  if (reply.stream === undefined) return new Response(reply.body ?? '', init);
  const iterator = reply.stream[Symbol.asyncIterator]();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(encoder.encode(value));
      } catch (err) {
        controller.error(err instanceof ConnectionReset ? fetchResetError('body') : err);
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });
  return new Response(body, init);
}
