/**
 * Time-driven work: the webhook of a background Response or a batch is sent when it becomes terminal
 * on the mock's clock. Resources register what they run ({@link Watched}); the sweep runs on every
 * request, after every `advance()`, and at each registered due time.
 */
import { sleepFor, type Clock } from '../../internal/clock.ts';
import type { WebhookSender } from '../webhooks.ts';

/** A Response or batch whose terminal webhook is not sent yet. */
export interface Watched {
  /** `response` or `batch`: the event type is `<kind>.<status>`. */
  readonly kind: 'response' | 'batch';
  readonly objectId: string;
  /** The terminal status at `now`, or undefined while it still runs. */
  terminalAt(now: number): string | undefined;
  notified: boolean;
}

export class WebhookSweep {
  readonly #sender: WebhookSender | undefined;
  readonly #clock: Clock;
  readonly #closing: AbortSignal;
  readonly #newId: () => string;
  /** Responses before batches in each sweep, so event ids are drawn in a fixed order. */
  readonly #pending = { response: new Set<Watched>(), batch: new Set<Watched>() };

  constructor(sender: WebhookSender | undefined, clock: Clock, closing: AbortSignal, newEventId: () => string) {
    this.#sender = sender;
    this.#clock = clock;
    this.#closing = closing;
    this.#newId = newEventId;
  }

  /** Whether webhooks are delivered at all. */
  get enabled(): boolean {
    return this.#sender !== undefined;
  }

  /** Watches `w` and sweeps again at `dueAt` (epoch ms on the mock's clock). */
  watch(w: Watched, dueAt: number): void {
    if (this.#sender === undefined) return;
    if (!w.notified) this.#pending[w.kind].add(w);
    sleepFor(this.#clock, Math.max(0, dueAt - this.#clock.now()), this.#closing).then(
      () => this.sweep(),
      () => {},
    );
  }

  /** Sends `w`'s webhook now with `status`, unless it was sent already. */
  notify(w: Watched, status: string): void {
    if (w.notified || this.#sender === undefined) return;
    w.notified = true;
    this.#pending[w.kind].delete(w);
    this.#sender.send({ id: this.#newId(), type: `${w.kind}.${status}`, objectId: w.objectId, createdAtMs: this.#clock.now() });
  }

  /** Sends the webhooks that fell due. */
  sweep(): void {
    if (this.#sender === undefined) return;
    const now = this.#clock.now();
    for (const set of [this.#pending.response, this.#pending.batch]) {
      for (const w of set) {
        const status = w.terminalAt(now);
        if (status !== undefined) this.notify(w, status);
      }
    }
  }

  /** Resolves once every delivery started so far (with its retries) has ended. */
  async idle(): Promise<void> {
    this.sweep();
    await this.#sender?.idle();
  }
}
