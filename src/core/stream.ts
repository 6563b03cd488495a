import { detectFailure, type ClassifyOptions } from './classify/index.ts';
import type { Failure } from './failure.ts';

/** Reads a stream of events (Responses or Chat Completions) and reports the failure in it, once. */
export interface StreamFailureTracker {
  /**
   * Feed one event. Returns the failure it completes, or `null`. A `response.failed` whose `error` is
   * `null` is held back for one event, because Azure sends the cause in the `error` event that follows.
   */
  push(event: unknown): Failure | null;
  /** The stream ended: returns a failure still held back, or `null`. */
  end(): Failure | null;
  /** The first failure reported so far, if any. */
  readonly failure: Failure | null;
}

/**
 * A small stateful helper for failures in streams, including Azure's pair where `response.failed`
 * carries `error: null` and a following `error` event carries the cause: the two are merged into one
 * failure with the event's code and the response's id.
 *
 * @example
 * const tracker = trackStreamFailures();
 * for await (const event of stream) {
 *   const failure = tracker.push(event);
 *   if (failure) throw toError(failure);
 * }
 * const last = tracker.end();
 */
export function trackStreamFailures(options?: ClassifyOptions): StreamFailureTracker {
  let pending: Failure | null = null;
  let first: Failure | null = null;
  const report = (f: Failure | null): Failure | null => {
    if (f !== null && first === null) first = f;
    return f;
  };
  return {
    push(event) {
      const f = detectFailure(event, options);
      if (pending !== null) {
        const held: Failure = pending;
        pending = null;
        if (f !== null && isErrorEvent(event)) {
          // Merge: the cause from the error event, the id from the failed response.
          return report(held.objectId !== undefined && f.objectId === undefined ? { ...f, objectId: held.objectId } : f);
        }
        report(held);
        return held;
      }
      if (f !== null && f.code === 'unknown' && f.source !== 'webhook' && isFailedWithNullError(event)) {
        pending = f;
        return null;
      }
      return report(f);
    },
    end() {
      const held = pending;
      pending = null;
      return report(held);
    },
    get failure() {
      return first;
    },
  };
}

function isErrorEvent(event: unknown): boolean {
  const type = (event as { type?: unknown } | null)?.type;
  return type === 'error' || type === 'response.error';
}

function isFailedWithNullError(event: unknown): boolean {
  try {
    const e = event as { type?: unknown; response?: { status?: unknown; error?: unknown } } | null;
    return e?.type === 'response.failed' && e.response?.status === 'failed' && e.response.error == null;
  } catch {
    return false;
  }
}
