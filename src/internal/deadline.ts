/**
 * The per-attempt timeout, written once (CONTRIBUTING.md, "one source per rule"). `retry()` starts it
 * when an attempt starts; `createFetch` when the request is sent, because the wait for a pacing turn
 * must not count against the attempt.
 */
import { abortReason } from './abort.ts';
import { sleepFor, type Clock } from './clock.ts';

/** One attempt's signal and how it ended. */
export interface AttemptDeadline {
  /** Aborts when `parent` aborts (with its reason) or when the attempt's time is up (a `TimeoutError`). */
  readonly signal: AbortSignal;
  /** True once the timeout, not the parent, aborted {@link AttemptDeadline.signal}. */
  timedOut(): boolean;
  /** The attempt is over: clears the timer and the listener on `parent`. Safe to call more than once. */
  end(): void;
}

/** The reason an attempt that ran out of time is aborted with (classified as `timeout`, retried). */
export function attemptTimeoutError(ms: number): DOMException {
  return new DOMException(`The attempt took longer than ${ms} ms`, 'TimeoutError');
}

/**
 * An attempt nothing can abort (no parent, no time limit): its signal never aborts, so it is made only
 * when read (createFetch reads it only when something can abort; an AbortController costs a few µs).
 */
class Unbounded implements AttemptDeadline {
  #signal: AbortSignal | undefined;
  get signal(): AbortSignal {
    return (this.#signal ??= new AbortController().signal);
  }
  timedOut(): boolean {
    return false;
  }
  end(): void {}
}

/** The reason the internal timer-stop signal aborts with (nobody reads it; the default builds a DOMException). */
const ENDED = Symbol('faultline.attempt.ended');

/**
 * A signal for one attempt: it follows `parent` and, when `ms` is given, aborts `ms` milliseconds of
 * `clock` time from now with {@link attemptTimeoutError}. A parent that aborts first wins: its reason is
 * the signal's, and `timedOut()` stays false. Call `end()` when the attempt settles.
 */
export function attemptDeadline(clock: Clock, parent: AbortSignal | undefined, ms: number | undefined): AttemptDeadline {
  if (parent === undefined && ms === undefined) return new Unbounded();
  const controller = new AbortController();
  // Only a timed attempt has a timer to stop (an AbortController and its abort cost a few µs each).
  const stop = ms === undefined ? undefined : new AbortController();
  let timedOut = false;
  const forward = (): void => controller.abort(abortReason(parent!));
  if (parent?.aborted === true) forward();
  else parent?.addEventListener('abort', forward, { once: true });
  if (stop !== undefined && !controller.signal.aborted) {
    void sleepFor(clock, ms!, undefined, stop.signal).then(() => {
      if (stop.signal.aborted || controller.signal.aborted) return;
      timedOut = true;
      controller.abort(attemptTimeoutError(ms!));
    });
  }
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    end: () => {
      if (stop?.signal.aborted === false) stop.abort(ENDED);
      parent?.removeEventListener('abort', forward);
    },
  };
}
