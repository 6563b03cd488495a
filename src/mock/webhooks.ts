/**
 * Webhook delivery for the mock: signed per Standard Webhooks, retried on the mock's clock, optionally
 * delivered twice (receivers must be idempotent on `webhook-id`).
 */
import { sleepFor } from '../internal/clock.ts';
import { signWebhook } from '../webhooks/signature.ts';
import type { MockClock } from './clock.ts';
import type { MockWebhookOptions, WebhookLogEntry } from './types.ts';

export interface WebhookEvent {
  readonly id: string;
  readonly type: string;
  readonly objectId: string;
  /** Event time, epoch ms. */
  readonly createdAtMs: number;
}

type LogFn = (entry: Omit<WebhookLogEntry, 'seq' | 't' | 'kind'>) => void;

export class WebhookSender {
  readonly #opts: MockWebhookOptions;
  readonly #clock: MockClock;
  readonly #signal: AbortSignal;
  readonly #random: () => number;
  readonly #log: LogFn;
  readonly #fetch: (input: string, init: RequestInit) => Promise<Response>;
  readonly #inflight = new Set<Promise<void>>();

  constructor(opts: MockWebhookOptions, clock: MockClock, signal: AbortSignal, random: () => number, log: LogFn) {
    if (typeof opts.url !== 'string' || !/^https?:\/\//.test(opts.url)) {
      throw new TypeError('createMock: `webhooks.url` must be an http(s) URL');
    }
    if (typeof opts.secret !== 'string') throw new TypeError('createMock: `webhooks.secret` must be a whsec_ string');
    // Fail on a malformed secret now (misuse), not at the first delivery.
    signWebhook({ id: 'probe', timestamp: 0, body: '', secret: opts.secret });
    const p = opts.duplicateProbability ?? 0;
    if (!(p >= 0 && p <= 1)) throw new RangeError('createMock: `webhooks.duplicateProbability` must be in [0, 1]');
    const max = opts.maxAttempts;
    if (max !== undefined && !(Number.isInteger(max) && max >= 1 && max <= 100)) throw new RangeError('createMock: `webhooks.maxAttempts` must be an integer from 1 to 100');
    const delays = opts.retryDelaysMs;
    if (delays !== undefined && (!Array.isArray(delays) || !delays.every((d) => typeof d === 'number' && Number.isFinite(d) && d >= 0))) {
      throw new RangeError('createMock: `webhooks.retryDelaysMs` must be an array of finite numbers >= 0');
    }
    const timeout = opts.timeoutMs;
    if (timeout !== undefined && !(typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0)) throw new RangeError('createMock: `webhooks.timeoutMs` must be a finite number > 0');
    this.#opts = opts;
    this.#clock = clock;
    this.#signal = signal;
    this.#random = random;
    this.#log = log;
    this.#fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** Starts delivering one event (in the background); `close()` of the mock stops retries. */
  send(event: WebhookEvent): void {
    // Decide duplication now, in request order, so the PRNG sequence stays deterministic.
    const duplicate = this.#random() < (this.#opts.duplicateProbability ?? 0);
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
    const max = this.#opts.maxAttempts ?? 3;
    const delays = this.#opts.retryDelaysMs ?? [1000, 5000, 30000];
    for (let attempt = 1; attempt <= max; attempt++) {
      if (this.#signal.aborted) return;
      const ok = await this.#post(event, body, attempt, false);
      if (ok) {
        if (duplicate) await this.#post(event, body, attempt, true);
        return;
      }
      if (attempt < max) await sleepFor(this.#clock, delays[Math.min(attempt - 1, delays.length - 1)] ?? 1000, this.#signal);
    }
  }

  async #post(event: WebhookEvent, body: string, attempt: number, duplicate: boolean): Promise<boolean> {
    const headers = signWebhook({ id: event.id, timestamp: Math.floor(this.#clock.now() / 1000), body, secret: this.#opts.secret });
    let status: number | null = null;
    // Each attempt is bounded on the mock's clock, even against a receiver (or fetch) that never answers.
    const attemptCtl = new AbortController();
    const stopTimer = new AbortController();
    const timedOut = sleepFor(this.#clock, this.#opts.timeoutMs ?? 10_000, AbortSignal.any([stopTimer.signal, this.#signal])).then(() => {
      attemptCtl.abort();
      throw new Error('webhook attempt timed out');
    });
    timedOut.catch(() => {});
    try {
      const res = await Promise.race([
        this.#fetch(this.#opts.url, {
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
