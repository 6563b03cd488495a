/**
 * `createFetch()`: a standard `fetch` that paces, retries by catalog code and learns the rate limits.
 * Pass it to `new OpenAI({ fetch, maxRetries: 0 })`, to the Vercel AI SDK (`createOpenAI({ fetch })`)
 * or to LangChain (`new ChatOpenAI({ configuration: { fetch }, maxRetries: 0 })`).
 *
 * Per request:
 * 1. **Pace**: a `POST` with a JSON body naming a `model` waits for its turn in that model's
 *    {@link RateLimiter} (RPM and TPM together), its token cost estimated from the body.
 * 2. **Send** with the caller's signal, and the `attemptTimeoutMs` counted from the send (time spent
 *    waiting for a turn is not part of it).
 * 3. **Learn** from the answer's `x-ratelimit-*` headers and, for a JSON answer, its `usage`.
 * 4. **Retry** a retryable failure (a 429 pauses every request of the model for `retry-after-ms`, capped
 *    at `maxRetryAfterMs`, with spread); a non-retryable one ends at once after one attempt. Every
 *    attempt spends a retry, and `maxRetryTimeMs` bounds the whole request, the waits for a turn included.
 *
 * A non-streaming answer is read in full before it is returned, so a connection cut mid-body is
 * retried like any other connection error. A streaming answer (`stream: true`, or an
 * `text/event-stream` body) is returned as soon as its headers arrive and is never sent again after
 * that: the caller may already hold its first bytes.
 */
import type { Clock } from '../internal/clock.ts';
import { attemptDeadline } from '../internal/deadline.ts';
import { finite, fn, misuse, oneOf, optionsObject, rejectRenamed, rejectUnknown } from '../internal/options.ts';
import { classify } from '../core/classify/index.ts';
import { errorFor, FaultlineError } from '../core/errors.ts';
import type { Failure } from '../core/failure.ts';
import { FAILURE_CODE_HEADER } from '../core/classify/vocabulary.ts';
import { actualCost, estimateCost, readUsage, type CostEstimate } from './estimate.ts';
import { readRateLimitHeaders } from './headers.ts';
import { pacingLimitsOf, RateLimiter, type Grant } from './limiter.ts';
import { BudgetPacer, Pacer, type BudgetOutcome } from './pacer.ts';
import type { BudgetGrant, SharedBudget } from './budget.ts';
import { observeSse, type StreamSeen } from './stream-usage.ts';
import { resolveRetryPlan, RETRY_OPTION_KEYS, RETRY_RENAMED, runWithRetry, type AttemptContext, type RetryOptions, type RetryPlan } from './retry.ts';
import { RetryError } from '../core/retry-error.ts';
import { pacedTurn, retryHook, startRequest, telemetry } from '../internal/telemetry.ts';

/** The `fetch` signature the SDKs accept. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Explicit limits (otherwise learned from the `x-ratelimit-*` headers). */
export interface PacingLimits {
  /** Requests per minute, per model. @default learned from `x-ratelimit-limit-requests` */
  readonly rpm?: number;
  /** Tokens per minute, per model. @default learned from `x-ratelimit-limit-tokens` */
  readonly tpm?: number;
  /** How much of a minute's budget may be spent at once, in ms. @default learned; 1000 until then */
  readonly burstWindowMs?: number;
}

const PACING_LIMIT_KEYS: ReadonlySet<string> = new Set(Object.keys({ rpm: true, tpm: true, burstWindowMs: true } satisfies Record<keyof PacingLimits, true>));

/** Options of {@link createFetch}. Every retry option of `retry()` applies to each request. */
export interface CreateFetchOptions extends RetryOptions {
  /**
   * The `fetch` that really sends.
   * @default globalThis.fetch (read at each call)
   */
  readonly fetch?: FetchFunction;
  /**
   * Explicit rate limits, applied per model. Headers still keep the local buckets in step.
   * @default learned from the response headers
   */
  readonly limits?: PacingLimits;
  /**
   * Whether to pace requests with the rate limiter. `false` keeps retries only.
   * @default true
   */
  readonly pacing?: boolean;
  /**
   * The fraction of each limit deliberately left unused, from 0 to 0.9 (for other clients of the key).
   * @default 0
   */
  readonly headroom?: number;
  /**
   * A limiter to share (for example between several clients of one key in one process). Given a
   * function, it is called once per model name (`''` for requests without one).
   * @default one RateLimiter per model, made from `limits` and the clock
   */
  readonly limiter?: RateLimiter | ((model: string) => RateLimiter);
  /**
   * The output tokens to assume for a request with no `max_output_tokens`/`max_tokens` until answers
   * show the real figure (then a running average of `usage` is used).
   * @default 256
   */
  readonly expectedOutputTokens?: number;
  /**
   * What a failed HTTP answer becomes once retrying ends.
   * - `'return'`: it is returned as the `Response` (as any `fetch` does), so the SDK builds its own
   *   error, which `instanceof QuotaExceededError` and `toError()` recognise. Recommended with an SDK:
   *   an error thrown from a `fetch` is reported by the `openai` SDK as an `APIConnectionError`.
   * - `'throw'`: the typed faultline error is thrown (`QuotaExceededError`, ...), or a `RetryError`
   *   when retries ran out.
   * Transport failures (resets, refused connections) always throw: a `RetryError` when retries ran out.
   * @default 'return'
   */
  readonly failure?: 'throw' | 'return';
  /**
   * A rate-limit budget shared with other processes, for example `redisBudget({ url, key })` from
   * `faultline/redis`: every process naming the same key paces against one budget per model. It takes the
   * place of the per-process limiter (`limits`, `limiter` and `headroom` then do not pace): a request
   * reserves its estimated tokens before it is sent, the answer's `usage` and `x-ratelimit-*` headers
   * correct the shared state, a 429's `retry-after` pauses every process, and a request that was never
   * sent or that the server rejected with a 429 gives its reservation back. `pacing: false` turns it off.
   * @default none (each process paces alone)
   */
  readonly budget?: SharedBudget;
}

/** An HTTP answer that failed, carried through the retry loop. */
class HttpFailure extends Error {
  readonly failure: Failure;
  readonly response: Response;
  constructor(failure: Failure, response: Response) {
    super(failure.message);
    this.failure = failure;
    this.response = response;
  }
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);
/** One decoder for every answer (`decode` without `stream` keeps no state between calls). */
const utf8 = new TextDecoder();

function rebuild(original: Response, body: ArrayBuffer | string | null, failure?: Failure): Response {
  // faultline's reading of a failed answer rides on the rebuilt Response (see FAILURE_CODE_HEADER); an
  // upstream's own header of that name is never passed through.
  // The Response constructor copies what it is given: an answer without that header is copied once.
  let headers = original.headers;
  if (failure !== undefined || headers.has(FAILURE_CODE_HEADER)) {
    headers = new Headers(headers);
    headers.delete(FAILURE_CODE_HEADER);
    if (failure !== undefined) headers.set(FAILURE_CODE_HEADER, failure.code);
  }
  // Only answers with a status of 200–599 get here (`new Response()` takes no other): see `attempt`.
  const init = { status: original.status, statusText: original.statusText, headers };
  if (NULL_BODY.has(original.status)) return new BufferedResponse(null, init, original);
  return body instanceof ArrayBuffer ? new BufferedBody(body, init, original) : new BufferedResponse(body, init, original);
}

/**
 * A `Response` rebuilt around a body read in full (or an observed stream), keeping what a fresh Response cannot be constructed
 * with (SDKs log the URL). Getters on a subclass, not `Object.defineProperty` on each answer: defining
 * own properties on a Response cost about 9 µs per request (measured).
 */
class BufferedResponse extends Response {
  readonly #url: string;
  readonly #redirected: boolean;
  constructor(body: BodyInit | null, init: ResponseInit, original: Response) {
    super(body, init);
    this.#url = original.url;
    this.#redirected = original.redirected;
  }
  override get url(): string {
    return this.#url;
  }
  override get redirected(): boolean {
    return this.#redirected;
  }
}

/** undici's words for a body read twice. */
const bodyUsedError = (): TypeError => new TypeError('Body is unusable: Body has already been read');

/**
 * A successful answer read in full, handed on without a second stream. A Response built around the
 * bytes would copy them into a new ReadableStream, which the caller then reads back: that round trip
 * was the largest part of the wrapper's own CPU per request (measured with --cpu-prof). Here
 * `arrayBuffer()`, `bytes()`, `text()` and `json()` read the buffered bytes directly (once, as a body
 * reads once); whatever needs a real body (`body`, `blob()`, `formData()`, `clone()`) gets one, made on
 * first use from the same bytes, and every later read goes through it.
 */
class BufferedBody extends BufferedResponse {
  /** The bytes until they are read or handed to {@link BufferedBody.#real}. */
  #bytes: ArrayBuffer | null;
  #real: Response | undefined;
  readonly #init: ResponseInit;

  constructor(bytes: ArrayBuffer, init: ResponseInit, original: Response) {
    super(null, init, original);
    this.#bytes = bytes;
    this.#init = { status: init.status!, statusText: init.statusText!, headers: this.headers };
  }

  /** The Response that holds the body from now on (a used one, if the bytes were already read). */
  #body(): Response {
    if (this.#real === undefined) {
      const real = new Response(this.#bytes ?? new ArrayBuffer(0), this.#init);
      if (this.#bytes === null) void real.arrayBuffer(); // already read: the real body is used too
      this.#bytes = null;
      this.#real = real;
    }
    return this.#real;
  }

  /** The bytes, once; `undefined` when a real body took over. */
  #take(): ArrayBuffer | undefined {
    if (this.#real !== undefined) return undefined;
    const b = this.#bytes;
    if (b === null) throw bodyUsedError();
    this.#bytes = null;
    return b;
  }

  override get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    return this.#body().body;
  }
  override get bodyUsed(): boolean {
    return this.#real === undefined ? this.#bytes === null : this.#real.bodyUsed;
  }
  override arrayBuffer(): Promise<ArrayBuffer> {
    try {
      const b = this.#take();
      return b === undefined ? this.#real!.arrayBuffer() : Promise.resolve(b);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  override async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return new Uint8Array(await this.arrayBuffer());
  }
  override text(): Promise<string> {
    try {
      const b = this.#take();
      return b === undefined ? this.#real!.text() : Promise.resolve(utf8.decode(b));
    } catch (e) {
      return Promise.reject(e);
    }
  }
  override async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
  override blob(): Promise<Blob> {
    return this.#body().blob();
  }
  override formData(): Promise<FormData> {
    return this.#body().formData();
  }
  override clone(): Response {
    if (this.bodyUsed) throw bodyUsedError();
    return this.#body().clone();
  }
}

const isEventStream = (contentType: string): boolean => contentType.includes('text/event-stream');

const isJson = (contentType: string): boolean => /\bjson\b/i.test(contentType);

/** How an attempt's failure is read: an HTTP answer carries its own, anything else is classified. */
const failureOf = (e: unknown): Failure => (e instanceof HttpFailure ? e.failure : classify(e));

/**
 * Whether `usage` in an answer's text could be read at all: {@link readUsage} needs an output count
 * (`output_tokens` or `completion_tokens`), and a key spelled with `\u` escapes is the only other way to
 * name one. An embeddings answer (`usage` without output tokens, thousands of numbers) is not parsed.
 */
const mayHoldUsage = (text: string): boolean => text.includes('output_tokens') || text.includes('completion_tokens') || text.includes('\\');

/** A body that can be sent again unchanged (a stream can be read only once). */
function reusable(body: unknown): boolean {
  return body === undefined || body === null || !(typeof ReadableStream !== 'undefined' && body instanceof ReadableStream);
}

function methodOf(input: string | URL | Request, init: RequestInit | undefined): string {
  const given = init?.method;
  if (given === 'POST' || given === 'GET') return given; // the common spellings, without a new string
  return (given ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
}

async function bodyText(input: string | URL | Request, init: RequestInit | undefined): Promise<string | undefined> {
  const body = init?.body;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array || body instanceof ArrayBuffer) return utf8.decode(body);
  if (body === undefined && input instanceof Request && input.body !== null) {
    try {
      return await input.clone().text();
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Keys of {@link CreateFetchOptions} renamed before 1.0, besides retry()'s (CONTRIBUTING.md, rule 9). */
const RENAMED: Readonly<Record<string, string>> = {
  errors: "failure (0.2.0; 'response' is now 'return')",
};

/** Every key of {@link CreateFetchOptions}: retry()'s and its own (the compiler keeps the list complete). */
const FETCH_KEYS: ReadonlySet<string> = new Set(
  Object.keys({
    ...RETRY_OPTION_KEYS,
    fetch: true,
    limits: true,
    pacing: true,
    headroom: true,
    limiter: true,
    expectedOutputTokens: true,
    failure: true,
    budget: true,
  } satisfies Record<keyof CreateFetchOptions, true>),
);

/**
 * Returns a `fetch` that paces requests to the rate limits, retries retryable failures by catalog code,
 * and never retries what cannot succeed. See the module comment for the flow and
 * {@link CreateFetchOptions} for every option.
 *
 * @example
 * import OpenAI from 'openai';
 * import { createFetch } from 'faultline';
 * const client = new OpenAI({ fetch: createFetch(), maxRetries: 0 });
 */
export function createFetch(options: CreateFetchOptions = {}): FetchFunction {
  const owner = 'createFetch';
  const given = optionsObject(owner, options);
  rejectRenamed(owner, given, RENAMED);
  rejectRenamed(owner, given, RETRY_RENAMED);
  rejectUnknown(owner, given, FETCH_KEYS);
  const { fetch: underlyingOption, limits, pacing: pacingOption, headroom, limiter, expectedOutputTokens, failure: failureOption, budget: budgetOption, ...retryOptions } = options;
  const underlying = fn<FetchFunction>(owner, 'fetch', underlyingOption);
  const pacing = oneOf(owner, 'pacing', pacingOption, [true, false], true);
  const failurePolicy = oneOf(owner, 'failure', failureOption, ['throw', 'return'], 'return');
  if (limits !== undefined) rejectUnknown(owner, optionsObject(owner, limits, 'options.limits'), PACING_LIMIT_KEYS, { path: 'limits' });
  if (limiter !== undefined && !(limiter instanceof RateLimiter) && typeof limiter !== 'function') {
    throw misuse('type', owner, 'limiter', 'a RateLimiter or a function (model) => RateLimiter', limiter);
  }
  let expectedOutput = finite(owner, 'expectedOutputTokens', expectedOutputTokens, { default: 256, min: 0 });
  const budget = sharedBudget(owner, budgetOption);
  const plan = resolveRetryPlan(owner, retryOptions);
  const clock: Clock = plan.clock;
  const makeLimiter = (): RateLimiter =>
    new RateLimiter({
      ...(limits?.rpm !== undefined ? { rpm: limits.rpm } : {}),
      ...(limits?.tpm !== undefined ? { tpm: limits.tpm } : {}),
      ...(limits?.burstWindowMs !== undefined ? { burstWindowMs: limits.burstWindowMs } : {}),
      ...(headroom !== undefined ? { headroom } : {}),
      clock,
      random: plan.random,
    });
  pacingLimitsOf(owner, limits ?? {}, headroom, 'limits.'); // checked now, in createFetch's name, not at the first request
  const pacers = new Map<string, Pacer>();
  const pacerFor = (model: string): Pacer => {
    let p = pacers.get(model);
    if (p === undefined) {
      const l = limiter instanceof RateLimiter ? limiter : typeof limiter === 'function' ? limiter(model) : makeLimiter();
      // One pacer per limiter, so models sharing a limiter share a queue.
      p = [...pacers.values()].find((x) => x.limiter === l) ?? new Pacer(l, clock);
      pacers.set(model, p);
    }
    return p;
  };
  const budgetPacers = new Map<string, BudgetPacer>();
  const budgetPacerFor = (model: string): BudgetPacer => {
    let p = budgetPacers.get(model);
    if (p === undefined) budgetPacers.set(model, (p = new BudgetPacer(budget!, model, clock)));
    return p;
  };
  let order = 0;
  // A rate-limited attempt of a paced request waits in the pacer (shared pause, its place in the queue
  // kept). It still spends a retry, and the pacer gives up on it once its turn would come after
  // `maxRetryTimeMs`.
  const pacedDelay = (f: Failure, ms: number): number => (f.code === 'rate_limit_exceeded' ? 0 : ms);
  const backoffDelay = (_f: Failure, ms: number): number => ms;
  const planOf = (canRetry: boolean, paced: boolean, signal: AbortSignal | undefined, onRetry: RetryPlan['onRetry']): RetryPlan => ({
    ...plan,
    attemptTimeoutMs: undefined, // applied from the send on, in `attempt`
    retries: canRetry ? plan.retries : 0,
    signal,
    failureOf,
    delayFor: paced ? pacedDelay : backoffDelay,
    onRetry,
  });
  // The plans of requests with no signal of their own and no observer, made once, not per request.
  const plans = [false, true].map((canRetry) => [false, true].map((paced) => planOf(canRetry, paced, plan.signal, plan.onRetry)));

  const learnOutput = (estimate: CostEstimate, usageOutput: number): void => {
    if (estimate.maxOutputTokens === undefined) expectedOutput = expectedOutput * 0.8 + usageOutput * 0.2;
  };

  return async function faultlineFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const send = underlying ?? globalThis.fetch;
    const method = methodOf(input, init);
    const text = method === 'POST' ? await bodyText(input, init) : undefined;
    let parsed: unknown;
    if (text !== undefined && text.trimStart().startsWith('{')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    const estimate = parsed !== undefined ? estimateCost(parsed, expectedOutput) : undefined;
    const shared = pacing && budget !== undefined && estimate?.model !== undefined ? budgetPacerFor(estimate.model) : undefined;
    const pacer = pacing && shared === undefined && estimate?.model !== undefined ? pacerFor(estimate.model) : undefined;
    const observer = telemetry.active ? startRequest({ method, input, model: estimate?.model, stream: estimate?.stream === true, now: clock.now }) : undefined;
    const own = init?.signal instanceof AbortSignal ? init.signal : undefined;
    const signal = own === undefined ? plan.signal : plan.signal === undefined ? own : AbortSignal.any([own, plan.signal]);
    const myOrder = order++;
    const canRetry = reusable(init?.body);
    const paced = pacer !== undefined || shared !== undefined;
    const requestPlan = signal === plan.signal && observer === undefined ? plans[+canRetry]![+paced]! : planOf(canRetry, paced, signal, retryHook(observer, plan.onRetry));
    const budgetEnd = clock.now() + plan.maxRetryTimeMs;

    // With no signal and no `attemptTimeoutMs` nothing can abort an attempt: its signal is never made.
    const unbounded = signal === undefined && plan.attemptTimeoutMs === undefined;
    const attempt = async (ctx: AttemptContext): Promise<Response> => {
      const { markDelivered } = ctx;
      const turnSignal = unbounded ? undefined : ctx.signal;
      // A free turn with no observer is taken at once, without a promise to wait for.
      const grant: Grant | undefined = pacer ? ((observer === undefined ? pacer.now(estimate!.tokens, turnSignal) : undefined) ?? (await pacedTurn(observer, pacer.turn(estimate!.tokens, myOrder, turnSignal, budgetEnd)))) : undefined;
      const shareGrant = shared ? await pacedTurn(observer, shared.turn(estimate!.tokens, estimate!.promptTokens + (estimate!.maxOutputTokens ?? 0), myOrder, turnSignal, budgetEnd)) : undefined;
      const settle = shareGrant === undefined ? undefined : (outcome: BudgetOutcome): void => shared!.settle(shareGrant, outcome);
      // Nothing can abort the attempt: the underlying fetch gets the caller's init as it is (a signal
      // that never aborts still costs undici its listeners).
      if (turnSignal === undefined) return sendOnce(undefined, grant, markDelivered, settle, shareGrant);
      // The attempt's time counts from the send: the wait for a turn above is not part of it. Without an
      // `attemptTimeoutMs` the turn's own signal is the attempt's (a second one would only follow it).
      const deadline = plan.attemptTimeoutMs === undefined ? undefined : attemptDeadline(clock, turnSignal, plan.attemptTimeoutMs);
      const attemptSignal = deadline?.signal ?? turnSignal;
      try {
        // The caller's own signal goes to the underlying fetch directly, so it can still cancel a
        // streaming body after this fetch has returned.
        return await sendOnce(signal === undefined ? attemptSignal : AbortSignal.any([signal, attemptSignal]), grant, markDelivered, settle, shareGrant);
      } finally {
        deadline?.end();
      }
    };

    const sendOnce = async (attemptSignal: AbortSignal | undefined, grant: Grant | undefined, markDelivered: () => void, settle?: (outcome: BudgetOutcome) => void, shareGrant?: BudgetGrant): Promise<Response> => {
      const limiterOf = pacer?.limiter;
      let res: Response;
      try {
        const request = input instanceof Request ? input.clone() : input;
        res = await (attemptSignal === undefined ? send(request, init) : send(request, { ...init, signal: attemptSignal }));
      } catch (e) {
        limiterOf?.observe(undefined, grant);
        pacer?.poke();
        settle?.({ charged: 'unknown' });
        throw e;
      }
      const headers = readRateLimitHeaders(res.headers);
      if (!(res.status >= 200 && res.status <= 599)) {
        // undici passes 600–999 through, and `new Response` cannot hold them (RangeError): read a copy,
        // hand the caller the original answer as it arrived. classify() makes it `unknown`, never retried.
        const text = await res.clone().text().catch(() => '');
        limiterOf?.observe(headers, grant);
        pacer?.poke();
        settle?.({ headers, charged: 'unknown' });
        throw new HttpFailure(classify({ status: res.status, headers: res.headers, body: text }, { now: clock.now() }), res);
      }
      const contentType = res.headers.get('content-type') ?? '';
      const stream = estimate?.stream === true || isEventStream(contentType);
      if (res.ok && stream) {
        // The headers are observed now (the limiter's reading is as of the send, so a reconcile at the
        // end cannot be in it); the reservation is corrected once, when the stream ends.
        limiterOf?.observe(headers, grant);
        limiterOf?.onSuccess();
        pacer?.poke();
        markDelivered();
        const reserved = shareGrant?.tokens ?? (limiterOf !== undefined ? grant?.tokens : undefined);
        if (reserved === undefined || res.body === null || estimate === undefined) {
          settle?.({ headers, charged: 'unknown' });
          return res;
        }
        // The headers teach every process now.
        if (shareGrant !== undefined && headers !== undefined) void shared!.budget.observe(shared!.model, headers, shareGrant).then(() => shared!.poke(), () => {});
        const done = (seen: StreamSeen): void => {
          if (seen.usage !== undefined) learnOutput(estimate, seen.usage.output);
          // From the `usage` it carries, else (no usage, or cancelled) from what it showed, never above the
          // reservation. A body that failed keeps its reservation, unless the failure is the caller's own
          // abort (a cancel).
          const guess = Math.min(reserved, estimate.promptTokens + (estimate.maxOutputTokens ?? seen.events));
          const failed = seen.end === 'error' && signal?.aborted !== true;
          const charged = seen.usage !== undefined ? actualCost(estimate, seen.usage) : failed ? 'unknown' : guess;
          settle?.({ charged });
          if (grant !== undefined && limiterOf !== undefined && charged !== 'unknown') {
            limiterOf.reconcile(grant, charged);
            pacer?.poke();
          }
        };
        return new BufferedResponse(observeSse(res.body, done), { status: res.status, statusText: res.statusText, headers: res.headers }, res);
      }
      let body: ArrayBuffer;
      try {
        body = await res.arrayBuffer();
      } catch (e) {
        limiterOf?.observe(headers, grant);
        pacer?.poke();
        settle?.({ headers, charged: 'unknown' });
        throw e;
      }
      if (res.ok) {
        let charged: number | 'unknown' = 'unknown';
        // `usage` is read only when something uses it: the shared budget, a limiter that paces tokens
        // (its reconcile does nothing otherwise), or the output average (a request with no output cap).
        const wanted = settle !== undefined || (grant !== undefined && (estimate?.maxOutputTokens === undefined || limiterOf?.state().tpm !== undefined));
        const text = wanted && estimate !== undefined && isJson(contentType) ? utf8.decode(body) : undefined;
        if (text !== undefined && estimate !== undefined && mayHoldUsage(text)) {
          try {
            const usage = readUsage(JSON.parse(text));
            if (usage !== undefined) {
              charged = actualCost(estimate, usage);
              if (grant !== undefined) limiterOf?.reconcile(grant, charged);
              learnOutput(estimate, usage.output);
            }
          } catch {
            // not JSON after all: nothing to learn
          }
        }
        limiterOf?.observe(headers, grant);
        limiterOf?.onSuccess();
        pacer?.poke();
        settle?.({ headers, charged });
        return rebuild(res, body);
      }
      const bodyString = utf8.decode(body);
      const failure = classify({ status: res.status, headers: res.headers, body: bodyString }, { now: clock.now() });
      if (limiterOf !== undefined && grant !== undefined && failure.code === 'rate_limit_exceeded' && res.status === 429) {
        limiterOf.reconcile(grant, 0); // a rejected request is charged no tokens
        limiterOf.observe(headers, grant);
        // The shared pause honours the server's hint only up to `maxRetryAfterMs`: a `retry-after` of days
        // ends this request (retry_time_exhausted) but must not freeze every other request of the model.
        const hint = failure.retryAfterMs === undefined ? undefined : Math.min(failure.retryAfterMs, plan.maxRetryAfterMs);
        limiterOf.onRateLimited(hint, grant, headers);
      } else {
        limiterOf?.observe(headers, grant);
      }
      if (settle !== undefined) {
        // A 429 is charged no tokens and pauses every process; any other failure keeps its reservation
        // (the server may have counted it: this errs toward sending less).
        const limited = failure.code === 'rate_limit_exceeded' && res.status === 429;
        const pauseMs = limited && failure.retryAfterMs !== undefined ? Math.min(failure.retryAfterMs, plan.maxRetryAfterMs) : undefined;
        settle({ headers, charged: limited ? 'nothing' : 'unknown', pauseMs });
      }
      pacer?.poke();
      throw new HttpFailure(failure, rebuild(res, bodyString, failure));
    };

    try {
      const response = await runWithRetry(attempt, requestPlan);
      observer?.succeeded(response);
      return response;
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      observer?.failed(error, cause instanceof HttpFailure ? cause.response : undefined);
      if (!(cause instanceof HttpFailure)) throw error;
      if (failurePolicy === 'return') return cause.response;
      if (RetryError.isInstance(error)) throw new RetryError(error.reason, error.attempts, cause.response);
      if (FaultlineError.isInstance(error)) throw errorFor(error.failure, { cause: cause.response });
      throw error;
    }
  };
}

/** `options.budget`: anything with the {@link SharedBudget} methods a request uses, or `undefined`. */
function sharedBudget(owner: string, value: unknown): SharedBudget | undefined {
  if (value === undefined) return undefined;
  const b = value as Partial<Record<keyof SharedBudget, unknown>> | null;
  const methods = ['acquire', 'reconcile', 'release', 'observe', 'pause'] as const;
  if (typeof b !== 'object' || b === null || methods.some((m) => typeof b[m] !== 'function')) {
    throw misuse('type', owner, 'budget', 'a SharedBudget ({ acquire, reconcile, release, observe, pause }, for example redisBudget() from faultline/redis)', value);
  }
  return value as SharedBudget;
}
