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
  let pending: { readonly failure: Failure; readonly response: object } | null = null;
  let first: Failure | null = null;
  const report = (f: Failure | null): Failure | null => {
    if (f !== null && first === null) first = f;
    return f;
  };
  return {
    push(event) {
      if (pending !== null) {
        const held = pending;
        pending = null;
        // Merged: the failed Response with the cause written in, classified like any failed Response.
        const merged = mergeHeldCause(held.response, event);
        return report((merged !== undefined ? detectFailure(merged, options) : null) ?? held.failure);
      }
      const f = detectFailure(event, options);
      if (f !== null && f.source !== 'webhook' && isCauselessFailed(event)) {
        pending = { failure: f, response: (event as { response: object }).response };
        return null;
      }
      return report(f);
    },
    end() {
      const held = pending;
      pending = null;
      return report(held?.failure ?? null);
    },
    get failure() {
      return first;
    },
  };
}

/*
 * Azure's cause-less `response.failed`: the rule, written once. Azure OpenAI sends a `response.failed`
 * event whose Response has `status: 'failed'` and `error: null`, and the cause in the `error` event that
 * follows it (flat, `{ type: 'error', code, message }`, or nested, `{ type: 'error', error: { … } }`).
 * Every reader of a Responses stream (trackStreamFailures here, the background stream follower) holds
 * such an event for one event and merges the two with these functions, so they agree on every sequence.
 * Seen in https://github.com/maximhq/bifrost/pull/6652 (test/fixtures/payloads.ts keeps the payload).
 */

/** True for a `response.failed` event whose failed Response carries no cause (`error: null` or absent). */
export function isCauselessFailed(event: unknown): boolean {
  try {
    const e = event as { type?: unknown; response?: { status?: unknown; error?: unknown } | null } | null;
    return e?.type === 'response.failed' && typeof e.response === 'object' && e.response !== null && e.response.status === 'failed' && e.response.error == null;
  } catch {
    return false; // a hostile object (throwing getters) is no Azure pair
  }
}

/** True for the event that carries a held failure's cause: `error` (or `response.error`). */
function isCauseEvent(event: unknown): event is Record<string, unknown> {
  try {
    const type = (event as { type?: unknown } | null)?.type;
    return type === 'error' || type === 'response.error';
  } catch {
    return false;
  }
}

/**
 * The held cause-less Response (`held`, from {@link isCauselessFailed}'s event) with the cause carried by
 * `causeEvent` written into its `error` (`code`, `message`, and `type`/`param` when the event has them),
 * or `undefined` when `causeEvent` is not the cause: the held Response is then final as it is.
 */
export function mergeHeldCause<T extends object>(held: T, causeEvent: unknown): T | undefined {
  if (!isCauseEvent(causeEvent)) return undefined;
  const nested = causeEvent['error'];
  const isNested = typeof nested === 'object' && nested !== null;
  const source = isNested ? (nested as Record<string, unknown>) : causeEvent;
  const error: Record<string, unknown> = {
    code: typeof source['code'] === 'string' ? source['code'] : null,
    message: typeof source['message'] === 'string' ? source['message'] : 'The response failed (cause sent in a following error event)',
  };
  // A flat event's `type` is the event's own ('error'), not the error's.
  if (isNested && typeof source['type'] === 'string') error['type'] = source['type'];
  if (typeof source['param'] === 'string') error['param'] = source['param'];
  return { ...held, error };
}
