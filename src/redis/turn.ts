/**
 * The executor of a {@link SharedBudget}'s decisions for callers without a pacer of their own: asks,
 * sleeps until the slot or the next ask, and returns the grant once it may be sent. Cancellable at every
 * step; a grant obtained before an abort is given back.
 */
import { sleepFor, systemClock, type Clock } from '../internal/clock.ts';
import type { BudgetGrant, SharedBudget } from './types.ts';

/** Options of {@link acquireTurn}. */
export interface AcquireTurnOptions {
  /** Ends the wait (rejecting with the signal's reason). */
  readonly signal?: AbortSignal;
  /** The certain part of `tokens` (see `AcquireOptions.minTokens`). @default 0 */
  readonly minTokens?: number;
  /** The clock the waits are on (the budget's own). @default the system clock */
  readonly clock?: Clock;
}

/** Waits until `budget` lets a request of `tokens` tokens for `model` go, and returns its grant. */
export async function acquireTurn(budget: SharedBudget, model: string, tokens: number, options: AcquireTurnOptions = {}): Promise<BudgetGrant> {
  const clock = options.clock ?? systemClock;
  const { signal } = options;
  for (;;) {
    const d = await budget.acquire(model, tokens, { ...(signal !== undefined ? { signal } : {}), ...(options.minTokens !== undefined ? { minTokens: options.minTokens } : {}) });
    if (d.kind === 'wait') {
      await sleepFor(clock, d.retryAt - clock.now(), signal);
      continue;
    }
    try {
      await sleepFor(clock, d.sendAt - clock.now(), signal);
    } catch (e) {
      await budget.release(d.grant);
      throw e;
    }
    return d.grant;
  }
}
