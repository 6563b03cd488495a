/**
 * The one wait loop of the background layer. `waitForResponse`, `createAndWait`, `waitForBatch` and the
 * journal's `resumeAll` all run it; what differs between them is the {@link JobSource} (how one step
 * reads the job: a poll, a stream attempt) and what they make of the outcome.
 *
 * The loop decides, here and nowhere else: the order of the reasons to stop (the caller's abort, the
 * source's own interrupts such as webhook news or a lost lease, the deadline), the sleep between steps
 * (capped at the deadline, woken early by {@link Wakeup}), and the count of transient errors in a row.
 * It never throws to leave: it returns a {@link WaitOutcome}, and the caller turns that into a result or
 * a typed error at the edge (STYLE #15). Cancel-on-abort (`cancel.ts`) and following another process's
 * journal (`follow.ts`) are run beside it, on its outcome.
 */
import { isRetryableFailure } from '../core/catalog.ts';
import { classify } from '../core/classify/index.ts';
import { toError, type FaultlineError } from '../core/errors.ts';
import { makeError, type Resolved } from './options.ts';
import { errorDelay } from './poll-backoff.ts';
import { noteWait, telemetry } from '../internal/telemetry.ts';

/** How a wait ended, as a value. */
export type WaitOutcome<T> =
  /** The job's terminal object, seen by this wait (completed, failed, cancelled, …). */
  | { readonly kind: 'result'; readonly value: T }
  /** The terminal object another process recorded in the journal, read while following it. */
  | { readonly kind: 'followed'; readonly value: T }
  /** The deadline passed first; `last` is the last object seen. */
  | { readonly kind: 'deadline'; readonly last: T | undefined }
  /** The caller's signal aborted; what that does to the job is the caller's `abort` policy. */
  | { readonly kind: 'aborted'; readonly reason: unknown; readonly last: T | undefined }
  /** `maxTransientErrors` transient errors in a row: the last one's typed error. */
  | { readonly kind: 'transient'; readonly error: FaultlineError }
  /** An error that ends the wait (a 404 after the id was seen, auth, a broken create stream, …). */
  | { readonly kind: 'failed'; readonly error: FaultlineError }
  /** The journal lease went to another process: stop reading the server, follow the journal. */
  | { readonly kind: 'leaseLost' };

/** What one step of a {@link JobSource} did. */
export type Step<T> =
  /** The job is terminal. */
  | { readonly kind: 'terminal'; readonly value: T }
  /** Sleep `delayMs` (capped at the deadline), then step again; `healthy` resets the transient count. */
  | { readonly kind: 'again'; readonly delayMs: number; readonly healthy: boolean }
  /** Woken or stopped: check the reasons to stop at once, no sleep. */
  | { readonly kind: 'now' }
  /** A request failed: counted as transient and retried, or the end of the wait. */
  | { readonly kind: 'error'; readonly error: unknown }
  /** The source itself ends the wait. */
  | { readonly kind: 'end'; readonly outcome: WaitOutcome<T> };

export const NOW: Step<never> = Object.freeze({ kind: 'now' });

/** One job as the loop sees it. */
export interface JobSource<T> {
  /** The object's kind in messages: `'Background response'`, `'Batch'`. */
  readonly what: string;
  readonly id: string | undefined;
  /** Whether the server has shown the job once (a 404 after that means it expired). */
  readonly seen: boolean;
  /** The last object seen. */
  readonly last: T | undefined;
  /** A reason to stop that the source knows of (webhook news, a lost lease), checked before each step. */
  interrupt?(): Promise<WaitOutcome<T> | undefined>;
  /** One read of the job; requests and waits inside it are stopped by `wakeup.next()`'s signal. */
  step(wakeup: Wakeup): Promise<Step<T>>;
}

/** What the loop reads from the resolved wait options. */
export type LoopRules = Pick<Resolved, 'clock' | 'random' | 'policy' | 'deadlineAt' | 'maxTransient' | 'signal'>;

/**
 * Wakes a step or a sleep early. Each step or sleep takes a fresh signal with {@link Wakeup.next};
 * {@link Wakeup.ring} aborts it, but only while `due()` says there is a reason to wake, so that a
 * reason that does not apply any more (the caller's abort once the job is being cancelled, a lost lease
 * once the journal is being followed) never cuts a request short or spins the loop.
 */
export class Wakeup {
  readonly #due: () => boolean;
  #current: AbortController | undefined;

  constructor(due: () => boolean) {
    this.#due = due;
  }

  /** A signal for the next step or sleep (on `controller`, if given), already aborted when a reason is due. */
  next(controller = new AbortController()): AbortSignal {
    this.#current = controller;
    if (this.#due()) controller.abort();
    return controller.signal;
  }

  /** Wake the current step or sleep, when a reason is due. */
  ring(): void {
    if (this.#due()) this.#current?.abort();
  }
}

/**
 * What a failed poll means: the delay before the next one, or the outcome that ends the wait. A 404 on
 * an id that was seen is `expired` (retention or deletion); a transient error (429, 5xx, timeout, reset)
 * is retried while `attempt` (consecutive) stays within `maxTransientErrors`.
 */
export function pollErrorOutcome(error: unknown, r: LoopRules, s: { seen: boolean; id: string | undefined; what: string; attempt: number }): number | WaitOutcome<never> {
  const failure = classify(error, { now: r.clock.now() });
  if (failure.status === 404 || failure.code === 'not_found') {
    if (s.seen) {
      return { kind: 'failed', error: makeError('expired', `${s.what} ${s.id ?? ''} is gone (404): it outlived its retention or was deleted before its result was read.`, { cause: error, objectId: s.id }) };
    }
    // OpenAI sends its 404 with `type: invalid_request_error`; on a retrieve by id it means "no such id".
    if (failure.code !== 'not_found') return { kind: 'failed', error: makeError('not_found', failure.message, { cause: error, objectId: s.id }) };
    return { kind: 'failed', error: toError(error) };
  }
  if (!isRetryableFailure(failure)) return { kind: 'failed', error: toError(error) };
  if (s.attempt > r.maxTransient) return { kind: 'transient', error: toError(error) };
  const delayMs = errorDelay(r.policy, s.attempt, r.random(), failure.retryAfterMs);
  if (telemetry.active) noteWait({ source: 'poll', failure, delayMs });
  return delayMs;
}

/** Run `source` until an outcome: the caller's abort, the source's interrupts, the deadline, in that order. */
export async function runLoop<T>(source: JobSource<T>, r: LoopRules, wakeup: Wakeup): Promise<WaitOutcome<T>> {
  let transient = 0;
  for (;;) {
    if (r.signal?.aborted === true) return { kind: 'aborted', reason: r.signal.reason, last: source.last };
    const interrupted = await source.interrupt?.();
    if (interrupted !== undefined) return interrupted;
    if (r.clock.now() >= r.deadlineAt) return { kind: 'deadline', last: source.last };
    const step = await source.step(wakeup);
    let delayMs: number;
    if (step.kind === 'terminal') return { kind: 'result', value: step.value };
    if (step.kind === 'end') return step.outcome;
    if (step.kind === 'now') continue;
    if (step.kind === 'again') {
      if (step.healthy) transient = 0;
      delayMs = step.delayMs;
    } else {
      const next = pollErrorOutcome(step.error, r, { seen: source.seen, id: source.id, what: source.what, attempt: ++transient });
      if (typeof next !== 'number') return next;
      delayMs = next;
    }
    const wake = wakeup.next();
    if (!wake.aborted) await r.clock.sleep(Math.max(0, Math.min(delayMs, r.deadlineAt - r.clock.now())), wake);
  }
}
