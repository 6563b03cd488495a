/**
 * The mock OpenAI server core: one handler from {@link MockRequest} to {@link MockReply}, exposed as a
 * WHATWG `fetch` for in-process use. The request pipeline is here; each resource answers its own
 * routes (resources/*.ts). State lives in the {@link Mock} instance; time comes only from its clock.
 *
 * The pipeline, in order: sweep due webhooks → route (404 for an unknown one) → API key (401) → body
 * (400) → the key's model access (404) → rate limits (429) → scenario rules (delay, reset, HTTP fault) → the resource → faults applied
 * after the reply (header stripping, mid-body reset) → one log entry.
 *
 * A new endpoint is a new file under resources/ whose class lists its `routes` (method, path segments,
 * body kind, handler), plus its instance in the route table of {@link createMock}.
 */
import { abortReason, raceAbort } from '../internal/abort.ts';
import { sleepFor, type Clock } from '../internal/clock.ts';
import type { ManualClock } from './clock.ts';
import { normaliseAzurePath } from './azure.ts';
import type { Body, Ctx, MockContext, Route } from './context.ts';
import { Admission, applyAfter, faultOf, httpFaultReply } from './faults.ts';
import { BodyTooLarge, replyToResponse, requestFromFetch, tooLargeReply, type FetchInit, type FetchInput, type MockReply, type MockRequest } from './http.ts';
import { MockLog } from './log.ts';
import { resolveMockOptions } from './options.ts';
import { ALL_PRESETS } from './presets.ts';
import { createPrng } from './prng.ts';
import { expectType, HttpError, invalid, invalidUrl, Replier, requireModel, typeName } from './reply.ts';
import { BatchesAndFiles } from './resources/batches-files.ts';
import { Chat } from './resources/chat.ts';
import { mayUse, modelNotFound, Models } from './resources/models.ts';
import { Responses } from './resources/responses.ts';
import { WebhookSweep } from './resources/webhook-sweep.ts';
import { ScenarioMatcher } from './scenario.ts';
import type { MockLogEntry, MockOptions } from './types.ts';
import { WebhookSender } from './webhooks.ts';
import { errorEnvelope, INVALID_JSON_MESSAGE, MISSING_KEY_MESSAGE } from './wire.ts';

/** A running mock. */
export interface Mock {
  /**
   * A WHATWG fetch answering as the OpenAI API would: pass it as the `fetch` option of the `openai`
   * SDK (any major) with any `baseURL` ending in `/v1`. A connection reset rejects like undici does.
   * (openai v4 declares node-fetch's `Response` type for its `fetch` option: cast there, `as any`.)
   *
   * The caller's `signal` is honoured as `fetch` honours it: an aborted signal rejects with its reason
   * (an `AbortError` `DOMException` when none was given) before the request reaches the mock, while it
   * waits (a `delay` fault) or while its body streams; the mock logs such an attempt with status `null`.
   */
  readonly fetch: (input: FetchInput, init?: FetchInit) => Promise<Response>;
  /** The core handler (used by adapters such as `listen()`). */
  readonly handle: (req: MockRequest) => Promise<MockReply>;
  /** The request body limit in bytes (`maxBodyBytes`), for adapters that read bodies themselves. */
  readonly maxBodyBytes: number;
  /** The ground-truth log: every attempt, in order. Append-only. */
  readonly log: readonly MockLogEntry[];
  /** The clock the mock reads. */
  readonly clock: Clock;
  /** The mock's current time, epoch ms. */
  now(): number;
  /**
   * Advances a manual clock by `ms` and lets everything that falls due run (background transitions,
   * webhook deliveries and retries, stream pacing, delays).
   * @throws TypeError when the mock was not given a manual clock.
   */
  advance(ms: number): Promise<void>;
  /** Resolves once every webhook delivery started so far (with its retries) has ended. */
  webhooksIdle(): Promise<void>;
  /** Stops timers and webhook retries. Idempotent. */
  close(): Promise<void>;
}

/** The real 401 with no key, and the invalid-key one. */
const NO_KEY = new HttpError(401, errorEnvelope(MISSING_KEY_MESSAGE, 'invalid_request_error'), 'unauthorized');
const BAD_KEY = new HttpError(401, ALL_PRESETS.invalid_api_key.body, 'unauthorized');

/** The real API's answer to a non-positive token limit. */
const TOKEN_LIMITS = ['max_tokens', 'max_completion_tokens', 'max_output_tokens'] as const;

function isAbort(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';
}

function readKey(req: MockRequest): string | undefined {
  const auth = req.header('authorization');
  if (auth !== undefined) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1];
  }
  return req.header('api-key') ?? undefined;
}

/** Parses a JSON object body and checks what the real API checks before doing anything. */
async function readBody(req: MockRequest, ctx: Ctx, route: Route, deployment: string | undefined): Promise<Body> {
  const text = await req.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid(INVALID_JSON_MESSAGE);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid(`Invalid type for body: expected an object, but got ${typeName(parsed)} instead.`, null, 'invalid_type');
  }
  const body = parsed as Body;
  if (deployment !== undefined && body['model'] === undefined) body['model'] = deployment;
  if (route.body !== 'inference') {
    if (typeof body['model'] === 'string') ctx.model = body['model'];
    return body;
  }
  ctx.model = requireModel(body);
  expectType(body, 'stream', 'boolean');
  expectType(body, 'background', 'boolean');
  expectType(body, 'store', 'boolean');
  for (const key of TOKEN_LIMITS) expectType(body, key, 'integer');
  for (const key of TOKEN_LIMITS) {
    const v = body[key];
    if (typeof v === 'number' && v < 1) {
      throw invalid(`Invalid '${key}': integer below minimum value. Expected a value >= 1, but got ${v} instead.`, key, 'integer_below_min_value');
    }
  }
  expectType(body, 'metadata', 'object');
  ctx.stream = body['stream'] === true;
  ctx.background = body['background'] === true;
  return body;
}

/** The route for a method and the path segments after `/v1/`, and the `:id` segment it captured. */
function findRoute(routes: readonly Route[], method: string, seg: readonly string[]): { route: Route; id: string } | undefined {
  for (const route of routes) {
    if (route.method !== method || route.path.length !== seg.length) continue;
    let id = '';
    let ok = true;
    for (let i = 0; i < seg.length; i++) {
      const want = route.path[i]!;
      if (want === ':id') id = seg[i]!;
      else if (want !== seg[i]) {
        ok = false;
        break;
      }
    }
    if (ok) return { route, id };
  }
  return undefined;
}

/**
 * Creates a mock OpenAI server (in-process; see `listen()` to serve it over HTTP).
 *
 * @throws TypeError/RangeError when an option is malformed (`createMock: options.x must be …, got …`).
 */
export function createMock(options: MockOptions = {}): Mock {
  const o = resolveMockOptions(options);
  const clock = o.clock;
  const rng = createPrng(o.seed);
  const ids = createPrng(o.seed ^ 0x5eed1d5);
  const newId = (prefix: string, n = 48): string => prefix + ids.hex(n);
  const log = new MockLog(clock, o.maxLogEntries, o.onLog);
  const closing = new AbortController();
  const sender = o.webhooks === undefined ? undefined : new WebhookSender(o.webhooks, clock, closing.signal, () => rng.next(), (e) => log.webhook(e));
  const reply = new Replier(o.azure, o.organization, clock);
  const m: MockContext = {
    options: o,
    clock,
    reply,
    matcher: new ScenarioMatcher(o.scenario, () => rng.next()),
    webhooks: new WebhookSweep(sender, clock, closing.signal, () => newId('evt_', 32)),
    newId,
  };
  const admission = o.limits === undefined ? undefined : new Admission(o.limits, { countRejected: o.countRejected, charge: o.charge, organization: o.organization, replyText: o.reply, azure: o.azure }, reply);
  const responses = new Responses(m);
  const chat = new Chat(m);
  const routes: readonly Route[] = [
    ...responses.routes,
    ...chat.routes,
    ...new Models(m).routes,
    ...new BatchesAndFiles(m, {
      '/v1/chat/completions': (ctx, body, faults) => chat.batchLine(ctx, body, faults),
      '/v1/responses': (ctx, body, faults) => responses.batchLine(ctx, body, faults),
    }).routes,
  ];

  async function route(req: MockRequest, ctx: Ctx): Promise<MockReply> {
    const deployment = o.azure ? normaliseAzurePath(ctx) : undefined;
    const seg = ctx.path.split('/');
    // seg[0] === '' and seg[1] === 'v1'
    if (seg[1] !== 'v1' || seg.length < 3) throw invalidUrl(ctx);
    const found = findRoute(routes, ctx.method, seg.slice(2));
    if (found === undefined) throw invalidUrl(ctx);
    const { route: r, id } = found;

    if (ctx.key === undefined || ctx.key === '') throw NO_KEY;
    if (o.apiKeys !== undefined && !o.apiKeys.has(ctx.key)) throw BAD_KEY;

    const body = r.body === undefined ? {} : await readBody(req, ctx, r, deployment);
    if (r.body === 'inference' && o.modelAccess.size > 0 && !mayUse(m, ctx, ctx.model!)) throw modelNotFound(ctx.model!);

    // The rate limiter goes first: a rejected attempt never reaches the scenario, so a rule's `nth`
    // counts requests the service accepted, and a 429 is never mislabelled as an injected fault.
    if (r.body === 'inference' && admission !== undefined) {
      const limited = admission.admit(ctx, body);
      if (limited) return limited;
    }

    if (!m.matcher.empty) {
      const hit = m.matcher.match({ path: ctx.path, method: ctx.method, model: ctx.model, key: ctx.key, stream: ctx.stream, background: ctx.background, batch: false });
      if (hit) {
        ctx.faults = hit.faults;
        ctx.fault = `${hit.id}:${hit.faults.map((f) => f.type).join('+')}`;
      }
    }

    for (const f of ctx.faults) {
      if (f.type === 'delay') await sleepFor(clock, f.ms, req.signal);
    }
    const reset = faultOf(ctx.faults, 'reset');
    if (reset && (reset.when ?? 'before_headers') === 'before_headers') {
      ctx.outcome = 'fault';
      return { status: 0, headers: {}, reset: true };
    }
    const http = faultOf(ctx.faults, 'http');
    if (http) {
      ctx.outcome = 'fault';
      return httpFaultReply(reply, ctx, http);
    }
    return r.handler(req, ctx, body, id);
  }

  async function handle(req: MockRequest): Promise<MockReply> {
    m.webhooks.sweep();
    const key = readKey(req);
    const q = req.url.indexOf('?');
    const ctx: Ctx = {
      t: clock.now(),
      requestId: newId('req_', 32),
      benchId: req.header('x-bench-id') ?? null,
      key,
      keyId: log.keyId(key),
      method: req.method,
      path: q < 0 ? req.url : req.url.slice(0, q),
      query: q < 0 ? undefined : new URLSearchParams(req.url.slice(q + 1)),
      model: undefined,
      stream: false,
      background: false,
      cost: 0,
      admitted: true,
      outcome: 'ok',
      fault: null,
      objectId: null,
      faults: [],
      rate: undefined,
    };
    let out: MockReply;
    try {
      out = await route(req, ctx);
    } catch (err) {
      // The client went away: there is nobody to answer, whatever the wait rejected with (the signal's
      // reason may be any value, not only an AbortError).
      if (req.signal?.aborted === true || isAbort(err)) {
        ctx.outcome = ctx.fault ? 'fault' : ctx.outcome;
        log.request(ctx, null);
        throw err;
      }
      if (err instanceof HttpError) {
        if (ctx.outcome === 'ok') ctx.outcome = err.outcome;
        out = reply.json(ctx, err.status, err.body);
      } else if (err instanceof BodyTooLarge) {
        ctx.outcome = 'request_too_large';
        out = tooLargeReply(reply.baseHeaders(ctx));
      } else {
        // A bug in the mock must still answer like a server, never crash the host.
        out = reply.json(ctx, 500, errorEnvelope('The mock server had an internal error.', 'server_error', 'server_error'));
      }
    }
    out = applyAfter(ctx, out, o.strip);
    log.request(ctx, out.reset ? null : out.status);
    return out;
  }

  let closed = false;
  return {
    fetch: (input, init) => {
      const req = requestFromFetch(input, init, o.maxBodyBytes);
      const signal = req.signal;
      // As fetch does: an aborted signal never sends the request, a later abort rejects at once.
      if (signal?.aborted === true) return Promise.reject(abortReason(signal));
      return raceAbort(
        handle(req).then((out) => replyToResponse(out, signal)),
        signal,
      );
    },
    handle,
    maxBodyBytes: o.maxBodyBytes,
    log: log.entries,
    clock: o.givenClock,
    now: () => clock.now(),
    advance: async (ms) => {
      const manual = o.givenClock as Partial<ManualClock>;
      if (typeof manual.advance !== 'function') throw new TypeError('advance(): the mock was not created with a manual clock');
      await manual.advance(ms);
      m.webhooks.sweep();
    },
    webhooksIdle: () => m.webhooks.idle(),
    close: async () => {
      if (closed) return;
      closed = true;
      closing.abort();
      await sender?.idle().catch(() => {});
    },
  };
}
