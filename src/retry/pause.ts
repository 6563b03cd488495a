/**
 * Sleeping, kept apart from deciding: every wait here is bounded, cut short by an `AbortSignal`, and
 * leaves no timer or listener behind.
 */
import type { Clock } from '../background/clock.ts';

/** The abort reason of a signal (a `DOMException` named `AbortError` when none was given). */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Throws the signal's reason when it has aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw abortReason(signal);
}

/**
 * Waits `ms` milliseconds of `clock` time. Resolves early (without throwing) when `wake` aborts, and
 * rejects with the reason as soon as `signal` aborts, even if the clock's `sleep` ignores signals.
 */
export async function sleepFor(clock: Clock, ms: number, signal?: AbortSignal, wake?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  if (wake?.aborted === true) return;
  if (!(ms > 0)) return;
  const stop = new AbortController();
  const cut = (): void => stop.abort();
  signal?.addEventListener('abort', cut, { once: true });
  wake?.addEventListener('abort', cut, { once: true });
  try {
    await Promise.race([
      clock.sleep(ms, stop.signal).catch(() => undefined),
      new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true })),
    ]);
  } finally {
    signal?.removeEventListener('abort', cut);
    wake?.removeEventListener('abort', cut);
    stop.abort(); // ends the clock's sleep (and clears its timer) if it is still pending
  }
  throwIfAborted(signal);
}

/** Settles like `promise`, or rejects with the signal's reason as soon as `signal` aborts. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => undefined);
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
