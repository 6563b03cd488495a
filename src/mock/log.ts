/**
 * The ground-truth log: every HTTP attempt and webhook delivery attempt, numbered, in memory (bounded
 * by `maxLogEntries`) and handed to `onLog` as it is written. Writing it to a file is the node
 * adapter's job (`listen({ logFile })`), so this core stays free of `node:fs`.
 */
import type { Clock } from '../internal/clock.ts';
import type { Ctx } from './context.ts';
import { sha256Hex } from './fingerprint.ts';
import type { MockLogEntry, RequestLogEntry, WebhookLogEntry } from './types.ts';

export class MockLog {
  readonly entries: MockLogEntry[] = [];
  readonly #clock: Clock;
  readonly #max: number;
  readonly #onLog: ((entry: MockLogEntry) => void) | undefined;
  readonly #keyIds = new Map<string, string>();
  #seq = 0;

  constructor(clock: Clock, maxEntries: number, onLog: ((entry: MockLogEntry) => void) | undefined) {
    this.#clock = clock;
    this.#max = maxEntries;
    this.#onLog = onLog;
  }

  /** The key's fingerprint, `key_<8 hex>` (never the key). */
  keyId(key: string | undefined): string | null {
    if (key === undefined) return null;
    let id = this.#keyIds.get(key);
    if (id === undefined) {
      id = 'key_' + sha256Hex(key).slice(0, 8);
      this.#keyIds.set(key, id);
    }
    return id;
  }

  webhook(e: Omit<WebhookLogEntry, 'kind' | 'seq' | 't'>): void {
    this.#record({ kind: 'webhook', seq: ++this.#seq, t: this.#clock.now(), ...e });
  }

  request(ctx: Ctx, status: number | null): void {
    const entry: RequestLogEntry = {
      kind: 'request',
      seq: ++this.#seq,
      t: ctx.t,
      requestId: ctx.requestId,
      benchId: ctx.benchId,
      key: ctx.keyId,
      method: ctx.method,
      path: ctx.path,
      model: ctx.model ?? null,
      stream: ctx.stream,
      background: ctx.background,
      cost: ctx.cost,
      admitted: ctx.admitted,
      outcome: ctx.outcome,
      status,
      fault: ctx.fault,
      objectId: ctx.objectId,
    };
    this.#record(entry);
  }

  #record(full: MockLogEntry): void {
    this.entries.push(full);
    this.#trim();
    if (this.#onLog !== undefined) {
      try {
        this.#onLog(full);
      } catch {
        // A failing log listener must never break the request it logs.
      }
    }
  }

  /**
   * Keep at most `maxLogEntries`. The oldest go in batches of an eighth of it, so one append costs
   * amortised O(1): shifting one entry off a long array moves all the others every time.
   */
  #trim(): void {
    const log = this.entries;
    const max = this.#max;
    if (log.length > max) log.splice(0, Math.ceil(log.length - max) + Math.floor(max / 8));
  }
}
