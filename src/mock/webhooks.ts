/**
 * Webhook delivery for the mock: signed per Standard Webhooks (with the mock's own signer), retried on
 * the mock's clock, optionally delivered twice (receivers must be idempotent on `webhook-id`).
 */
import { sleepFor, type Clock } from '../internal/clock.ts';
import type { ResolvedWebhookOptions } from './options.ts';
import type { WebhookLogEntry } from './types.ts';
import { signDelivery } from './webhook-sign.ts';

export interface WebhookEvent {
  readonly id: string;
  readonly type: string;
  readonly objectId: string;
  /** Event time, epoch ms. */
  readonly createdAtMs: number;
}

type LogFn = (entry: Omit<WebhookLogEntry, 'seq' | 't' | 'kind'>) => void;

export class WebhookSender {
  readonly #opts: ResolvedWebhookOptions;
  readonly #clock: Clock;
  readonly #signal: AbortSignal;
  readonly #random: () => number;
  readonly #log: LogFn;
  readonly #inflight = new Set<Promise<void>>();

  constructor(opts: ResolvedWebhookOptions, clock: Clock, signal: AbortSignal, random: () => number, log: LogFn) {
    this.#opts = opts;
    this.#clock = clock;
    this.#signal = signal;
    this.#random = random;
    this.#log = log;
  }

  /** Starts delivering one event (in the background); `close()` of the mock stops retries. */
  send(event: WebhookEvent): void {
    // Decide duplication now, in request order, so the PRNG sequence stays deterministic.
    const duplicate = this.#random() < this.#opts.duplicateProbability;
    const p = this.#deliver(event, duplicate).catch(() => {});
    this.#inflight.add(p);
    void p.finally(() => this.#inflight.delete(p));
  }

  /** Resolves when every started delivery (and its retries) ended. */
  async idle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.all([...this.#inflight]);
  }

  async #deliver(event: WebhookEvent, duplicate: boolean): Promise<void> {
    const body = JSON.stringify({
      id: event.id,
      object: 'event',
      created_at: Math.floor(event.createdAtMs / 1000),
      type: event.type,
      data: { id: event.objectId },
    });
    const attempts = this.#opts.retries + 1;
    const delays = this.#opts.retryDelaysMs;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.#signal.aborted) return;
      const ok = await this.#post(event, body, attempt, false);
      if (ok) {
        if (duplicate) await this.#post(event, body, attempt, true);
        return;
      }
      if (attempt < attempts) await sleepFor(this.#clock, delays[Math.min(attempt - 1, delays.length - 1)] ?? 1000, this.#signal);
    }
  }

  async #post(event: WebhookEvent, body: string, attempt: number, duplicate: boolean): Promise<boolean> {
    const headers = signDelivery(this.#opts.key, event.id, this.#clock.now(), body);
    let status: number | null = null;
    // Each attempt is bounded on the mock's clock, even against a receiver (or fetch) that never answers.
    const attemptCtl = new AbortController();
    const stopTimer = new AbortController();
    const timedOut = sleepFor(this.#clock, this.#opts.attemptTimeoutMs, AbortSignal.any([stopTimer.signal, this.#signal])).then(() => {
      attemptCtl.abort();
      throw new Error('webhook attempt timed out');
    });
    timedOut.catch(() => {});
    try {
      const res = await Promise.race([
        this.#opts.fetch(this.#opts.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'OpenAI/1.0 (+https://platform.openai.com/docs/webhooks)', ...headers },
          body,
          signal: AbortSignal.any([this.#signal, attemptCtl.signal]),
        }),
        timedOut,
      ]);
      status = res.status;
      await res.body?.cancel().catch(() => {});
    } catch {
      status = null;
    } finally {
      stopTimer.abort();
    }
    this.#log({ eventId: event.id, type: event.type, objectId: event.objectId, attempt, duplicate, status });
    return status !== null && status >= 200 && status < 300;
  }
}
