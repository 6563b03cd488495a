/**
 * `/v1/responses`: create (plain, streamed, background), retrieve (and resume a background stream),
 * delete and cancel, on the mock's clock. A background run moves `queued` → `in_progress` → its outcome
 * by time alone; nothing is computed until someone looks.
 */
import { sleepFor } from '../../internal/clock.ts';
import type { Body, Ctx, MockContext, Route } from '../context.ts';
import { faultOf, outcomeOf } from '../faults.ts';
import { ConnectionReset, type MockReply, type MockRequest } from '../http.ts';
import { responseEvents, responseObject, type ResponseRecord, type ResponseStatus, type TimedEvent } from '../objects.ts';
import { ALL_PRESETS } from '../presets.ts';
import { invalid, notFound } from '../reply.ts';
import type { Fault, StreamFault } from '../scenario.ts';
import { estimatePromptTokens, sseEvent } from '../wire.ts';
import type { Watched } from './webhook-sweep.ts';

interface StoredResponse extends Watched {
  /** Replaced when a stream fault ends the run early (Azure's failed pair). */
  rec: ResponseRecord;
  readonly expiresAtMs: number;
  cancelledAtMs: number | undefined;
  readonly thenCompleted: boolean;
  deleted: boolean;
  events: TimedEvent[] | undefined;
}

export class Responses {
  readonly #m: MockContext;
  readonly #stored = new Map<string, StoredResponse>();

  readonly routes: readonly Route[] = [
    { method: 'POST', path: ['responses'], body: 'inference', handler: (req, ctx, body) => this.#create(req, ctx, body) },
    { method: 'GET', path: ['responses', ':id'], handler: (req, ctx, _b, id) => this.#get(req, ctx, id) },
    { method: 'DELETE', path: ['responses', ':id'], handler: (_r, ctx, _b, id) => this.#delete(ctx, id) },
    { method: 'POST', path: ['responses', ':id', 'cancel'], handler: (_r, ctx, _b, id) => this.#cancel(ctx, id) },
  ];

  constructor(m: MockContext) {
    this.#m = m;
  }

  /** The Response object of a batch line (`/v1/responses` in a batch): never stored, never background. */
  batchLine(ctx: Ctx, body: Body, faults: readonly Fault[]): unknown {
    const maxOut = typeof body['max_output_tokens'] === 'number' ? body['max_output_tokens'] : null;
    const { outcome, text } = outcomeOf(faults, maxOut, this.#m.options.reply);
    const rec: ResponseRecord = {
      id: this.#m.newId('resp_'),
      messageId: this.#m.newId('msg_'),
      createdAtMs: ctx.t,
      model: ctx.model!,
      background: false,
      store: false,
      instructions: null,
      maxOutputTokens: maxOut,
      previousResponseId: null,
      temperature: 1,
      topP: 1,
      metadata: {},
      inputTokens: estimatePromptTokens(body['input']),
      text,
      outcome,
      queuedMs: 0,
      runMs: 0,
    };
    return responseObject(rec, outcome.status);
  }

  #create(req: MockRequest, ctx: Ctx, body: Body): MockReply {
    if (ctx.background && body['store'] === false) {
      throw invalid('Background responses require store=true.', 'store');
    }
    const o = this.#m.options;
    const maxOut = typeof body['max_output_tokens'] === 'number' ? body['max_output_tokens'] : null;
    const { outcome, text, thenCompleted } = outcomeOf(ctx.faults, maxOut, o.reply);
    const expire = faultOf(ctx.faults, 'expire');
    const rec: ResponseRecord = {
      id: this.#m.newId('resp_'),
      messageId: this.#m.newId('msg_'),
      createdAtMs: ctx.t,
      model: ctx.model!,
      background: ctx.background,
      store: body['store'] !== false,
      instructions: typeof body['instructions'] === 'string' ? body['instructions'] : null,
      maxOutputTokens: maxOut,
      previousResponseId: typeof body['previous_response_id'] === 'string' ? body['previous_response_id'] : null,
      temperature: typeof body['temperature'] === 'number' ? body['temperature'] : 1,
      topP: typeof body['top_p'] === 'number' ? body['top_p'] : 1,
      metadata: (body['metadata'] as Record<string, string> | undefined) ?? {},
      inputTokens: estimatePromptTokens(body['input'], body['instructions']),
      text,
      outcome,
      queuedMs: ctx.background ? o.queuedMs : 0,
      runMs: ctx.background ? o.runMs : 0,
    };
    ctx.objectId = rec.id;
    const statusAt = (t: number): ResponseStatus => this.#statusAt(stored, t);
    const stored: StoredResponse = {
      kind: 'response',
      get objectId() {
        return stored.rec.id;
      },
      terminalAt: (now) => {
        const status = statusAt(now);
        return status === 'queued' || status === 'in_progress' ? undefined : status;
      },
      notified: false,
      rec,
      expiresAtMs: ctx.t + (expire !== undefined ? expire.afterMs : o.responseTtlMs),
      cancelledAtMs: undefined,
      thenCompleted,
      deleted: false,
      events: undefined,
    };
    if (rec.store) this.#stored.set(rec.id, stored);
    if (rec.background) this.#watch(stored);
    const reply = this.#m.reply;
    if (!ctx.stream) {
      if (!rec.background && outcome.status === 'failed' && !ctx.faults.some((f) => f.type === 'outcome')) {
        return reply.json(ctx, 500, ALL_PRESETS.server_error.body);
      }
      return reply.json(ctx, 200, responseObject(rec, this.#statusAt(stored, ctx.t)));
    }
    return reply.sse(ctx, this.#stream(stored, -1, faultOf(ctx.faults, 'stream'), req.signal));
  }

  #watch(s: StoredResponse): void {
    this.#m.webhooks.watch(s, s.rec.createdAtMs + s.rec.queuedMs + s.rec.runMs);
  }

  #statusAt(s: StoredResponse, t: number): ResponseStatus {
    const r = s.rec;
    if (s.cancelledAtMs !== undefined && !s.thenCompleted) return 'cancelled';
    if (!r.background) return r.outcome.status;
    const since = t - r.createdAtMs;
    if (since < r.queuedMs) return 'queued';
    if (since < r.queuedMs + r.runMs) return 'in_progress';
    return r.outcome.status;
  }

  #eventsOf(s: StoredResponse): TimedEvent[] {
    return (s.events ??= responseEvents(s.rec));
  }

  async *#stream(s: StoredResponse, startingAfter: number, fault: StreamFault | undefined, signal: AbortSignal | undefined): AsyncGenerator<string> {
    const clock = this.#m.clock;
    const streamDelayMs = this.#m.options.streamDelayMs;
    const events = this.#eventsOf(s);
    const limit = fault ? (fault.afterEvents ?? 3) : Infinity;
    let sent = 0;
    let lastSeq = startingAfter;
    for (const e of events) {
      if (e.event.sequence_number <= startingAfter) continue;
      if (sent >= limit) break;
      const due = s.rec.createdAtMs + e.atMs;
      if (s.rec.background) {
        const wait = due - clock.now();
        if (wait > 0) await sleepFor(clock, wait, signal);
        // A run cancelled while we waited stops here.
        if (s.cancelledAtMs !== undefined && !s.thenCompleted && s.cancelledAtMs < due) return;
      } else if (streamDelayMs > 0 && sent > 0) {
        await sleepFor(clock, streamDelayMs, signal);
      }
      yield sseEvent(e.event.type, e.event);
      lastSeq = e.event.sequence_number;
      sent++;
    }
    if (fault === undefined || sent < limit) return;
    if (fault.action === 'reset') throw new ConnectionReset('injected reset mid-stream');
    if (fault.action === 'error') {
      const code = fault.code ?? 'server_error';
      const message = fault.message ?? 'The server had an error while processing your request. Sorry about that!';
      let seq = lastSeq + 1;
      if (fault.shape === 'azure') {
        const failed = { ...responseObject(s.rec, 'failed'), error: null };
        this.#failNow(s);
        yield sseEvent('response.failed', { type: 'response.failed', response: failed, sequence_number: seq++ });
      }
      const data =
        fault.shape === 'nested'
          ? { type: 'error', error: { type: 'server_error', code, message, param: null }, sequence_number: seq }
          : { type: 'error', code, message, param: null, sequence_number: seq };
      yield sseEvent('error', data);
    }
    // truncate: end cleanly without the rest
  }

  /**
   * The run ends `failed` now, as the stream just said (Azure's pair: `error: null`, the cause only in
   * the stream's `error` event): a retrieve, a resumed stream and the webhook all agree from here on.
   */
  #failNow(s: StoredResponse): void {
    const r = s.rec;
    if (s.cancelledAtMs !== undefined && !s.thenCompleted) return;
    const endMs = Math.max(r.queuedMs, this.#m.clock.now() - r.createdAtMs);
    s.rec = { ...r, outcome: { status: 'failed', error: null }, runMs: Math.min(r.runMs, endMs - r.queuedMs) };
    s.events = undefined;
    if (r.background && !s.notified) this.#watch(s);
  }

  #lookup(id: string): StoredResponse {
    const s = this.#stored.get(id);
    if (s === undefined || s.deleted || this.#m.clock.now() >= s.expiresAtMs) {
      throw notFound(`Response with id '${id}' not found.`);
    }
    return s;
  }

  #get(req: MockRequest, ctx: Ctx, id: string): MockReply {
    ctx.objectId = id;
    const s = this.#lookup(id);
    ctx.model = s.rec.model;
    const q = ctx.query;
    if (q?.get('stream') === 'true') {
      ctx.stream = true;
      ctx.background = s.rec.background;
      if (!s.rec.background) {
        throw invalid('This response cannot be streamed because it was not created with background=true.', 'stream');
      }
      const raw = q.get('starting_after');
      let after = -1;
      if (raw !== null) {
        after = Number(raw);
        if (!Number.isInteger(after) || after < 0) {
          throw invalid(`Invalid 'starting_after': expected a non-negative integer, but got '${raw}' instead.`, 'starting_after', 'invalid_value');
        }
      }
      return this.#m.reply.sse(ctx, this.#stream(s, after, faultOf(ctx.faults, 'stream'), req.signal));
    }
    return this.#m.reply.json(ctx, 200, responseObject(s.rec, this.#statusAt(s, ctx.t)));
  }

  #delete(ctx: Ctx, id: string): MockReply {
    ctx.objectId = id;
    const s = this.#lookup(id);
    s.deleted = true;
    return this.#m.reply.json(ctx, 200, { id, object: 'response.deleted', deleted: true });
  }

  #cancel(ctx: Ctx, id: string): MockReply {
    ctx.objectId = id;
    const s = this.#lookup(id);
    if (!s.rec.background) throw invalid('Only responses created with background=true can be cancelled.');
    const status = this.#statusAt(s, ctx.t);
    // Terminal (including already cancelled): idempotent, the object is returned unchanged.
    if (status !== 'queued' && status !== 'in_progress') return this.#m.reply.json(ctx, 200, responseObject(s.rec, status));
    s.cancelledAtMs = ctx.t;
    if (!s.thenCompleted) this.#m.webhooks.notify(s, 'cancelled');
    return this.#m.reply.json(ctx, 200, responseObject(s.rec, 'cancelled'));
  }
}
