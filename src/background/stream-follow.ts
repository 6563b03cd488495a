/**
 * Following one Responses stream attempt, with exactly-once events across reconnects: every event
 * carries a `sequence_number`; the follower keeps the last one seen (the cursor), resumes with
 * `starting_after: cursor`, and drops any event at or below the cursor that a server sends again.
 */
import { isRetryableFailure } from '../core/catalog.ts';
import { classify } from '../core/classify/index.ts';
import { isCauselessFailed, mergeHeldCause } from '../core/stream.ts';
import { isTerminal, type BackgroundResponse } from './types.ts';

/** How one stream attempt ended. */
export type StreamAttempt =
  /** A terminal event arrived; `response` is the final Response it carried. */
  | { readonly kind: 'terminal'; readonly response: BackgroundResponse }
  /** The connection ended or broke before a terminal event: resume from the cursor. */
  | { readonly kind: 'dropped'; readonly error?: unknown }
  /** The server will not (or can no longer) stream this Response: poll instead. */
  | { readonly kind: 'unstreamable'; readonly error: unknown }
  /** Our own signal stopped the attempt (abort, deadline, webhook news, lease lost). */
  | { readonly kind: 'stopped' };

/**
 * What a request sent with `stream: true` answered: an event stream, or a plain body. Some
 * OpenAI-compatible servers and proxies ignore `stream: true` and send the Response as
 * `application/json`; the SDK still wraps that in a `Stream` that yields nothing, so the content type
 * decides, read through the SDK's `withResponse()` before the stream is touched.
 */
export type StreamAnswer = { readonly kind: 'stream'; readonly events: AsyncIterable<unknown> } | { readonly kind: 'body'; readonly body: unknown };

/** Await `call` (an SDK request made with `stream: true`, or any promise) and tell a stream from a body. */
export async function openStream(call: PromiseLike<unknown>): Promise<StreamAnswer> {
  const withResponse = (call as { withResponse?: unknown }).withResponse;
  if (typeof withResponse === 'function') {
    const { data, response } = (await withResponse.call(call)) as { data: unknown; response: unknown };
    const body = await plainBody(response);
    if (body !== NOT_PLAIN) return { kind: 'body', body };
    return answerOf(data);
  }
  return answerOf(await call);
}

const NOT_PLAIN = Symbol('not a plain body');

/** The parsed body of an HTTP answer that is not an event stream (JSON, or the text kept raw). */
async function plainBody(response: unknown): Promise<unknown> {
  if (typeof response !== 'object' || response === null) return NOT_PLAIN;
  const r = response as { headers?: { get?: (name: string) => unknown }; bodyUsed?: unknown; text?: () => Promise<string> };
  const type = typeof r.headers?.get === 'function' ? r.headers.get('content-type') : undefined;
  if (typeof type !== 'string' || /text\/event-stream/i.test(type) || r.bodyUsed === true || typeof r.text !== 'function') return NOT_PLAIN;
  const text = await r.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text; // bad data from the wire: the caller classifies it, the raw text kept
  }
}

function answerOf(data: unknown): StreamAnswer {
  if (data !== null && typeof data === 'object' && typeof (data as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function') {
    return { kind: 'stream', events: data as AsyncIterable<unknown> };
  }
  return { kind: 'body', body: data };
}

const TERMINAL_EVENTS = new Set(['response.completed', 'response.failed', 'response.incomplete', 'response.cancelled']);

/** Mutable cursor shared across attempts. */
export interface StreamCursor {
  cursor: number | undefined;
  /**
   * A `response.failed` without its cause after which the connection broke: the `error` event that
   * carries the cause may be what was lost, so the next attempt (resumed after it) reads one more event.
   */
  heldFailed?: BackgroundResponse | undefined;
}

/**
 * Read `events` until a terminal event, the end of the stream, or an error.
 * @param onEvent called once per new event, in order, after the cursor moved past it.
 */
export async function followStream(
  events: AsyncIterable<unknown>,
  state: StreamCursor,
  stop: AbortSignal,
  onEvent: (event: Record<string, unknown>) => void | Promise<void>,
): Promise<StreamAttempt> {
  // Azure sends `response.failed` with `error: null` and the cause in the `error` event that follows:
  // such a Response is held for one event and merged with it (the rule: core/stream.ts, isCauselessFailed).
  // Held over from an attempt cut right after it (see StreamCursor.heldFailed).
  let failedWithoutCause: BackgroundResponse | undefined = state.heldFailed;
  const terminal = (response: BackgroundResponse): StreamAttempt => {
    state.heldFailed = undefined;
    return { kind: 'terminal', response };
  };
  try {
    for await (const raw of events) {
      if (stop.aborted) return { kind: 'stopped' };
      if (typeof raw !== 'object' || raw === null) continue;
      const event = raw as Record<string, unknown>;
      const seq = event['sequence_number'];
      if (typeof seq === 'number') {
        if (state.cursor !== undefined && seq <= state.cursor) continue; // sent again after a resume
        state.cursor = seq;
      }
      if (failedWithoutCause !== undefined) return terminal(mergeHeldCause(failedWithoutCause, event) ?? failedWithoutCause);
      if (event['type'] === 'error') {
        // A stream-level error event ("can no longer be streamed", a server fault): the Response may
        // still be running, and polling tells the truth.
        return { kind: 'unstreamable', error: event };
      }
      await onEvent(event);
      const response = event['response'];
      if (typeof event['type'] === 'string' && TERMINAL_EVENTS.has(event['type']) && isTerminal(response)) {
        if (isCauselessFailed(event)) {
          failedWithoutCause = response;
          continue;
        }
        return terminal(response);
      }
    }
    // The server ended the stream after it: there is no cause to wait for.
    if (failedWithoutCause !== undefined) return terminal(failedWithoutCause);
    return stop.aborted ? { kind: 'stopped' } : { kind: 'dropped' };
  } catch (error) {
    if (failedWithoutCause !== undefined) {
      // Cut right after it: resume once (after its sequence number) to read the cause; cut again, or
      // stopped, it is final as it is.
      if (state.heldFailed === undefined && !stop.aborted && state.cursor !== undefined) {
        state.heldFailed = failedWithoutCause;
        return { kind: 'dropped', error };
      }
      return terminal(failedWithoutCause);
    }
    if (stop.aborted) return { kind: 'stopped' };
    const failure = classify(error);
    // A retryable failure mid-stream (a cut connection, a server fault) is resumable; a 4xx (400 "cannot
    // be streamed", 404) is not, and polling decides.
    if (isRetryableFailure(failure)) {
      return { kind: 'dropped', error };
    }
    return { kind: 'unstreamable', error };
  }
}
