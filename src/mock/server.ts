/**
 * The mock OpenAI server core: one handler from {@link MockRequest} to {@link MockReply}, exposed as a
 * WHATWG `fetch` for in-process use. State (stored Responses, files, batches, rate-limit buckets, rule
 * counters, the log) lives in the {@link Mock} instance; time comes only from the injected clock.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { sleepFor } from '../internal/clock.ts';
import { realClock, type ManualClock, type MockClock } from './clock.ts';
import { BodyTooLarge, ConnectionReset, DEFAULT_MAX_BODY_BYTES, replyToResponse, requestFromFetch, tooLargeReply, type FetchInit, type FetchInput, type MockReply, type MockRequest } from './http.ts';
import {
  chatChunks,
  chatCompletion,
  modelObject,
  responseEvents,
  responseObject,
  type ChatRecord,
  type Outcome,
  type ResponseRecord,
  type ResponseStatus,
  type TimedEvent,
} from './objects.ts';
import { ALL_PRESETS, type HttpPreset } from './presets.ts';
import { createPrng, type Prng } from './prng.ts';
import { costModel } from './cost.ts';
import { admit, newRateLimitState, type RateLimitConfig, type RateLimitSnapshot, type RateLimitState } from './ratelimit.ts';
import {
  parseScenario,
  ScenarioMatcher,
  type BatchFault,
  type Fault,
  type HttpFault,
  type OutcomeFault,
  type ResetFault,
  type StreamFault,
  type StripHeadersFault,
} from './scenario.ts';
import type { LogOutcome, MockLogEntry, MockOptions, RequestLogEntry, WebhookLogEntry } from './types.ts';
import { WebhookSender } from './webhooks.ts';
import {
  errorEnvelope,
  estimatePromptTokens,
  goDuration,
  INVALID_JSON_MESSAGE,
  MISSING_KEY_MESSAGE,
  sseData,
  sseEvent,
  textTokens,
  tryAgainIn,
} from './wire.ts';

/** A running mock. */
export interface Mock {
  /**
   * A WHATWG fetch answering as the OpenAI API would: pass it as the `fetch` option of the `openai`
   * SDK (any major) with any `baseURL` ending in `/v1`. A connection reset rejects like undici does.
   * (openai v4 declares node-fetch's `Response` type for its `fetch` option: cast there, `as any`.)
   */
  readonly fetch: (input: FetchInput, init?: FetchInit) => Promise<Response>;
  /** The core handler (used by adapters such as `listen()`). */
  readonly handle: (req: MockRequest) => Promise<MockReply>;
  /** The request body limit in bytes (`maxBodyBytes`), for adapters that read bodies themselves. */
  readonly maxBodyBytes: number;
  /** The ground-truth log: every attempt, in order. Append-only. */
  readonly log: readonly MockLogEntry[];
  /** The clock the mock reads. */
  readonly clock: MockClock;
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
  /** Stops timers and webhook retries and closes the log file. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_MODELS = ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1-mini', 'gpt-5-mini', 'o4-mini'];
const DEFAULT_STRIP = ['x-ratelimit-*', 'retry-after', 'retry-after-ms', 'x-request-id', 'x-should-retry'];
const JSON_TYPE = 'application/json';
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

interface Ctx {
  readonly t: number;
  readonly requestId: string;
  readonly benchId: string | null;
  readonly key: string | undefined;
  readonly keyId: string | null;
  readonly method: string;
  path: string;
  query: URLSearchParams | undefined;
  model: string | undefined;
  stream: boolean;
  background: boolean;
  cost: number;
  admitted: boolean;
  outcome: LogOutcome;
  fault: string | null;
  objectId: string | null;
  faults: readonly Fault[];
  rate: RateLimitSnapshot | undefined;
  batch: boolean;
}

interface StoredResponse {
  /** Replaced when a stream fault ends the run early (Azure's failed pair). */
  rec: ResponseRecord;
  readonly expiresAtMs: number;
  cancelledAtMs: number | undefined;
  readonly thenCompleted: boolean;
  deleted: boolean;
  events: TimedEvent[] | undefined;
  notified: boolean;
}

interface StoredFile {
  readonly id: string;
  readonly filename: string;
  readonly purpose: string;
  readonly createdAtMs: number;
  readonly content: string;
}

interface StoredBatch {
  readonly id: string;
  readonly createdAtMs: number;
  readonly endpoint: string;
  readonly inputFileId: string;
  readonly completionWindow: string;
  readonly metadata: Record<string, string> | null;
  readonly outputLines: string[];
  readonly errorLines: string[];
  readonly total: number;
  readonly failed: number;
  readonly outputFileId: string;
  readonly errorFileId: string;
  readonly fault: BatchFault | undefined;
  cancelledAtMs: number | undefined;
  filesWritten: boolean;
  notified: boolean;
}

type Body = Record<string, unknown>;

class HttpError {
  readonly status: number;
  readonly body: unknown;
  readonly outcome: LogOutcome;
  constructor(status: number, body: unknown, outcome: LogOutcome) {
    this.status = status;
    this.body = body;
    this.outcome = outcome;
  }
}

function invalid(message: string, param: string | null = null, code: string | null = null): HttpError {
  return new HttpError(400, errorEnvelope(message, 'invalid_request_error', code, param), 'invalid_request');
}

function notFound(message: string): HttpError {
  return new HttpError(404, errorEnvelope(message, 'invalid_request_error'), 'not_found');
}

function isAbort(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a decimal';
  return `a ${typeof v}`;
}

function expectType(body: Body, key: string, kind: 'string' | 'boolean' | 'integer' | 'number' | 'object'): void {
  const v = body[key];
  if (v === undefined || v === null) return;
  const ok =
    kind === 'integer' ? Number.isInteger(v) : kind === 'object' ? typeof v === 'object' && !Array.isArray(v) : typeof v === kind;
  if (!ok) {
    const want = kind === 'integer' ? 'an integer' : kind === 'object' ? 'an object' : `a ${kind}`;
    throw invalid(`Invalid type for '${key}': expected ${want}, but got ${typeName(v)} instead.`, key, 'invalid_type');
  }
}

function requireModel(body: Body): string {
  const m = body['model'];
  if (m === undefined || m === null || m === '') throw invalid("Missing required parameter: 'model'.", 'model', 'missing_required_parameter');
  if (typeof m !== 'string') throw invalid(`Invalid type for 'model': expected a string, but got ${typeName(m)} instead.`, 'model', 'invalid_type');
  return m;
}

function positive(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v >= 0) || Number.isNaN(v)) throw new RangeError(`createMock: \`${name}\` must be a number >= 0`);
  return v;
}

/**
 * Creates a mock OpenAI server (in-process; see `listen()` to serve it over HTTP).
 *
 * @throws TypeError/RangeError when an option is malformed (the message names it).
 */
export function createMock(options: MockOptions = {}): Mock {
  return new MockServer(options).api();
}

class MockServer {
  readonly #clock: MockClock;
  readonly #rng: Prng;
  readonly #ids: Prng;
  readonly #matcher: ScenarioMatcher;
  readonly #limits: RateLimitConfig | undefined;
  readonly #countRejected: boolean;
  readonly #charge: ((body: Body, outputTokens: number) => number) | undefined;
  readonly #buckets = new Map<string, RateLimitState>();
  readonly #keyIds = new Map<string, string>();
  readonly #org: string;
  readonly #reply: string;
  readonly #models: readonly string[];
  readonly #apiKeys: ReadonlySet<string> | undefined;
  readonly #queuedMs: number;
  readonly #runMs: number;
  readonly #batchValidatingMs: number;
  readonly #batchRunMs: number;
  readonly #ttlMs: number;
  readonly #streamDelayMs: number;
  readonly #azure: boolean;
  readonly #strip: readonly string[] | undefined;
  readonly #maxLog: number;
  readonly #maxBodyBytes: number;
  readonly #log: MockLogEntry[] = [];
  #seq = 0;
  readonly #file: WriteStream | undefined;
  readonly #responses = new Map<string, StoredResponse>();
  readonly #files = new Map<string, StoredFile>();
  readonly #batches = new Map<string, StoredBatch>();
  /** Background Responses and batches whose terminal webhook is not sent yet (kept small for #sweep). */
  readonly #unnotified = new Set<StoredResponse>();
  readonly #unnotifiedBatches = new Set<StoredBatch>();
  readonly #closing = new AbortController();
  readonly #webhooks: WebhookSender | undefined;
  #closed = false;

  constructor(o: MockOptions) {
    if (typeof o !== 'object' || o === null) throw new TypeError('createMock: expected an options object');
    const seed = o.seed ?? 1;
    if (!Number.isInteger(seed)) throw new TypeError('createMock: `seed` must be an integer');
    this.#clock = o.clock ?? realClock;
    if (typeof this.#clock.now !== 'function' || typeof this.#clock.sleep !== 'function') {
      throw new TypeError('createMock: `clock` must have now() and sleep()');
    }
    this.#rng = createPrng(seed);
    this.#ids = createPrng(seed ^ 0x5eed1d5);
    this.#matcher = new ScenarioMatcher(parseScenario(o.scenario ?? []), () => this.#rng.next());
    if (o.rateLimit !== undefined) {
      const rpm = o.rateLimit.rpm ?? Infinity;
      const tpm = o.rateLimit.tpm ?? Infinity;
      if (!(rpm > 0)) throw new RangeError('createMock: `rateLimit.rpm` must be > 0');
      if (!(tpm > 0)) throw new RangeError('createMock: `rateLimit.tpm` must be > 0');
      const burstWindowMs = o.rateLimit.burstWindowMs ?? 60_000;
      if (!(burstWindowMs > 0)) throw new RangeError('createMock: `rateLimit.burstWindowMs` must be > 0');
      // An infinite limit is modelled as a huge one so the arithmetic stays finite.
      this.#limits = { rpm: Number.isFinite(rpm) ? rpm : 1e12, tpm: Number.isFinite(tpm) ? tpm : 1e15, burstWindowMs };
    }
    this.#countRejected = o.rateLimit?.countRejected ?? true;
    this.#charge = o.rateLimit?.cost === undefined ? undefined : costModel(o.rateLimit.cost);
    this.#org = o.organization ?? 'org-mock';
    this.#reply = o.reply ?? 'Hello from the faultline mock server.';
    if (typeof this.#reply !== 'string') throw new TypeError('createMock: `reply` must be a string');
    this.#models = o.models ?? DEFAULT_MODELS;
    this.#apiKeys = o.apiKeys ? new Set(o.apiKeys) : undefined;
    this.#queuedMs = positive('background.queuedMs', o.background?.queuedMs, 100);
    this.#runMs = positive('background.runMs', o.background?.runMs, 1000);
    this.#batchValidatingMs = positive('batch.validatingMs', o.batch?.validatingMs, 100);
    this.#batchRunMs = positive('batch.runMs', o.batch?.runMs, 1000);
    this.#ttlMs = positive('responseTtlMs', o.responseTtlMs, Infinity);
    this.#streamDelayMs = positive('streamDelayMs', o.streamDelayMs, 0);
    this.#azure = o.azure ?? false;
    const strip = o.stripHeaders ?? false;
    if (typeof strip !== 'boolean' && !Array.isArray(strip)) throw new TypeError('createMock: `stripHeaders` must be a boolean or an array of header names');
    this.#strip = strip === true ? DEFAULT_STRIP : strip === false || strip.length === 0 ? undefined : strip.map((h) => h.toLowerCase());
    this.#maxLog = positive('maxLogEntries', o.maxLogEntries, Infinity);
    const maxBody = o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    if (typeof maxBody !== 'number' || !(maxBody >= 1) || (!Number.isInteger(maxBody) && maxBody !== Infinity)) {
      throw new RangeError('createMock: options.maxBodyBytes must be an integer >= 1 (bytes) or Infinity');
    }
    this.#maxBodyBytes = maxBody;
    if (o.log !== undefined) {
      if (typeof o.log !== 'string' || o.log === '') throw new TypeError('createMock: `log` must be a file path');
      this.#file = createWriteStream(o.log, { flags: 'a' });
      this.#file.on('error', () => {}); // a log file problem must never crash the server
    }
    if (o.webhooks !== undefined) {
      this.#webhooks = new WebhookSender(o.webhooks, this.#clock, this.#closing.signal, () => this.#rng.next(), (e) =>
        this.#append({ kind: 'webhook', seq: 0, t: 0, ...e } satisfies WebhookLogEntry),
      );
    }
  }

  api(): Mock {
    const handle = (req: MockRequest): Promise<MockReply> => this.handle(req);
    const clock = this.#clock;
    const maxBodyBytes = this.#maxBodyBytes;
    return {
      fetch: async (input, init) => replyToResponse(await handle(requestFromFetch(input, init, maxBodyBytes))),
      handle,
      maxBodyBytes,
      log: this.#log,
      clock,
      now: () => clock.now(),
      advance: async (ms) => {
        const manual = clock as Partial<ManualClock>;
        if (typeof manual.advance !== 'function') throw new TypeError('advance(): the mock was not created with a manual clock');
        await manual.advance(ms);
        this.#sweep();
      },
      webhooksIdle: async () => {
        this.#sweep();
        await this.#webhooks?.idle();
      },
      close: () => this.close(),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    await this.#webhooks?.idle().catch(() => {});
    const file = this.#file;
    if (file) await new Promise<void>((resolve) => file.end(resolve));
  }

  // -------------------------------------------------------------------------------------------------
  // Log
  // -------------------------------------------------------------------------------------------------

  #append(entry: MockLogEntry): void {
    this.#record({ ...entry, seq: ++this.#seq, t: this.#clock.now() } as MockLogEntry);
  }

  /** Keep a numbered entry in memory (bounded, see #trimLog) and in the log file. */
  #record(full: MockLogEntry): void {
    this.#log.push(full);
    this.#trimLog();
    this.#file?.write(JSON.stringify(full) + '\n');
  }

  /**
   * Keep at most `maxLogEntries`. The oldest go in batches of an eighth of it, so one append costs
   * amortised O(1): shifting one entry off a long array moves all the others every time.
   */
  #trimLog(): void {
    const log = this.#log;
    const max = this.#maxLog;
    if (log.length > max) log.splice(0, Math.ceil(log.length - max) + Math.floor(max / 8));
  }

  #logRequest(ctx: Ctx, status: number | null): void {
    const entry: RequestLogEntry = {
      kind: 'request',
      seq: 0,
      t: ctx.t,
      requestId: ctx.requestId,
      benchId: ctx.benchId,
      key: ctx.keyId,
      method: ctx.method,
      path: ctx.path,
      model: ctx.model ?? null,
      stream: ctx.stream,
      background: ctx.background,
      cost: ctx.cost,
      admitted: ctx.admitted,
      outcome: ctx.outcome,
      status,
      fault: ctx.fault,
      objectId: ctx.objectId,
    };
    this.#record({ ...entry, seq: ++this.#seq });
  }

  // -------------------------------------------------------------------------------------------------
  // Request pipeline
  // -------------------------------------------------------------------------------------------------

  #keyId(key: string | undefined): string | null {
    if (key === undefined) return null;
    let id = this.#keyIds.get(key);
    if (id === undefined) {
      id = 'key_' + createHash('sha256').update(key).digest('hex').slice(0, 8);
      this.#keyIds.set(key, id);
    }
    return id;
  }

  async handle(req: MockRequest): Promise<MockReply> {
    this.#sweep();
    const key = this.#readKey(req);
    const q = req.url.indexOf('?');
    const ctx: Ctx = {
      t: this.#clock.now(),
      requestId: 'req_' + this.#ids.hex(32),
      benchId: req.header('x-bench-id') ?? null,
      key,
      keyId: this.#keyId(key),
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
      batch: false,
    };
    let reply: MockReply;
    try {
      reply = await this.#route(req, ctx);
    } catch (err) {
      if (isAbort(err)) {
        ctx.outcome = ctx.fault ? 'fault' : ctx.outcome;
        this.#logRequest(ctx, null);
        throw err;
      }
      if (err instanceof HttpError) {
        if (ctx.outcome === 'ok') ctx.outcome = err.outcome;
        reply = this.#json(ctx, err.status, err.body);
      } else if (err instanceof BodyTooLarge) {
        ctx.outcome = 'request_too_large';
        reply = tooLargeReply(this.#baseHeaders(ctx));
      } else {
        // A bug in the mock must still answer like a server, never crash the host.
        reply = this.#json(ctx, 500, errorEnvelope('The mock server had an internal error.', 'server_error', 'server_error'));
      }
    }
    reply = this.#applyAfter(ctx, reply);
    this.#logRequest(ctx, reply.reset ? null : reply.status);
    return reply;
  }

  #readKey(req: MockRequest): string | undefined {
    const auth = req.header('authorization');
    if (auth !== undefined) {
      const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
      if (m) return m[1];
    }
    return req.header('api-key') ?? undefined;
  }

  /** Maps Azure paths onto the OpenAI ones; returns the deployment name when the path has one. */
  #normalisePath(ctx: Ctx): string | undefined {
    if (!this.#azure || !ctx.path.startsWith('/openai/')) return undefined;
    const dep = /^\/openai\/deployments\/([^/]+)(\/.*)$/.exec(ctx.path);
    if (dep) {
      ctx.path = '/v1' + dep[2]!;
      return decodeURIComponent(dep[1]!);
    }
    ctx.path = ctx.path.startsWith('/openai/v1/') ? ctx.path.slice('/openai'.length) : '/v1' + ctx.path.slice('/openai'.length);
    return undefined;
  }

  async #route(req: MockRequest, ctx: Ctx): Promise<MockReply> {
    const deployment = this.#normalisePath(ctx);
    const seg = ctx.path.split('/');
    // seg[0] === '' and seg[1] === 'v1'
    if (seg[1] !== 'v1' || seg.length < 3) throw this.#invalidUrl(ctx);
    const resource = seg[2];
    const id = seg[3];
    const action = seg[4];
    const m = ctx.method;
    let handler: ((body: Body) => Promise<MockReply> | MockReply) | undefined;
    let needsBody = false;
    let inference = false;
    if (resource === 'responses') {
      if (id === undefined && m === 'POST') (handler = (b) => this.#createResponse(req, ctx, b)), (needsBody = inference = true);
      else if (id !== undefined && action === undefined && m === 'GET') handler = () => this.#getResponse(req, ctx, id);
      else if (id !== undefined && action === undefined && m === 'DELETE') handler = () => this.#deleteResponse(ctx, id);
      else if (id !== undefined && action === 'cancel' && seg.length === 5 && m === 'POST') handler = () => this.#cancelResponse(ctx, id);
    } else if (resource === 'chat' && id === 'completions' && seg.length === 4 && m === 'POST') {
      handler = (b) => this.#chat(req, ctx, b);
      needsBody = inference = true;
    } else if (resource === 'models' && m === 'GET' && seg.length <= 4) {
      handler = () => this.#listModels(ctx, id);
    } else if (resource === 'files') {
      if (id === undefined && m === 'POST') handler = () => this.#createFile(req, ctx);
      else if (id !== undefined && action === undefined && m === 'GET') handler = () => this.#getFile(ctx, id, false);
      else if (id !== undefined && action === 'content' && m === 'GET') handler = () => this.#getFile(ctx, id, true);
    } else if (resource === 'batches') {
      if (id === undefined && m === 'POST') (handler = (b) => this.#createBatch(ctx, b)), (needsBody = true);
      else if (id !== undefined && action === undefined && m === 'GET') handler = () => this.#getBatch(ctx, id);
      else if (id !== undefined && action === 'cancel' && m === 'POST') handler = () => this.#cancelBatch(ctx, id);
    }
    if (handler === undefined) throw this.#invalidUrl(ctx);

    if (ctx.key === undefined || ctx.key === '') {
      throw new HttpError(401, errorEnvelope(MISSING_KEY_MESSAGE, 'invalid_request_error'), 'unauthorized');
    }
    if (this.#apiKeys !== undefined && !this.#apiKeys.has(ctx.key)) {
      throw new HttpError(401, ALL_PRESETS.invalid_api_key.body, 'unauthorized');
    }

    let body: Body = {};
    if (needsBody) {
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
      body = parsed as Body;
      if (deployment !== undefined && body['model'] === undefined) body['model'] = deployment;
      if (inference) {
        ctx.model = requireModel(body);
        expectType(body, 'stream', 'boolean');
        expectType(body, 'background', 'boolean');
        expectType(body, 'store', 'boolean');
        expectType(body, 'max_tokens', 'integer');
        expectType(body, 'max_completion_tokens', 'integer');
        expectType(body, 'max_output_tokens', 'integer');
        // The real API's answer to a non-positive token limit.
        for (const [key, min] of [['max_tokens', 1], ['max_completion_tokens', 1], ['max_output_tokens', 1]] as const) {
          const v = body[key];
          if (typeof v === 'number' && v < min) {
            throw invalid(`Invalid '${key}': integer below minimum value. Expected a value >= ${min}, but got ${v} instead.`, key, 'integer_below_min_value');
          }
        }
        expectType(body, 'metadata', 'object');
        ctx.stream = body['stream'] === true;
        ctx.background = body['background'] === true;
      } else if (typeof body['model'] === 'string') ctx.model = body['model'];
    }

    // The rate limiter goes first: a rejected attempt never reaches the scenario, so a rule's `nth`
    // counts requests the service accepted, and a 429 is never mislabelled as an injected fault.
    if (inference && this.#limits !== undefined) {
      const limited = this.#admit(ctx, body);
      if (limited) return limited;
    }

    if (!this.#matcher.empty) {
      const hit = this.#matcher.match({
        path: ctx.path,
        method: m,
        model: ctx.model,
        key: ctx.key,
        stream: ctx.stream,
        background: ctx.background,
        batch: false,
      });
      if (hit) {
        ctx.faults = hit.faults;
        ctx.fault = `${hit.id}:${hit.faults.map((f) => f.type).join('+')}`;
      }
    }

    for (const f of ctx.faults) {
      if (f.type === 'delay') await sleepFor(this.#clock, f.ms, req.signal);
    }
    const reset = ctx.faults.find((f): f is ResetFault => f.type === 'reset');
    if (reset && (reset.when ?? 'before_headers') === 'before_headers') {
      ctx.outcome = 'fault';
      return { status: 0, headers: {}, reset: true };
    }
    const http = ctx.faults.find((f): f is HttpFault => f.type === 'http');
    if (http) {
      ctx.outcome = 'fault';
      return this.#httpFault(ctx, http);
    }
    return handler(body);
  }

  #invalidUrl(ctx: Ctx): HttpError {
    return new HttpError(
      404,
      errorEnvelope(`Invalid URL (${ctx.method} ${ctx.path})`, 'invalid_request_error'),
      'not_found',
    );
  }

  /** Rate limiting; returns the 429 reply when rejected. */
  #admit(ctx: Ctx, body: Body): MockReply | undefined {
    const cfg = this.#limits!;
    const maxOut = body['max_output_tokens'] ?? body['max_completion_tokens'] ?? body['max_tokens'];
    const prompt = estimatePromptTokens(body['messages'], body['input'], body['instructions']);
    const output = typeof maxOut === 'number' ? maxOut : textTokens(this.#reply);
    ctx.cost = this.#charge === undefined ? prompt + output : this.#charge(body, output);
    const bucketKey = ctx.key ?? '';
    let st = this.#buckets.get(bucketKey);
    if (st === undefined) this.#buckets.set(bucketKey, (st = newRateLimitState()));
    const a = admit(cfg, st, ctx.t, ctx.cost, this.#countRejected);
    ctx.rate = a.snapshot;
    if (a.ok) return undefined;
    ctx.admitted = false;
    const model = ctx.model ?? 'gpt-4o-mini';
    let message: string;
    if (a.reason === 'too_large') {
      ctx.outcome = 'request_too_large';
      message = `Request too large for ${model} in organization ${this.#org} on tokens per min (TPM): Limit ${cfg.tpm}, Requested ${ctx.cost}. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.`;
    } else {
      ctx.outcome = a.reason === 'requests' ? 'rate_limited_requests' : 'rate_limited_tokens';
      const what = a.reason === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
      const limit = a.reason === 'requests' ? cfg.rpm : cfg.tpm;
      const requested = a.reason === 'requests' ? 1 : ctx.cost;
      message = `Rate limit reached for ${model} in organization ${this.#org} on ${what}: Limit ${limit}, Used ${a.used}, Requested ${requested}. Please try again in ${tryAgainIn(a.retryAfterMs)}. Visit https://platform.openai.com/account/rate-limits to learn more.`;
    }
    const type = a.reason === 'requests' ? 'requests' : 'tokens';
    const reply = this.#json(
      ctx,
      429,
      this.#azure && a.reason !== 'too_large'
        ? {
            error: {
              code: '429',
              message: `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded ${a.reason === 'requests' ? 'call' : 'token'} rate limit of your current OpenAI S0 pricing tier. Please retry after ${Math.max(1, Math.ceil(a.retryAfterMs / 1000))} seconds. Please contact Azure support service if you would like to further increase the default rate limit.`,
            },
          }
        : errorEnvelope(message, type, 'rate_limit_exceeded'),
    );
    if (a.reason !== 'too_large') {
      reply.headers['retry-after'] = String(Math.max(1, Math.ceil(a.retryAfterMs / 1000)));
      reply.headers['retry-after-ms'] = String(Math.max(1, Math.ceil(a.retryAfterMs)));
    }
    return reply;
  }

  #httpFault(ctx: Ctx, f: HttpFault): MockReply {
    const preset: HttpPreset | undefined = f.preset !== undefined ? ALL_PRESETS[f.preset] : undefined;
    const status = f.status ?? preset?.status ?? 500;
    const body = f.body !== undefined ? f.body : preset?.body ?? errorEnvelope(`Injected HTTP ${status}.`, 'server_error');
    const reply =
      typeof body === 'string'
        ? this.#text(ctx, status, body, preset?.contentType ?? 'text/plain')
        : this.#json(ctx, status, body);
    Object.assign(reply.headers, preset?.headers, f.headers);
    if (f.shouldRetry !== undefined) reply.headers['x-should-retry'] = String(f.shouldRetry);
    return reply;
  }

  /** Header stripping (proxy mode or a rule) and mid-body resets, after the reply was built. */
  #applyAfter(ctx: Ctx, reply: MockReply): MockReply {
    if (reply.reset || (ctx.faults.length === 0 && this.#strip === undefined)) return reply;
    let out = reply;
    const rule = ctx.faults.find((f): f is StripHeadersFault => f.type === 'strip_headers');
    const patterns = rule ? (rule.headers ?? DEFAULT_STRIP) : this.#strip;
    if (patterns !== undefined) {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(out.headers)) {
        const drop = patterns.some((p) => (p.endsWith('*') ? k.startsWith(p.slice(0, -1)) : k === p));
        if (!drop) headers[k] = v;
      }
      out = { ...out, headers };
    }
    const reset = ctx.faults.find((f): f is ResetFault => f.type === 'reset');
    if (reset && reset.when === 'mid_body') {
      ctx.outcome = 'fault';
      const source = out.stream ?? (async function* (text: string) {
        yield text;
      })(out.body ?? '');
      const { stream: _s, body: _b, ...rest } = out;
      out = { ...rest, stream: cutAfter(source, reset.afterBytes) };
    }
    return out;
  }

  #baseHeaders(ctx: Ctx): Record<string, string> {
    const h: Record<string, string> = { 'x-request-id': ctx.requestId };
    if (this.#azure) {
      h['apim-request-id'] = ctx.requestId.slice(4);
      h['x-ms-region'] = 'East US';
    } else {
      h['openai-organization'] = this.#org;
      h['openai-version'] = '2020-10-01';
    }
    const r = ctx.rate;
    if (r !== undefined) {
      h['x-ratelimit-limit-requests'] = String(r.limitRequests);
      h['x-ratelimit-limit-tokens'] = String(r.limitTokens);
      h['x-ratelimit-remaining-requests'] = String(r.remainingRequests);
      h['x-ratelimit-remaining-tokens'] = String(r.remainingTokens);
      h['x-ratelimit-reset-requests'] = goDuration(r.resetRequestsMs);
      h['x-ratelimit-reset-tokens'] = goDuration(r.resetTokensMs);
    }
    return h;
  }

  #json(ctx: Ctx, status: number, body: unknown): MockReply & { headers: Record<string, string> } {
    const headers = this.#baseHeaders(ctx);
    headers['content-type'] = JSON_TYPE;
    return { status, headers, body: JSON.stringify(body) };
  }

  #text(ctx: Ctx, status: number, body: string, contentType: string): MockReply & { headers: Record<string, string> } {
    const headers = this.#baseHeaders(ctx);
    headers['content-type'] = contentType;
    return { status, headers, body };
  }

  #sse(ctx: Ctx, stream: AsyncIterable<string>): MockReply {
    return { status: 200, headers: { ...this.#baseHeaders(ctx), ...SSE_HEADERS }, stream };
  }

  #newId(prefix: string, n = 48): string {
    return prefix + this.#ids.hex(n);
  }

  // -------------------------------------------------------------------------------------------------
  // Responses
  // -------------------------------------------------------------------------------------------------

  #outcomeOf(faults: readonly Fault[], maxOutputTokens: number | null): { outcome: Outcome; text: string; thenCompleted: boolean } {
    const f = faults.find((x): x is OutcomeFault => x.type === 'outcome');
    const full = this.#reply;
    if (f?.status === 'failed') {
      const error =
        f.code === null ? null : { code: f.code ?? 'server_error', message: f.message ?? 'The server had an error while processing your request. Sorry about that!' };
      return { outcome: { status: 'failed', error }, text: full, thenCompleted: false };
    }
    if (f?.status === 'incomplete') {
      return { outcome: { status: 'incomplete', reason: f.reason === undefined ? 'max_output_tokens' : f.reason }, text: half(full), thenCompleted: false };
    }
    if (f?.status === 'cancelled') {
      if (f.thenCompleted) return { outcome: { status: 'completed' }, text: full, thenCompleted: true };
      return { outcome: { status: 'cancelled' }, text: full, thenCompleted: false };
    }
    if (maxOutputTokens !== null && textTokens(full) > maxOutputTokens) {
      return { outcome: { status: 'incomplete', reason: 'max_output_tokens' }, text: full.slice(0, maxOutputTokens * 4), thenCompleted: false };
    }
    return { outcome: { status: 'completed' }, text: full, thenCompleted: false };
  }

  #createResponse(req: MockRequest, ctx: Ctx, body: Body): MockReply {
    if (ctx.background && body['store'] === false) {
      throw invalid('Background responses require store=true.', 'store');
    }
    const maxOut = typeof body['max_output_tokens'] === 'number' ? body['max_output_tokens'] : null;
    const { outcome, text, thenCompleted } = this.#outcomeOf(ctx.faults, maxOut);
    const expire = ctx.faults.find((f) => f.type === 'expire');
    const rec: ResponseRecord = {
      id: this.#newId('resp_'),
      messageId: this.#newId('msg_'),
      createdAtMs: ctx.t,
      model: ctx.model!,
      background: ctx.background,
      store: body['store'] !== false,
      instructions: typeof body['instructions'] === 'string' ? body['instructions'] : null,
      maxOutputTokens: maxOut,
      previousResponseId: typeof body['previous_response_id'] === 'string' ? body['previous_response_id'] : null,
      temperature: typeof body['temperature'] === 'number' ? body['temperature'] : 1,
      topP: typeof body['top_p'] === 'number' ? body['top_p'] : 1,
      metadata: (body['metadata'] as Record<string, string> | undefined) ?? {},
      inputTokens: estimatePromptTokens(body['input'], body['instructions']),
      text,
      outcome,
      queuedMs: ctx.background ? this.#queuedMs : 0,
      runMs: ctx.background ? this.#runMs : 0,
    };
    ctx.objectId = rec.id;
    const stored: StoredResponse = {
      rec,
      expiresAtMs: ctx.t + (expire?.type === 'expire' ? expire.afterMs : this.#ttlMs),
      cancelledAtMs: undefined,
      thenCompleted,
      deleted: false,
      events: undefined,
      notified: false,
    };
    if (rec.store) this.#responses.set(rec.id, stored);
    if (rec.background) this.#scheduleNotify(stored);
    if (!ctx.stream) {
      if (!rec.background && outcome.status === 'failed' && !ctx.faults.some((f) => f.type === 'outcome')) {
        return this.#json(ctx, 500, ALL_PRESETS.server_error.body);
      }
      return this.#json(ctx, 200, responseObject(rec, this.#statusAt(stored, ctx.t)));
    }
    const streamFault = ctx.faults.find((f): f is StreamFault => f.type === 'stream');
    return this.#sse(ctx, this.#responseStream(stored, -1, streamFault, req.signal));
  }

  #statusAt(s: StoredResponse, t: number): ResponseStatus {
    const r = s.rec;
    if (s.cancelledAtMs !== undefined && !s.thenCompleted) return 'cancelled';
    if (!r.background) return r.outcome.status;
    const since = t - r.createdAtMs;
    if (since < r.queuedMs) return 'queued';
    if (since < r.queuedMs + r.runMs) return 'in_progress';
    return r.outcome.status;
  }

  #eventsOf(s: StoredResponse): TimedEvent[] {
    return (s.events ??= responseEvents(s.rec));
  }

  async *#responseStream(
    s: StoredResponse,
    startingAfter: number,
    fault: StreamFault | undefined,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<string> {
    const events = this.#eventsOf(s);
    const limit = fault ? (fault.afterEvents ?? 3) : Infinity;
    let sent = 0;
    let lastSeq = startingAfter;
    for (const e of events) {
      if (e.event.sequence_number <= startingAfter) continue;
      if (sent >= limit) break;
      const due = s.rec.createdAtMs + e.atMs;
      if (s.rec.background) {
        const wait = due - this.#clock.now();
        if (wait > 0) await sleepFor(this.#clock, wait, signal);
        // A run cancelled while we waited stops here.
        if (s.cancelledAtMs !== undefined && !s.thenCompleted && s.cancelledAtMs < due) return;
      } else if (this.#streamDelayMs > 0 && sent > 0) {
        await sleepFor(this.#clock, this.#streamDelayMs, signal);
      }
      yield sseEvent(e.event.type, e.event);
      lastSeq = e.event.sequence_number;
      sent++;
    }
    if (fault === undefined || sent < limit) return;
    if (fault.action === 'reset') throw new ConnectionReset('injected reset mid-stream');
    if (fault.action === 'error') {
      const code = fault.code ?? 'server_error';
      const message = fault.message ?? 'The server had an error while processing your request. Sorry about that!';
      let seq = lastSeq + 1;
      if (fault.shape === 'azure') {
        const failed = { ...responseObject(s.rec, 'failed'), error: null };
        this.#failNow(s);
        yield sseEvent('response.failed', { type: 'response.failed', response: failed, sequence_number: seq++ });
      }
      const data =
        fault.shape === 'nested'
          ? { type: 'error', error: { type: 'server_error', code, message, param: null }, sequence_number: seq }
          : { type: 'error', code, message, param: null, sequence_number: seq };
      yield sseEvent('error', data);
    }
    // truncate: end cleanly without the rest
  }

  /**
   * The run ends `failed` now, as the stream just said (Azure's pair: `error: null`, the cause only in
   * the stream's `error` event): a retrieve, a resumed stream and the webhook all agree from here on.
   */
  #failNow(s: StoredResponse): void {
    const r = s.rec;
    if (s.cancelledAtMs !== undefined && !s.thenCompleted) return;
    const endMs = Math.max(r.queuedMs, this.#clock.now() - r.createdAtMs);
    s.rec = { ...r, outcome: { status: 'failed', error: null }, runMs: Math.min(r.runMs, endMs - r.queuedMs) };
    s.events = undefined;
    if (r.background && !s.notified) this.#scheduleNotify(s);
  }

  #lookup(id: string): StoredResponse {
    const s = this.#responses.get(id);
    if (s === undefined || s.deleted || this.#clock.now() >= s.expiresAtMs) {
      throw notFound(`Response with id '${id}' not found.`);
    }
    return s;
  }

  #getResponse(req: MockRequest, ctx: Ctx, id: string): MockReply {
    ctx.objectId = id;
    const s = this.#lookup(id);
    ctx.model = s.rec.model;
    const q = ctx.query;
    if (q?.get('stream') === 'true') {
      ctx.stream = true;
      ctx.background = s.rec.background;
      if (!s.rec.background) {
        throw invalid('This response cannot be streamed because it was not created with background=true.', 'stream');
      }
      const raw = q.get('starting_after');
      let after = -1;
      if (raw !== null) {
        after = Number(raw);
        if (!Number.isInteger(after) || after < 0) {
          throw invalid(`Invalid 'starting_after': expected a non-negative integer, but got '${raw}' instead.`, 'starting_after', 'invalid_value');
        }
      }
      const fault = ctx.faults.find((f): f is StreamFault => f.type === 'stream');
      return this.#sse(ctx, this.#responseStream(s, after, fault, req.signal));
    }
    const status = this.#statusAt(s, ctx.t);
    return this.#json(ctx, 200, responseObject(s.rec, status));
  }

  #deleteResponse(ctx: Ctx, id: string): MockReply {
    ctx.objectId = id;
    const s = this.#lookup(id);
    s.deleted = true;
    return this.#json(ctx, 200, { id, object: 'response.deleted', deleted: true });
  }

  #cancelResponse(ctx: Ctx, id: string): MockReply {
    ctx.objectId = id;
    const s = this.#lookup(id);
    if (!s.rec.background) throw invalid('Only responses created with background=true can be cancelled.');
    const status = this.#statusAt(s, ctx.t);
    // Terminal (including already cancelled): idempotent, the object is returned unchanged.
    if (status !== 'queued' && status !== 'in_progress') return this.#json(ctx, 200, responseObject(s.rec, status));
    s.cancelledAtMs = ctx.t;
    if (!s.thenCompleted) this.#notifyResponse(s, 'cancelled');
    return this.#json(ctx, 200, responseObject(s.rec, 'cancelled'));
  }

  // -------------------------------------------------------------------------------------------------
  // Chat completions
  // -------------------------------------------------------------------------------------------------

  #chatRecord(ctx: Ctx, body: Body, faults: readonly Fault[]): ChatRecord | HttpError {
    if (body['messages'] === undefined) throw invalid("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
    if (!Array.isArray(body['messages'])) {
      throw invalid(`Invalid type for 'messages': expected an array, but got ${typeName(body['messages'])} instead.`, 'messages', 'invalid_type');
    }
    const maxTok = body['max_completion_tokens'] ?? body['max_tokens'];
    const { outcome, text } = this.#outcomeOf(faults, typeof maxTok === 'number' ? maxTok : null);
    if (outcome.status === 'failed' || outcome.status === 'cancelled') {
      return new HttpError(500, ALL_PRESETS.server_error.body, 'fault');
    }
    const finishReason = outcome.status === 'incomplete' ? (outcome.reason === 'content_filter' ? 'content_filter' : 'length') : 'stop';
    return {
      id: this.#newId('chatcmpl-', 29),
      createdAtMs: ctx.t,
      model: ctx.model!,
      text,
      finishReason,
      promptTokens: estimatePromptTokens(body['messages']),
    };
  }

  #chat(req: MockRequest, ctx: Ctx, body: Body): MockReply {
    const rec = this.#chatRecord(ctx, body, ctx.faults);
    if (rec instanceof HttpError) throw rec;
    ctx.objectId = rec.id;
    if (!ctx.stream) return this.#json(ctx, 200, chatCompletion(rec));
    const opts = body['stream_options'] as { include_usage?: unknown } | undefined;
    const chunks = chatChunks(rec, opts?.include_usage === true);
    const fault = ctx.faults.find((f): f is StreamFault => f.type === 'stream');
    return this.#sse(ctx, this.#chatStream(chunks, fault, req.signal));
  }

  async *#chatStream(chunks: object[], fault: StreamFault | undefined, signal: AbortSignal | undefined): AsyncGenerator<string> {
    const limit = fault ? (fault.afterEvents ?? 3) : Infinity;
    let sent = 0;
    for (const c of chunks) {
      if (sent >= limit) break;
      if (this.#streamDelayMs > 0 && sent > 0) await sleepFor(this.#clock, this.#streamDelayMs, signal);
      yield sseData(c);
      sent++;
    }
    if (fault === undefined || sent < limit) {
      yield sseData('[DONE]');
      return;
    }
    if (fault.action === 'reset') throw new ConnectionReset('injected reset mid-stream');
    if (fault.action === 'error') {
      const message = fault.message ?? 'The server had an error while processing your request. Sorry about that!';
      yield sseData(errorEnvelope(message, 'server_error', fault.code ?? 'server_error'));
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Models
  // -------------------------------------------------------------------------------------------------

  #listModels(ctx: Ctx, id: string | undefined): MockReply {
    if (id === undefined) return this.#json(ctx, 200, { object: 'list', data: this.#models.map(modelObject) });
    if (!this.#models.includes(id)) {
      throw new HttpError(
        404,
        errorEnvelope(`The model '${id}' does not exist`, 'invalid_request_error', 'model_not_found', 'model'),
        'not_found',
      );
    }
    return this.#json(ctx, 200, modelObject(id));
  }

  // -------------------------------------------------------------------------------------------------
  // Files and batches
  // -------------------------------------------------------------------------------------------------

  #fileObject(f: StoredFile): object {
    return {
      id: f.id,
      object: 'file',
      bytes: Buffer.byteLength(f.content),
      created_at: Math.floor(f.createdAtMs / 1000),
      expires_at: null,
      filename: f.filename,
      purpose: f.purpose,
      status: 'processed',
      status_details: null,
    };
  }

  async #createFile(req: MockRequest, ctx: Ctx): Promise<MockReply> {
    const bytes = await req.bytes();
    const type = req.header('content-type') ?? '';
    if (!type.startsWith('multipart/form-data')) {
      throw invalid("Invalid content type: expected 'multipart/form-data'.", 'file');
    }
    let form: FormData;
    try {
      form = await new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': type } }).formData();
    } catch {
      throw invalid('Could not parse multipart form.', 'file');
    }
    const file = form.get('file');
    const purpose = form.get('purpose');
    if (file === null || typeof file === 'string') throw invalid("Missing required parameter: 'file'.", 'file', 'missing_required_parameter');
    if (typeof purpose !== 'string') throw invalid("Missing required parameter: 'purpose'.", 'purpose', 'missing_required_parameter');
    const stored: StoredFile = {
      id: this.#newId('file-', 22),
      filename: (file as File).name || 'upload.jsonl',
      purpose,
      createdAtMs: ctx.t,
      content: await file.text(),
    };
    this.#files.set(stored.id, stored);
    ctx.objectId = stored.id;
    return this.#json(ctx, 200, this.#fileObject(stored));
  }

  #getFile(ctx: Ctx, id: string, content: boolean): MockReply {
    ctx.objectId = id;
    this.#sweep();
    const f = this.#files.get(id);
    if (f === undefined) throw notFound(`No such File object: ${id}`);
    if (content) return this.#text(ctx, 200, f.content, 'application/octet-stream');
    return this.#json(ctx, 200, this.#fileObject(f));
  }

  #createBatch(ctx: Ctx, body: Body): MockReply {
    for (const p of ['input_file_id', 'endpoint', 'completion_window'] as const) {
      if (typeof body[p] !== 'string') throw invalid(`Missing required parameter: '${p}'.`, p, 'missing_required_parameter');
    }
    const input = this.#files.get(body['input_file_id'] as string);
    if (input === undefined) throw invalid(`Invalid 'input_file_id': '${String(body['input_file_id'])}'. File not found.`, 'input_file_id');
    const endpoint = body['endpoint'] as string;
    if (endpoint !== '/v1/chat/completions' && endpoint !== '/v1/responses') {
      throw invalid(`Invalid value for 'endpoint': '${endpoint}' is not supported by the mock.`, 'endpoint', 'invalid_value');
    }
    const outputLines: string[] = [];
    const errorLines: string[] = [];
    let total = 0;
    let failed = 0;
    for (const raw of input.content.split('\n')) {
      if (raw.trim() === '') continue;
      total++;
      const line = this.#batchLine(ctx, raw, endpoint);
      if (line.error) errorLines.push(line.text);
      else outputLines.push(line.text);
      if (line.failed) failed++;
    }
    const batch: StoredBatch = {
      id: this.#newId('batch_', 32),
      createdAtMs: ctx.t,
      endpoint,
      inputFileId: input.id,
      completionWindow: body['completion_window'] as string,
      metadata: (body['metadata'] as Record<string, string> | undefined) ?? null,
      outputLines,
      errorLines,
      total,
      failed,
      outputFileId: this.#newId('file-', 22),
      errorFileId: this.#newId('file-', 22),
      fault: ctx.faults.find((f): f is BatchFault => f.type === 'batch'),
      cancelledAtMs: undefined,
      filesWritten: false,
      notified: false,
    };
    this.#batches.set(batch.id, batch);
    ctx.objectId = batch.id;
    this.#scheduleBatch(batch);
    return this.#json(ctx, 200, this.#batchObject(batch, ctx.t));
  }

  /** Runs one batch input line through the same rules as an HTTP request (with `match.batch: true`). */
  #batchLine(ctx: Ctx, raw: string, endpoint: string): { text: string; error: boolean; failed: boolean } {
    const lineId = this.#newId('batch_req_', 32);
    let parsed: Body;
    try {
      parsed = JSON.parse(raw) as Body;
    } catch {
      return {
        text: JSON.stringify({ id: lineId, custom_id: null, response: null, error: { code: 'invalid_json_line', message: 'This line is not parseable as valid JSON.' } }),
        error: true,
        failed: true,
      };
    }
    const customId = typeof parsed['custom_id'] === 'string' ? parsed['custom_id'] : null;
    const body = (parsed['body'] ?? {}) as Body;
    const model = typeof body['model'] === 'string' ? body['model'] : undefined;
    const hit = this.#matcher.empty
      ? undefined
      : this.#matcher.match({ path: endpoint, method: 'POST', model, key: ctx.key, stream: false, background: false, batch: true });
    const faults = hit?.faults ?? [];
    const lineFault = faults.find((f): f is BatchFault => f.type === 'batch');
    if (lineFault) {
      return {
        text: JSON.stringify({
          id: lineId,
          custom_id: customId,
          response: null,
          error: { code: lineFault.code ?? 'server_error', message: lineFault.message ?? 'The line failed in the mock.' },
        }),
        error: true,
        failed: true,
      };
    }
    const requestId = 'req_' + this.#ids.hex(32);
    const http = faults.find((f): f is HttpFault => f.type === 'http');
    let status = 200;
    let out: unknown;
    if (http) {
      const p = http.preset !== undefined ? ALL_PRESETS[http.preset] : undefined;
      status = http.status ?? p?.status ?? 500;
      out = http.body ?? p?.body ?? errorEnvelope(`Injected HTTP ${status}.`, 'server_error');
    } else if (model === undefined) {
      status = 400;
      out = errorEnvelope("Missing required parameter: 'model'.", 'invalid_request_error', 'missing_required_parameter', 'model');
    } else {
      const lineCtx: Ctx = { ...ctx, model, faults };
      out = endpoint === '/v1/chat/completions' ? this.#chatLine(lineCtx, body, faults) : this.#responseLine(lineCtx, body, faults);
      if (out instanceof HttpError) {
        status = out.status;
        out = out.body;
      }
    }
    return {
      text: JSON.stringify({ id: lineId, custom_id: customId, response: { status_code: status, request_id: requestId, body: out }, error: null }),
      error: false,
      failed: status !== 200,
    };
  }

  #chatLine(ctx: Ctx, body: Body, faults: readonly Fault[]): unknown {
    try {
      const rec = this.#chatRecord(ctx, body, faults);
      return rec instanceof HttpError ? rec : chatCompletion(rec);
    } catch (err) {
      if (err instanceof HttpError) return err;
      throw err;
    }
  }

  #responseLine(ctx: Ctx, body: Body, faults: readonly Fault[]): unknown {
    const maxOut = typeof body['max_output_tokens'] === 'number' ? body['max_output_tokens'] : null;
    const { outcome, text } = this.#outcomeOf(faults, maxOut);
    const rec: ResponseRecord = {
      id: this.#newId('resp_'),
      messageId: this.#newId('msg_'),
      createdAtMs: ctx.t,
      model: ctx.model!,
      background: false,
      store: false,
      instructions: null,
      maxOutputTokens: maxOut,
      previousResponseId: null,
      temperature: 1,
      topP: 1,
      metadata: {},
      inputTokens: estimatePromptTokens(body['input']),
      text,
      outcome,
      queuedMs: 0,
      runMs: 0,
    };
    return responseObject(rec, outcome.status);
  }

  #batchStatus(b: StoredBatch, t: number): string {
    const since = t - b.createdAtMs;
    const end = this.#batchValidatingMs + this.#batchRunMs;
    if (b.cancelledAtMs !== undefined) return t - b.cancelledAtMs < this.#batchValidatingMs ? 'cancelling' : 'cancelled';
    if (b.fault?.status === 'failed' && since >= this.#batchValidatingMs) return 'failed';
    if (since < this.#batchValidatingMs) return 'validating';
    if (since < end) return 'in_progress';
    return b.fault?.status ?? 'completed';
  }

  #batchObject(b: StoredBatch, t: number): object {
    const status = this.#batchStatus(b, t);
    const sec = (ms: number): number => Math.floor(ms / 1000);
    const done = status === 'completed' || status === 'expired' || status === 'cancelled';
    const startedMs = b.createdAtMs + this.#batchValidatingMs;
    const endMs = startedMs + this.#batchRunMs;
    const ran = status === 'completed';
    if (done) this.#writeBatchFiles(b, status);
    return {
      id: b.id,
      object: 'batch',
      endpoint: b.endpoint,
      errors:
        status === 'failed'
          ? {
              object: 'list',
              data: [{ code: b.fault?.code ?? 'invalid_request', message: b.fault?.message ?? 'The batch failed validation in the mock.', param: null, line: null }],
            }
          : null,
      input_file_id: b.inputFileId,
      completion_window: b.completionWindow,
      status,
      output_file_id: ran && b.outputLines.length > 0 ? b.outputFileId : null,
      error_file_id: ran && b.errorLines.length > 0 ? b.errorFileId : null,
      created_at: sec(b.createdAtMs),
      in_progress_at: t >= startedMs && status !== 'failed' ? sec(startedMs) : null,
      expires_at: sec(b.createdAtMs + 24 * 3_600_000),
      finalizing_at: ran ? sec(endMs) : null,
      completed_at: ran ? sec(endMs) : null,
      failed_at: status === 'failed' ? sec(startedMs) : null,
      expired_at: status === 'expired' ? sec(endMs) : null,
      cancelling_at: b.cancelledAtMs !== undefined ? sec(b.cancelledAtMs) : null,
      cancelled_at: status === 'cancelled' ? sec((b.cancelledAtMs ?? endMs) + (b.cancelledAtMs !== undefined ? this.#batchValidatingMs : 0)) : null,
      request_counts: ran
        ? { total: b.total, completed: b.total - b.failed, failed: b.failed }
        : { total: status === 'validating' ? 0 : b.total, completed: 0, failed: 0 },
      metadata: b.metadata,
    };
  }

  #writeBatchFiles(b: StoredBatch, status: string): void {
    if (b.filesWritten || status !== 'completed') return;
    b.filesWritten = true;
    const at = b.createdAtMs + this.#batchValidatingMs + this.#batchRunMs;
    const write = (id: string, lines: string[], name: string): void => {
      if (lines.length > 0) this.#files.set(id, { id, filename: name, purpose: 'batch_output', createdAtMs: at, content: lines.join('\n') + '\n' });
    };
    write(b.outputFileId, b.outputLines, `${b.id}_output.jsonl`);
    write(b.errorFileId, b.errorLines, `${b.id}_error.jsonl`);
  }

  #getBatch(ctx: Ctx, id: string): MockReply {
    ctx.objectId = id;
    const b = this.#batches.get(id);
    if (b === undefined) throw notFound(`No batch found with id '${id}'.`);
    return this.#json(ctx, 200, this.#batchObject(b, ctx.t));
  }

  #cancelBatch(ctx: Ctx, id: string): MockReply {
    ctx.objectId = id;
    const b = this.#batches.get(id);
    if (b === undefined) throw notFound(`No batch found with id '${id}'.`);
    const status = this.#batchStatus(b, ctx.t);
    if (status === 'validating' || status === 'in_progress') {
      b.cancelledAtMs = ctx.t;
      this.#scheduleBatch(b);
    } else if (status !== 'cancelling' && status !== 'cancelled') {
      throw new HttpError(
        409,
        errorEnvelope(`Cannot cancel a batch with status '${status}'.`, 'invalid_request_error'),
        'invalid_request',
      );
    }
    return this.#json(ctx, 200, this.#batchObject(b, ctx.t));
  }

  // -------------------------------------------------------------------------------------------------
  // Time-driven work: webhooks for terminal objects
  // -------------------------------------------------------------------------------------------------

  /** Sends the webhooks that fell due. Called on every request and after every `advance()`. */
  #sweep(): void {
    if (this.#webhooks === undefined) return;
    const now = this.#clock.now();
    for (const s of this.#unnotified) {
      const status = this.#statusAt(s, now);
      if (status !== 'queued' && status !== 'in_progress') this.#notifyResponse(s, status);
    }
    for (const b of this.#unnotifiedBatches) {
      const status = this.#batchStatus(b, now);
      if (status === 'completed' || status === 'failed' || status === 'expired' || status === 'cancelled') {
        b.notified = true;
        this.#unnotifiedBatches.delete(b);
        this.#webhooks.send({ id: this.#newId('evt_', 32), type: `batch.${status}`, objectId: b.id, createdAtMs: now });
      }
    }
  }

  #notifyResponse(s: StoredResponse, status: ResponseStatus): void {
    if (s.notified || this.#webhooks === undefined) return;
    s.notified = true;
    this.#unnotified.delete(s);
    this.#webhooks.send({ id: this.#newId('evt_', 32), type: `response.${status}`, objectId: s.rec.id, createdAtMs: this.#clock.now() });
  }

  #scheduleNotify(s: StoredResponse): void {
    if (this.#webhooks === undefined) return;
    this.#unnotified.add(s);
    const due = s.rec.createdAtMs + s.rec.queuedMs + s.rec.runMs - this.#clock.now();
    sleepFor(this.#clock, Math.max(0, due), this.#closing.signal).then(
      () => this.#sweep(),
      () => {},
    );
  }

  #scheduleBatch(b: StoredBatch): void {
    if (this.#webhooks === undefined) return;
    if (!b.notified) this.#unnotifiedBatches.add(b);
    const due = (b.cancelledAtMs ?? b.createdAtMs) + this.#batchValidatingMs + (b.cancelledAtMs === undefined ? this.#batchRunMs : 0);
    sleepFor(this.#clock, Math.max(0, due - this.#clock.now()), this.#closing.signal).then(
      () => this.#sweep(),
      () => {},
    );
  }
}

function half(text: string): string {
  return text.slice(0, Math.max(1, Math.floor(text.length / 2)));
}

/** Passes through at most `afterBytes` bytes (default: half of the first chunk), then cuts. */
async function* cutAfter(source: AsyncIterable<string>, afterBytes: number | undefined): AsyncGenerator<string> {
  let left = afterBytes;
  for await (const chunk of source) {
    if (left === undefined) left = Math.floor(Buffer.byteLength(chunk) / 2);
    const size = Buffer.byteLength(chunk);
    if (size <= left) {
      yield chunk;
      left -= size;
      continue;
    }
    if (left > 0) yield Buffer.from(chunk).subarray(0, left).toString('utf8');
    break;
  }
  throw new ConnectionReset('injected reset mid-body');
}
