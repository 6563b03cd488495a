/**
 * Following another process's journal, beside the wait loop: once the journal lease of a job went to
 * another process (the loop's `leaseLost` outcome), that process polls and this wait reads what it
 * records, with no request to the server, until the deadline, the caller's abort, or webhook news.
 */
import type { FaultlineError } from '../core/errors.ts';
import type { LoopRules, WaitOutcome, Wakeup } from './loop.ts';
import type { JournalLink } from '../internal/journal-port.ts';

/** What following needs from the job's source. */
export interface FollowedSource<T> {
  readonly last: T | undefined;
  /** Terminal webhook news for this job, taken once. */
  takeNews(): T | undefined;
  /** Whether a recorded result is the job's terminal object. */
  isFinal(value: unknown): value is T;
  /** The error for a job another process marked lost. */
  lostError(reason: string): FaultlineError;
}

/** Read the journal until the holder records the outcome, or the deadline, the abort or webhook news. */
export async function followJournal<T>(link: JournalLink, source: FollowedSource<T>, r: LoopRules, wakeup: Wakeup): Promise<WaitOutcome<T>> {
  for (;;) {
    const wake = new AbortController();
    wakeup.next(wake);
    if (r.signal?.aborted === true) return { kind: 'aborted', reason: r.signal.reason, last: source.last };
    const news = source.takeNews();
    if (news !== undefined) return { kind: 'result', value: news };
    if (r.clock.now() >= r.deadlineAt) return { kind: 'deadline', last: source.last };
    const timer = r.clock.sleep(Math.max(0, r.deadlineAt - r.clock.now()), wake.signal).then(() => wake.abort());
    const recorded = await link.awaitRecorded(wake.signal);
    wake.abort();
    await timer;
    if (recorded !== undefined && 'result' in recorded && source.isFinal(recorded.result)) return { kind: 'followed', value: recorded.result };
    if (recorded !== undefined && 'lost' in recorded) return { kind: 'failed', error: source.lostError(recorded.lost) };
  }
}
