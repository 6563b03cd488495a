/**
 * The executor of a {@link RateLimiter}'s decisions: requests wait in one FIFO queue (a retry keeps its
 * original place), the head waits until the limiter says "now", and any news (an answer's headers, a
 * 429, a limit learned) wakes the queue to decide again.
 */
import { sleepFor, type Clock } from '../internal/clock.ts';
import { abortReason } from '../internal/abort.ts';
import type { Grant, RateLimiter } from './limiter.ts';

interface Waiter {
  readonly order: number;
  readonly tokens: number;
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

  /** Waits for this request's turn and returns its grant. `order` is its first arrival (retries keep it). */
  turn(tokens: number, order: number, signal?: AbortSignal): Promise<Grant> {
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
        resolve: (g) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(g);
        },
        reject,
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
        await sleepFor(this.#clock, at - now, undefined, this.#wake.signal);
      }
    } finally {
      this.#running = false;
    }
  }
}
