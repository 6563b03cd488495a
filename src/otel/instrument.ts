/**
 * The OpenTelemetry sink of faultline's instrumentation port (`internal/telemetry.ts`): a CLIENT span per
 * `createFetch` request and per background wait, and the metrics, following the GenAI conventions where
 * they apply. `error.type` is the catalog code of the final outcome only: an attempt that was retried and
 * then succeeded is a span event, never an error.
 */
import {
  context,
  INVALID_SPAN_CONTEXT,
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Counter,
  type Exception,
  type Gauge,
  type Histogram,
  type Link,
  type MeterProvider,
  type Span,
  type SpanAttributes,
  type SpanAttributeValue,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  type TimeInput,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { classify, detectFailure } from '../core/classify/index.ts';
import { FaultlineError } from '../core/errors.ts';
import type { Failure } from '../core/failure.ts';
import { redact } from '../core/redact.ts';
import { RetryError } from '../core/retry-error.ts';
import { attachSink, type RequestObserver, type RequestStart, type RetryObservation, type TelemetrySink, type WaitEvent, type WaitStart } from '../internal/telemetry.ts';
import { misuse, oneOf, optionsObject, rejectUnknown } from '../internal/options.ts';
import { readRateLimitHeaders } from '../retry/headers.ts';
import { ATTR, METRIC, operationOf, providerOf, REQUEST_EVENT, RETRY_EVENT, SUCCESS, WAIT_EVENT, WAIT_RETRY_EVENT, WAIT_STATUS_EVENT } from './semconv.ts';

/** Options of {@link instrument}. */
export interface InstrumentOptions {
  /**
   * Where spans go.
   * @default the global tracer provider (`trace.getTracerProvider()` of `@opentelemetry/api`)
   */
  readonly tracerProvider?: TracerProvider;
  /**
   * Where metrics go.
   * @default the global meter provider (`metrics.getMeterProvider()` of `@opentelemetry/api`)
   */
  readonly meterProvider?: MeterProvider;
  /**
   * How a request or a wait shows on a trace. `'spans'`: each is a CLIENT span of its own, a child of
   * the span active when it starts. `'events'`: no span of faultline's own; each is span events on the
   * caller's active span — the `faultline.retry` and `faultline.wait.*` events as they happen, then one
   * `faultline.request` (or `faultline.wait`) event at the final outcome, carrying the attributes the
   * span would have had (`error.type` on a failure, and `faultline.duration_ms`). The caller's span
   * status is left to the caller. With no active span, nothing is recorded on a trace (metrics still are).
   * @default 'spans'
   */
  readonly record?: 'spans' | 'events';
}

/** What {@link instrument} returns. */
export interface FaultlineInstrumentation {
  /** Stops recording: requests and waits that start afterwards cost nothing again. Idempotent. */
  uninstrument(): void;
}

const SCOPE = 'faultline';

/** The failure an outcome ended with: the typed error's own, or the classified one. */
function failureOf(error: unknown): Failure {
  if (RetryError.isInstance(error)) return error.lastFailure ?? classify(error);
  if (FaultlineError.isInstance(error)) return error.failure;
  return classify(error);
}

function urlOf(input: unknown): URL | undefined {
  try {
    if (typeof input === 'string') return new URL(input);
    if (input instanceof URL) return input;
    if (typeof input === 'object' && input !== null && typeof (input as { url?: unknown }).url === 'string') return new URL((input as { url: string }).url);
  } catch {
    // a relative or malformed URL: no server attributes
  }
  return undefined;
}

function portOf(url: URL): number {
  return url.port !== '' ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
}

/** Marks `span` as failed with `failure` (the final outcome only). */
function endFailed(span: Span, failure: Failure, error: unknown): void {
  span.setAttribute(ATTR.errorType, failure.code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: redact(error instanceof Error ? error.message : failure.message) });
}

/**
 * `record: 'events'`: stands where faultline's own span would, and writes to the caller's span instead.
 * Events pass through at once; attributes are kept and written as one `event` at `end()`, with the time
 * since the start. The status is the caller's to set: a failure shows as `error.type` on the event.
 * Put in a context, it is the caller's span to anything else (its `spanContext()` is the caller's).
 */
class EventSpan implements Span {
  readonly #target: Span;
  readonly #event: string;
  readonly #attributes: Attributes;
  readonly #started = performance.now();
  #ended = false;

  constructor(target: Span, event: string, attributes: Attributes | undefined) {
    this.#target = target;
    this.#event = event;
    this.#attributes = { ...attributes };
  }

  spanContext(): SpanContext {
    return this.#target.spanContext();
  }
  setAttribute(key: string, value: SpanAttributeValue): this {
    this.#attributes[key] = value;
    return this;
  }
  setAttributes(attributes: SpanAttributes): this {
    Object.assign(this.#attributes, attributes);
    return this;
  }
  addEvent(name: string, attributesOrStartTime?: SpanAttributes | TimeInput, startTime?: TimeInput): this {
    this.#target.addEvent(name, attributesOrStartTime, startTime);
    return this;
  }
  addLink(link: Link): this {
    this.#target.addLink(link);
    return this;
  }
  addLinks(links: Link[]): this {
    this.#target.addLinks(links);
    return this;
  }
  setStatus(_status: SpanStatus): this {
    return this; // the caller's span status is the caller's
  }
  updateName(_name: string): this {
    return this;
  }
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#target.addEvent(this.#event, { ...this.#attributes, [ATTR.durationMs]: Math.max(0, performance.now() - this.#started) });
  }
  isRecording(): boolean {
    return !this.#ended && this.#target.isRecording();
  }
  recordException(exception: Exception, time?: TimeInput): void {
    this.#target.recordException(exception, time);
  }
}

class Instruments {
  readonly duration: Histogram;
  readonly requests: Counter;
  readonly retries: Counter;
  readonly pacing: Histogram;
  readonly backoff: Histogram;
  readonly remaining: Gauge;
  readonly limit: Gauge;
  readonly waits: Counter;
  readonly waitDuration: Histogram;
  constructor(provider: MeterProvider) {
    const meter = provider.getMeter(SCOPE);
    const boundaries = { advice: { explicitBucketBoundaries: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92] } };
    this.duration = meter.createHistogram(METRIC.operationDuration, { unit: 's', description: 'GenAI operation duration, retries and pacing included.', ...boundaries });
    this.requests = meter.createCounter(METRIC.requests, { unit: '{request}', description: 'Requests made through createFetch, by final outcome (success or the catalog code).' });
    this.retries = meter.createCounter(METRIC.retries, { unit: '{retry}', description: 'Attempts that failed and were retried, by the code of the failed attempt.' });
    this.pacing = meter.createHistogram(METRIC.pacingDuration, { unit: 's', description: 'Time a request waited for its pacing turn (rate limits learned or set).', ...boundaries });
    this.backoff = meter.createHistogram(METRIC.backoffDuration, { unit: 's', description: 'Time a request slept between attempts (backoff or retry-after).', ...boundaries });
    this.remaining = meter.createGauge(METRIC.rateLimitRemaining, { unit: '{unit}', description: 'x-ratelimit-remaining-* last read, per model and kind (requests or tokens).' });
    this.limit = meter.createGauge(METRIC.rateLimitLimit, { unit: '{unit}', description: 'x-ratelimit-limit-* last read, per model and kind (requests or tokens).' });
    this.waits = meter.createCounter(METRIC.waits, { unit: '{wait}', description: 'Background waits, by kind and final outcome (success or the catalog code).' });
    this.waitDuration = meter.createHistogram(METRIC.waitDuration, { unit: 's', description: 'Background wait duration.' });
  }
}

/** Follows one request. */
class RequestTrace implements RequestObserver {
  readonly #span: Span;
  readonly #m: Instruments;
  readonly #now: () => number;
  readonly #started: number;
  readonly #common: Attributes;
  readonly #genai: boolean;
  #retries = 0;
  #pacedMs = 0;
  #paced = false;
  #backoffMs = 0;
  #retryAfterMs = 0;
  #ended = false;

  constructor(span: Span, m: Instruments, start: RequestStart, common: Attributes, genai: boolean) {
    this.#span = span;
    this.#m = m;
    this.#now = start.now;
    this.#started = start.now();
    this.#common = common;
    this.#genai = genai;
  }

  async paced<T>(turn: Promise<T>): Promise<T> {
    const from = this.#now();
    try {
      return await turn;
    } finally {
      this.#paced = true;
      this.#pacedMs += Math.max(0, this.#now() - from);
    }
  }

  retried(info: RetryObservation): void {
    this.#retries++;
    this.#backoffMs += info.delayMs;
    const hint = info.failure.retryAfterMs;
    if (hint !== undefined) this.#retryAfterMs += hint;
    this.#span.addEvent(RETRY_EVENT, { [ATTR.attempt]: info.attempt, ...attemptAttributes(info.failure, info.delayMs) });
    this.#m.retries.add(1, { ...this.#common, [ATTR.failureCode]: info.failure.code });
    const response = (info.error as { response?: unknown } | null)?.response;
    if (response instanceof Response) this.#learn(response);
  }

  succeeded(response: Response): void {
    if (this.#ended) return;
    this.#span.setAttribute(ATTR.httpStatus, response.status);
    this.#setRequestId(response.headers.get('x-request-id') ?? undefined);
    this.#learn(response);
    this.#end(undefined, undefined);
  }

  failed(error: unknown, response: Response | undefined): void {
    if (this.#ended) return;
    const failure = failureOf(error);
    const status = response?.status ?? failure.status;
    if (status !== undefined) this.#span.setAttribute(ATTR.httpStatus, status);
    this.#setRequestId(failure.requestId ?? response?.headers.get('x-request-id') ?? undefined);
    if (response !== undefined) this.#learn(response);
    this.#end(failure, error);
  }

  #setRequestId(id: string | undefined): void {
    if (id !== undefined && id !== '') this.#span.setAttribute(ATTR.requestId, id);
  }

  /** The rate-limit headroom an answer shows, as gauges per model and kind. */
  #learn(response: Response): void {
    const read = readRateLimitHeaders(response.headers);
    if (read === undefined) return;
    for (const kind of ['requests', 'tokens'] as const) {
      const r = read[kind];
      if (r === undefined) continue;
      const attrs: Attributes = { ...this.#common, [ATTR.rateLimitKind]: kind };
      this.#m.limit.record(r.limit, attrs);
      if (r.remaining !== undefined) this.#m.remaining.record(r.remaining, attrs);
    }
  }

  #end(failure: Failure | undefined, error: unknown): void {
    this.#ended = true;
    const span = this.#span;
    span.setAttributes({
      [ATTR.attempts]: this.#retries + 1,
      [ATTR.retries]: this.#retries,
      [ATTR.pacedMs]: this.#pacedMs,
      [ATTR.backoffMs]: this.#backoffMs,
      [ATTR.retryAfterMs]: this.#retryAfterMs,
    });
    if (failure !== undefined) endFailed(span, failure, error);
    const outcome: Attributes = failure === undefined ? { [ATTR.outcome]: SUCCESS } : { [ATTR.outcome]: failure.code, [ATTR.errorType]: failure.code };
    this.#m.requests.add(1, { ...this.#common, ...outcome });
    if (this.#genai) this.#m.duration.record(Math.max(0, this.#now() - this.#started) / 1000, { ...this.#common, ...(failure !== undefined ? { [ATTR.errorType]: failure.code } : {}) });
    if (this.#paced) this.#m.pacing.record(this.#pacedMs / 1000, this.#common);
    if (this.#retries > 0) this.#m.backoff.record(this.#backoffMs / 1000, this.#common);
    span.end();
  }
}

/** The id a wait was given (an id string, a Response, a resume token), when it names one. */
function idOfTarget(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  const id = typeof target === 'object' && target !== null ? (target as { id?: unknown }).id : undefined;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** The failure a settled wait value still carries: a Response returned `incomplete`, a batch report's error. */
function failureInValue(value: unknown): Failure | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const reportError = (value as { error?: unknown; batch?: unknown }).batch !== undefined ? (value as { error?: unknown }).error : undefined;
  if (reportError !== undefined) return failureOf(reportError);
  return detectFailure(value) ?? undefined;
}

/** What a wait span has seen so far. */
interface WaitState {
  polls: number;
  retries: number;
  status: string | undefined;
}

/** The attributes of a failed attempt (a retried request attempt, a retried poll). */
function attemptAttributes(failure: RetryObservation['failure'], delayMs: number): Attributes {
  const a: Attributes = { [ATTR.failureCode]: failure.code, [ATTR.delayMs]: delayMs };
  if (failure.status !== undefined) a[ATTR.httpStatus] = failure.status;
  if (failure.retryAfterMs !== undefined) a[ATTR.retryAfterMs] = failure.retryAfterMs;
  if (failure.requestId !== undefined) a[ATTR.requestId] = failure.requestId;
  return a;
}

class OtelSink implements TelemetrySink {
  readonly #tracer: Tracer;
  readonly #m: Instruments;
  /** This sink's wait spans, found again from the active context when a wait reports progress. */
  readonly #waits = new WeakMap<Span, WaitState>();

  readonly #events: boolean;

  constructor(tracerProvider: TracerProvider | undefined, meterProvider: MeterProvider, record: 'spans' | 'events') {
    // The global provider is a proxy: a tracer taken from it now follows an SDK registered later.
    this.#tracer = (tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
    this.#m = new Instruments(meterProvider);
    this.#events = record === 'events';
  }

  /** A span of its own (`record: 'spans'`), or the caller's active span seen through an {@link EventSpan}. */
  #start(name: string, options: SpanOptions, event: string): Span {
    if (!this.#events) return this.#tracer.startSpan(name, options);
    const caller = trace.getActiveSpan() ?? trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    return new EventSpan(caller, event, options.attributes);
  }

  request(start: RequestStart): RequestObserver {
    const url = urlOf(start.input);
    const operation = url !== undefined ? operationOf(start.method, url.pathname) : undefined;
    const common: Attributes = {};
    if (operation !== undefined) {
      common[ATTR.operationName] = operation;
      const provider = providerOf(url!.hostname);
      common[ATTR.providerName] = provider;
      common[ATTR.system] = provider;
    }
    if (start.model !== undefined) common[ATTR.requestModel] = start.model;
    const spanAttrs: Attributes = { ...common, [ATTR.httpMethod]: start.method };
    if (url !== undefined) {
      common[ATTR.serverAddress] = url.hostname;
      spanAttrs[ATTR.serverAddress] = url.hostname;
      spanAttrs[ATTR.serverPort] = portOf(url);
    }
    // Span name: `{gen_ai.operation.name} {gen_ai.request.model}` for a GenAI call, the HTTP method otherwise.
    const name = operation !== undefined ? `${operation}${start.model !== undefined ? ` ${start.model}` : ''}` : start.method;
    const span = this.#start(name, { kind: SpanKind.CLIENT, attributes: spanAttrs }, REQUEST_EVENT);
    return new RequestTrace(span, this.#m, start, common, operation !== undefined);
  }

  waitEvent(event: WaitEvent): void {
    const span = trace.getActiveSpan();
    const state = span === undefined ? undefined : this.#waits.get(span);
    if (span === undefined || state === undefined) return;
    if (event.source === 'poll') state.polls++;
    if (event.failure !== undefined) {
      state.retries++;
      span.addEvent(WAIT_RETRY_EVENT, attemptAttributes(event.failure, event.delayMs ?? 0));
    } else if (event.status !== undefined && event.status !== state.status) {
      state.status = event.status;
      span.addEvent(WAIT_STATUS_EVENT, { [ATTR.objectStatus]: event.status, [ATTR.waitSource]: event.source });
    }
  }

  async wait<T>(start: WaitStart, run: () => Promise<T>): Promise<T> {
    const attrs: Attributes = { [ATTR.waitKind]: start.kind, [ATTR.waitOperation]: start.operation };
    const id = idOfTarget(start.kind === 'response' && start.operation === 'createAndWait' ? undefined : start.target);
    if (id !== undefined) attrs[ATTR.objectId] = id;
    const model = start.operation === 'createAndWait' ? (start.target as { model?: unknown } | null)?.model : undefined;
    if (typeof model === 'string') attrs[ATTR.requestModel] = model;
    const span = this.#start(`${start.operation}${id !== undefined ? ` ${id}` : ''}`, { kind: SpanKind.CLIENT, attributes: attrs }, WAIT_EVENT);
    const state: WaitState = { polls: 0, retries: 0, status: undefined };
    this.#waits.set(span, state);
    const began = performance.now();
    const metricAttrs: Attributes = { [ATTR.waitKind]: start.kind, [ATTR.waitOperation]: start.operation };
    const finish = (failure: Failure | undefined, error: unknown, value: unknown): void => {
      const object = (value as { batch?: unknown } | null)?.batch ?? value;
      const status = (object as { status?: unknown } | null)?.status;
      if (typeof status === 'string') span.setAttribute(ATTR.objectStatus, status);
      const objectId = idOfTarget(object) ?? failure?.objectId;
      if (objectId !== undefined && id === undefined) span.setAttribute(ATTR.objectId, objectId);
      span.setAttributes({ [ATTR.polls]: state.polls, [ATTR.retries]: state.retries });
      if (failure !== undefined) endFailed(span, failure, error);
      this.#m.waits.add(1, { ...metricAttrs, [ATTR.outcome]: failure?.code ?? SUCCESS, ...(failure !== undefined ? { [ATTR.errorType]: failure.code } : {}) });
      this.#m.waitDuration.record((performance.now() - began) / 1000, { ...metricAttrs, ...(failure !== undefined ? { [ATTR.errorType]: failure.code } : {}) });
      span.end();
    };
    let value: T;
    try {
      // Active while the wait runs: its requests nest under it, and waitEvent() finds it.
      value = await context.with(trace.setSpan(context.active(), span), run);
    } catch (error) {
      const failure = failureOf(error);
      const response = error instanceof FaultlineError ? error.response : undefined;
      finish(failure, error, response);
      throw error;
    }
    const failure = failureInValue(value);
    finish(failure, undefined, value);
    return value;
  }
}

const INSTRUMENT_KEYS: ReadonlySet<string> = new Set(Object.keys({ tracerProvider: true, meterProvider: true, record: true } satisfies Record<keyof InstrumentOptions, true>));

/**
 * Records every `createFetch` request and every background wait (`waitForResponse`, `createAndWait`,
 * `waitForBatch`, the journal's `resumeAll`) of this process as OpenTelemetry spans and metrics, from
 * every installed copy of faultline. Until it is called, and after `uninstrument()`, faultline does no
 * telemetry work at all.
 *
 * Spans are CLIENT spans, children of the context active when the request or wait starts. A request's
 * span is named `{gen_ai.operation.name} {gen_ai.request.model}` (`chat gpt-4o`) for a GenAI call, the
 * HTTP method otherwise. A failed final outcome sets `error.type` to the catalog code (see docs/otel.md
 * for the list) and the span status to ERROR; each retried attempt is a `faultline.retry` span event.
 * With `record: 'events'`, no span is started: the same is recorded as span events on the caller's
 * active span (see {@link InstrumentOptions.record}).
 *
 * @example
 * import { instrument } from 'faultline/otel';
 * const otel = instrument({ tracerProvider, meterProvider });
 * // ... later, on shutdown:
 * otel.uninstrument();
 */
export function instrument(options: InstrumentOptions = {}): FaultlineInstrumentation {
  const owner = 'instrument';
  const o = optionsObject(owner, options);
  rejectUnknown(owner, o, INSTRUMENT_KEYS);
  const tracerProvider = provider(owner, 'tracerProvider', o['tracerProvider'], 'getTracer') as TracerProvider | undefined;
  const meterProvider = (provider(owner, 'meterProvider', o['meterProvider'], 'getMeter') as MeterProvider | undefined) ?? metrics.getMeterProvider();
  const record = oneOf(owner, 'record', o['record'], ['spans', 'events'], 'spans');
  const detach = attachSink(new OtelSink(tracerProvider, meterProvider, record));
  return { uninstrument: detach };
}

function provider(owner: string, name: string, value: unknown, method: string): unknown {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof (value as Record<string, unknown>)[method] !== 'function') {
    throw misuse('type', owner, name, `an OpenTelemetry ${name[0]!.toUpperCase()}${name.slice(1)} (with ${method}())`, value);
  }
  return value;
}
