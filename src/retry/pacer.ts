/**
 * The executor of a {@link RateLimiter}'s decisions: requests wait in one FIFO queue (a retry keeps its
 * original place), the head waits until the limiter says "now", and any news (an answer's headers, a
 * 429, a limit learned) wakes the queue to decide again.
 */
import { sleepFor, type Clock } from '../internal/clock.ts';
import { abortReason } from '../internal/abort.ts';
import type { Grant, RateLimiter } from './limiter.ts';
import { RetryTimeSpent } from '../core/retry-error.ts';

interface Waiter {
  readonly order: number;
  readonly tokens: number;
  /** The latest time this request may be sent (its `maxRetryTimeMs` ends then), epoch ms. */
  readonly deadlineAt: number;
  readonly resolve: (grant: Grant) => void;
  readonly reject: (reason: unknown) => void;
}

/** @internal */
export class Pacer {
  readonly limiter: RateLimiter;
  readonly #clock: Clock;
  #queue: Waiter[] = [];
  #running = false;
  #wake = new AbortController();

  constructor(limiter: RateLimiter, clock: Clock) {
    this.limiter = limiter;
    this.#clock = clock;
  }

  /**
   * Waits for this request's turn and returns its grant. `order` is its first arrival (retries keep it).
   * Rejects with a {@link RetryTimeSpent} as soon as the turn is known to come after `deadlineAt`.
   */
  turn(tokens: number, order: number, signal?: AbortSignal, deadlineAt = Infinity): Promise<Grant> {
    return new Promise<Grant>((resolve, reject) => {
      if (signal?.aborted === true) return reject(abortReason(signal));
      const onAbort = (): void => {
        this.#queue = this.#queue.filter((w) => w !== waiter);
        reject(abortReason(signal!));
        this.poke();
      };
      const waiter: Waiter = {
        order,
        tokens,
        deadlineAt,
        resolve: (g) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(g);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      let i = this.#queue.length;
      while (i > 0 && this.#queue[i - 1]!.order > order) i--;
      this.#queue.splice(i, 0, waiter);
      this.poke();
      void this.#pump();
    });
  }

  /** Something changed: let the queue decide again. */
  poke(): void {
    this.#wake.abort();
  }

  /** How many requests are waiting. */
  get waiting(): number {
    return this.#queue.length;
  }

  async #pump(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        if (this.#wake.signal.aborted) this.#wake = new AbortController();
        const head = this.#queue[0]!;
        const now = this.#clock.now();
        const at = this.limiter.when(head.tokens);
        if (at <= now) {
          this.#queue.shift();
          head.resolve(this.limiter.acquire(head.tokens));
          continue;
        }
        // The queue is FIFO: nobody goes before the head, so whoever's budget ends before `at` gives up now.
        const late = this.#queue.filter((w) => w.deadlineAt < at);
        if (late.length > 0) {
          this.#queue = this.#queue.filter((w) => w.deadlineAt >= at);
          const until = Math.abs(at) <= 8.64e15 ? new Date(at).toISOString() : `${at} ms`;
          const message = `The model is paced (a rate-limit pause or an empty bucket) until ${until}, after this request's maxRetryTimeMs.`;
          for (const w of late) w.reject(new RetryTimeSpent(message, 'rate_limit_exceeded'));
          continue;
        }
        await sleepFor(this.#clock, at - now, undefined, this.#wake.signal);
      }
    } finally {
      this.#running = false;
    }
  }
}
