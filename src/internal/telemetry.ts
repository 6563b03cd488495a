/**
 * The instrumentation port: how `createFetch` and the background waits tell an observer (today only
 * `faultline/otel`) what they did, without the core knowing any telemetry library.
 *
 * - **One registry per process**, kept on `globalThis` under `Symbol.for('faultline.telemetry.v1')`, so
 *   two installed copies of faultline (an app's and a library's) report to the same observers.
 * - **Zero cost when nobody listens**: every emit site checks `telemetry.active` (a plain boolean field)
 *   before building anything; the hooks below return their input unchanged when handed no observer.
 * - **Raw values out, meaning in the observer**: emit sites pass what they hold (the `Response`, the
 *   thrown error, the retry info); the observer classifies. This file imports nothing, so it can sit
 *   under `internal/`, and the emit calls stay one line each in the files that own the logic.
 *
 * The event shapes are versioned by the registry key: a change that an older observer could misread
 * takes a new key (`…v2`), never a new meaning for an old field.
 */

/** What a retried attempt looked like (structurally, `RetryInfo` of `retry()` fits). */
export interface RetryObservation {
  /** The attempt that failed, 1-based. */
  readonly attempt: number;
  /** Its failure (a faultline `Failure`). */
  readonly failure: {
    readonly code: string;
    readonly status?: number;
    readonly retryAfterMs?: number;
    readonly requestId?: string;
  };
  /** The attempt's original error (for an HTTP failure, it carries the `response`). */
  readonly error: unknown;
  /** How long the retry loop sleeps before the next attempt, in milliseconds (0 when the pacer waits instead). */
  readonly delayMs: number;
}

/** What a `createFetch` request starts with. */
export interface RequestStart {
  readonly method: string;
  /** The request as given to the fetch (a URL string, a `URL` or a `Request`). */
  readonly input: unknown;
  /** The `model` named in the JSON body, when there is one. */
  readonly model: string | undefined;
  /** Whether the body asked for `stream: true`. */
  readonly stream: boolean;
  /** The fetch's clock: durations reported are read on it (a fake clock in tests). */
  readonly now: () => number;
}

/** Follows one `createFetch` request from its start to its final outcome. */
export interface RequestObserver {
  /** A wait for a pacing turn; resolves or rejects as `turn` does. */
  paced<T>(turn: Promise<T>): Promise<T>;
  /** An attempt failed and will be retried after `info.delayMs`. */
  retried(info: RetryObservation): void;
  /** The request ended with this answer (a success: failed answers come to {@link failed}). */
  succeeded(response: Response): void;
  /** The request ended with this error; `response` is the failed answer when there was one. */
  failed(error: unknown, response: Response | undefined): void;
}

/** What a background wait starts with. */
export interface WaitStart {
  /** The public function: `waitForResponse`, `createAndWait`, `waitForBatch` (or `resumeAll`). */
  readonly operation: string;
  readonly kind: 'response' | 'batch';
  /** What the wait was given: an id, a Response, a resume token, or (for `createAndWait`) the create params. */
  readonly target: unknown;
}

/** Something a running wait saw: a snapshot's status, or a failed poll it will retry after `delayMs`. */
export interface WaitEvent {
  /** Where it came from: `poll`, `stream`, `webhook`, `create`. */
  readonly source: string;
  /** The object's status in a snapshot. */
  readonly status?: string | undefined;
  /** A failed poll's failure (it is retried after `delayMs`). */
  readonly failure?: RetryObservation['failure'];
  readonly delayMs?: number;
}

/** An observer of the process: it may follow any request or wait (or decline by returning `undefined`). */
export interface TelemetrySink {
  request(start: RequestStart): RequestObserver | undefined;
  /**
   * Runs the wait `run` and settles as it does. The sink may run it inside its own context (so spans
   * of requests made during the wait become its children), and reads the outcome: the settled value (a
   * Response, a batch report) or the error.
   */
  wait<T>(start: WaitStart, run: () => Promise<T>): Promise<T>;
  /**
   * A wait's progress, reported from inside `run` (the sink finds its wait in its own context). Optional.
   */
  waitEvent?(event: WaitEvent): void;
}

/** The process-wide registry. */
export interface TelemetryRegistry {
  /** True while at least one sink is attached: the one check every emit site makes. */
  active: boolean;
  readonly sinks: Set<TelemetrySink>;
}

const KEY = Symbol.for('faultline.telemetry.v1');

function registry(): TelemetryRegistry {
  const g = globalThis as { [KEY]?: TelemetryRegistry };
  g[KEY] ??= { active: false, sinks: new Set() };
  return g[KEY];
}

/** The registry every copy of faultline in the process shares. */
export const telemetry: TelemetryRegistry = registry();

/** Attaches a sink; the returned function detaches it (idempotent). */
export function attachSink(sink: TelemetrySink): () => void {
  telemetry.sinks.add(sink);
  telemetry.active = true;
  return () => {
    telemetry.sinks.delete(sink);
    telemetry.active = telemetry.sinks.size > 0;
  };
}

/** A sink that throws must never break the request it watches. */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // an observer's bug is not the caller's failure
  }
}

/** Starts observing a request: `undefined` when no sink wants it. Call only when `telemetry.active`. */
export function startRequest(start: RequestStart): RequestObserver | undefined {
  const observers: RequestObserver[] = [];
  for (const sink of telemetry.sinks) {
    safely(() => {
      const o = sink.request(start);
      if (o !== undefined) observers.push(o);
    });
  }
  if (observers.length === 0) return undefined;
  return {
    paced: (turn) => observers.reduce((p, o) => o.paced(p), turn),
    retried: (info) => observers.forEach((o) => safely(() => o.retried(info))),
    succeeded: (res) => observers.forEach((o) => safely(() => o.succeeded(res))),
    failed: (error, res) => observers.forEach((o) => safely(() => o.failed(error, res))),
  };
}

/** The pacing wait `turn`, observed when there is an observer. */
export function pacedTurn<T>(observer: RequestObserver | undefined, turn: Promise<T>): Promise<T> {
  return observer === undefined ? turn : observer.paced(turn);
}

/** The retry loop's `onRetry`, with the observer told first. */
export function retryHook<I extends RetryObservation>(observer: RequestObserver | undefined, onRetry: ((info: I) => void) | undefined): ((info: I) => void) | undefined {
  if (observer === undefined) return onRetry;
  return (info) => {
    observer.retried(info);
    onRetry?.(info);
  };
}

/** Reports a running wait's progress to every sink. Call only when `telemetry.active`. */
export function noteWait(event: WaitEvent): void {
  for (const sink of telemetry.sinks) safely(() => sink.waitEvent?.(event));
}

/** Runs the wait `run` under every sink (nested, first attached outermost); just `run()` when none listens. */
export function observeWait<T>(start: WaitStart, run: () => Promise<T>): Promise<T> {
  if (!telemetry.active) return run();
  let next = run;
  for (const sink of [...telemetry.sinks].reverse()) {
    const inner = next;
    next = () => sink.wait(start, inner);
  }
  return next();
}
