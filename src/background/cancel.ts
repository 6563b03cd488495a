/**
 * Cancel-on-abort, beside the wait loop: with `abort: 'cancel'`, an aborted wait asks the server to
 * cancel the job, then runs the same loop (without the caller's signal, which has fired) until the
 * server says what the final state is, bounded by the same deadline. A cancel can lose the race with
 * completion, so the reads after it decide, never the cancel's own answer.
 */
import { runLoop, type JobSource, type LoopRules, type WaitOutcome, type Wakeup } from './loop.ts';

/** A {@link JobSource} that can cancel its job. */
export interface CancellableSource<T> extends JobSource<T> {
  /** Ask the server to cancel; its answer is not trusted (the reads after it decide). */
  cancel(signal: AbortSignal): PromiseLike<unknown>;
  /** From now on only read the job (no stream, no lease), and return the wake-up for those reads. */
  startCancel(): Wakeup;
}

/** Cancel the job remotely, then read it until it is terminal or the deadline passes. */
export async function cancelOnAbort<T>(source: CancellableSource<T>, r: LoopRules): Promise<WaitOutcome<T>> {
  const wakeup = source.startCancel();
  // The cancel must outlive the caller's (already aborted) signal: its own, bounded by the deadline.
  const own = new AbortController();
  const timer = r.clock.sleep(Math.max(0, r.deadlineAt - r.clock.now()), own.signal).then(() => own.abort());
  try {
    try {
      await source.cancel(own.signal);
    } catch {
      // Already terminal (400 "cannot cancel a completed response"), 404, a reset: the reads tell the truth.
    }
    return await runLoop(source, { ...r, signal: undefined }, wakeup);
  } finally {
    own.abort();
    await timer;
  }
}
