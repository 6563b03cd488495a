/**
 * The webhook handler for background Responses and batches. Framework-neutral: it takes the raw body
 * and the headers and returns a status and a body, so Express, Hono, Fastify or `node:http` adapt it in
 * three lines (see the example on {@link createWebhookHandler}).
 *
 * Webhooks accelerate; polling still guarantees. The payload carries only the id, so the handler
 * retrieves the object, classifies it, records it in the journal (which delivers it when no waiter
 * follows it, e.g. an orphan whose create timed out) and wakes any local waiter through the hub.
 */
import { detectFailure } from '../core/classify/index.ts';
import type { Failure } from '../core/failure.ts';
import { redact } from '../core/redact.ts';
import type { Clock } from '../internal/clock.ts';
import { clock as clockOption, count, durationMs, fn, misuse, optionsObject, rejectRenamed, rejectUnknown } from '../internal/options.ts';
import { TOLERANCE_RENAMED, toleranceOf, verifyWithKeys, webhookKeys, type WebhookHeaderInput } from './standard-webhooks.ts';
import type { ResultHub } from '../background/hub.ts';
import type { CallOptions } from '../background/types.ts';

/** The journal as the webhook handler uses it (`faultline/journal`'s `Journal` fits). */
export interface WebhookJournal {
  rememberWebhook(webhookId: string): Promise<boolean>;
  forgetWebhook(webhookId: string): Promise<void>;
  recordObject(object: unknown): Promise<string | undefined>;
}

/** The client calls the handler needs: `new OpenAI(...)` fits. */
export interface WebhookClient {
  readonly responses: { retrieve(id: string, query?: Record<string, unknown>, options?: CallOptions): PromiseLike<unknown> };
  readonly batches?: { retrieve(id: string, options?: CallOptions): PromiseLike<unknown> };
}

/** Options of {@link createWebhookHandler}. */
export interface WebhookHandlerOptions {
  /**
   * The endpoint's signing secret (`whsec_` + base64). Give this or `secrets`, not both. Checked when the
   * handler is created: a malformed one throws a `TypeError` naming the option (never showing it).
   */
  secret?: string;
  /** Several secrets during a rotation (non-empty, each checked like `secret`): a signature matching any of them is accepted. */
  secrets?: readonly string[];
  /**
   * How far the `webhook-timestamp` may be from now, either way, in milliseconds.
   * @default 300000 (5 minutes)
   */
  toleranceMs?: number;
  /** Used to retrieve the Response (or batch) the event names. */
  client: WebhookClient;
  /** Records the result and dedupes `webhook-id` across processes and restarts. */
  journal?: WebhookJournal;
  /** Wakes local waiters (pass the same hub to `waitForResponse`). */
  hub?: ResultHub;
  /** Called once per new (non-duplicate) event after it was processed. */
  onEvent?: (event: WebhookEvent) => void | Promise<void>;
  /**
   * How many `webhook-id`s to remember in memory (on top of the journal, or alone without one).
   * @default 10000
   */
  dedupeSize?: number;
  /**
   * The longest the retrieve may take, in milliseconds (the sender retries a delivery that fails).
   * @default 10000
   */
  requestTimeoutMs?: number;
  /**
   * The clock whose `now()` the timestamp window is checked against (the same one as the waits', in tests).
   * @default the system clock
   */
  clock?: Clock;
}

/** One processed event. */
export interface WebhookEvent {
  /** The `webhook-id` header. */
  readonly webhookId: string;
  /** The event type, such as `response.completed` or `batch.failed`. */
  readonly type: string;
  /** The object id from `data.id`. */
  readonly id: string;
  /** The retrieved object (Response or Batch). */
  readonly object: unknown;
  /** Its failure, or `null` for a success. */
  readonly failure: Failure | null;
  /** The journal job it belongs to, if any. */
  readonly jobKey?: string;
}

/** A raw delivery. */
export interface WebhookRequest {
  /** The body exactly as received, before any JSON parsing. */
  readonly body: string | Uint8Array;
  readonly headers: WebhookHeaderInput;
}

/** What to answer. Any 2xx stops the sender's retries; a 5xx asks for a retry. */
export interface WebhookReply {
  readonly status: number;
  /** A short JSON text. Never contains a secret. */
  readonly body: string;
  /** Set for a processed (new) event. */
  readonly event?: WebhookEvent;
  /** True for a `webhook-id` seen before. */
  readonly duplicate?: boolean;
}

const reply = (status: number, data: Record<string, unknown>, extra: Partial<WebhookReply> = {}): WebhookReply => ({ status, body: JSON.stringify(data), ...extra });

/** Keys of {@link WebhookHandlerOptions} renamed before 1.0 (CONTRIBUTING.md, rule 9); deleted at 1.0. */
const RENAMED: Readonly<Record<string, string>> = { ...TOLERANCE_RENAMED, now: 'clock (0.2.0)' };
const HANDLER_KEYS: ReadonlySet<string> = new Set(
  Object.keys({
    secret: true, secrets: true, toleranceMs: true, client: true, journal: true,
    hub: true, onEvent: true, dedupeSize: true, requestTimeoutMs: true, clock: true,
  } satisfies Record<keyof WebhookHandlerOptions, true>),
);

/**
 * Create a webhook handler.
 *
 * @example
 * const handle = createWebhookHandler({ secret: process.env.OPENAI_WEBHOOK_SECRET!, client, journal, hub });
 * // node:http
 * http.createServer(async (req, res) => {
 *   const chunks = []; for await (const c of req) chunks.push(c);
 *   const r = await handle({ body: Buffer.concat(chunks), headers: req.headers as Record<string, string> });
 *   res.writeHead(r.status, { 'content-type': 'application/json' }).end(r.body);
 * });
 */
export function createWebhookHandler(options: WebhookHandlerOptions): (request: WebhookRequest) => Promise<WebhookReply> {
  const owner = 'createWebhookHandler';
  if (options === undefined) throw misuse('type', owner, '#options', 'an object with at least secret and client', options);
  const o = optionsObject(owner, options);
  rejectRenamed(owner, o, RENAMED);
  rejectUnknown(owner, o, HANDLER_KEYS);
  // Decoded once here: a malformed secret is misuse now, not a throw at every delivery.
  const keys = webhookKeys(o, owner);
  const tolerance = toleranceOf(o['toleranceMs'], owner);
  const retrieve = options.client?.responses?.retrieve;
  if (typeof retrieve !== 'function') throw misuse('type', owner, 'client', 'an OpenAI client (client.responses.retrieve)', options.client);
  const size = count(owner, 'dedupeSize', o['dedupeSize'], { default: 10_000, min: 1 });
  const timeout = durationMs(owner, 'requestTimeoutMs', o['requestTimeoutMs'], { default: 10_000, exclusiveMin: true });
  fn(owner, 'onEvent', o['onEvent']);
  const clock = clockOption(owner, o['clock']);
  // Insertion-ordered: the oldest id is evicted first. `inflight` stops two concurrent deliveries of one id.
  const seen = new Set<string>();
  const inflight = new Set<string>();
  const remember = (id: string): void => {
    seen.add(id);
    if (seen.size > size) seen.delete(seen.values().next().value as string);
  };

  return async (request) => {
    const verdict = verifyWithKeys(request, keys, tolerance, clock.now());
    if (!verdict.ok) return reply(401, { error: verdict.reason, message: redact(verdict.message) });
    const webhookId = verdict.id;
    if (seen.has(webhookId) || inflight.has(webhookId)) return reply(200, { ok: true, duplicate: true }, { duplicate: true });

    let payload: unknown;
    try {
      payload = JSON.parse(typeof request.body === 'string' ? request.body : Buffer.from(request.body).toString('utf8'));
    } catch {
      return reply(400, { error: 'invalid_json' });
    }
    const type = (payload as { type?: unknown } | null)?.type;
    const id = ((payload as { data?: { id?: unknown } } | null)?.data ?? {}).id;
    if (typeof type !== 'string' || typeof id !== 'string') return reply(400, { error: 'not_an_event' });
    const kind = type.startsWith('response.') ? 'response' : type.startsWith('batch.') ? 'batch' : undefined;
    if (kind === undefined || (kind === 'batch' && options.client.batches === undefined)) {
      remember(webhookId);
      return reply(200, { ok: true, ignored: type });
    }

    inflight.add(webhookId);
    try {
      let object: unknown;
      try {
        const call = { maxRetries: 0, timeout };
        object = kind === 'response' ? await options.client.responses.retrieve(id, undefined, call) : await options.client.batches!.retrieve(id, call);
      } catch (error) {
        // Not processed: the sender retries (polling still covers the job meanwhile).
        const message = error instanceof Error ? error.message : String(error);
        return reply(503, { error: 'retrieve_failed', message: redact(message).slice(0, 500) });
      }
      const failure = detectFailure(object);
      let jobKey: string | undefined;
      let event: WebhookEvent;
      try {
        // Record first, then remember the id: a receiver killed in between leaves the id unremembered, so
        // the sender's retry is processed again (recording is idempotent: the journal's transitions are
        // compare-and-set and a delivery is claimed once). Remembering first lost an orphan whose webhook
        // was the only way back when the receiver died before recording it.
        jobKey = await options.journal?.recordObject(object);
        if (options.journal !== undefined && !(await options.journal.rememberWebhook(webhookId))) {
          // Another receiver processed this delivery already: it notified and called onEvent.
          remember(webhookId);
          return reply(200, { ok: true, duplicate: true }, { duplicate: true });
        }
        options.hub?.notify(id, object);
        event = { webhookId, type, id, object, failure, ...(jobKey !== undefined ? { jobKey } : {}) };
        await options.onEvent?.(event);
      } catch (error) {
        // Not recorded: forget the id so the sender's retry is processed. For an orphan (a create whose
        // id was never seen) the webhook is the only way back.
        await options.journal?.forgetWebhook(webhookId).catch(() => undefined);
        const message = error instanceof Error ? error.message : String(error);
        return reply(503, { error: 'record_failed', message: redact(message).slice(0, 500) });
      }
      remember(webhookId);
      return reply(200, { ok: true, id, code: failure?.code ?? null }, { event });
    } finally {
      inflight.delete(webhookId);
    }
  };
}
