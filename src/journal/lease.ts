/**
 * Keeping a journal lease: the one renewal loop, used while a wait follows a job (its link) and while
 * the outcome handler runs (its delivery). A lease lasts `leaseMs` without renewal and is renewed every
 * third of that, so two renewals can fail (a slow store, a stalled event loop) before it lapses.
 */
import type { Clock } from '../internal/clock.ts';
import type { JournalStore } from './store.ts';

/** A lease being renewed. */
export interface KeptLease {
  /** Aborts once, at the first failed renewal: another process may hold the job now. */
  readonly lost: AbortSignal;
  /** Stop renewing (the lease is left as it is); resolves when no renewal is in flight. */
  stop(): Promise<void>;
}

/** Renew `key`'s lease for `owner` every `leaseMs / 3` of `clock` time until `stop()` or a failed renewal. */
export function keepLease(store: Pick<JournalStore, 'renewLease'>, key: string, owner: string, leaseMs: number, clock: Clock): KeptLease {
  const lost = new AbortController();
  const halt = new AbortController();
  const loop = (async () => {
    while (!halt.signal.aborted) {
      await clock.sleep(leaseMs / 3, halt.signal);
      if (halt.signal.aborted) return;
      // A store that throws is a renewal that failed: the lease may lapse, so say it is lost.
      if (!(await store.renewLease(key, owner, clock.now() + leaseMs).catch(() => false))) {
        lost.abort();
        return;
      }
    }
  })();
  return {
    lost: lost.signal,
    stop: async () => {
      halt.abort();
      await loop;
    },
  };
}
