/** `POST /v1/chat/completions`: plain and streamed, with the faults of a stream and an outcome. */
import { sleepFor } from '../../internal/clock.ts';
import type { Body, Ctx, MockContext, Route } from '../context.ts';
import { faultOf, outcomeOf } from '../faults.ts';
import { ConnectionReset, type MockReply, type MockRequest } from '../http.ts';
import { chatChunks, chatCompletion, type ChatRecord } from '../objects.ts';
import { ALL_PRESETS } from '../presets.ts';
import { HttpError, invalid, typeName } from '../reply.ts';
import type { Fault, StreamFault } from '../scenario.ts';
import { errorEnvelope, estimatePromptTokens, sseData } from '../wire.ts';

export class Chat {
  readonly #m: MockContext;

  readonly routes: readonly Route[] = [
    { method: 'POST', path: ['chat', 'completions'], body: 'inference', handler: (req, ctx, body) => this.#create(req, ctx, body) },
  ];

  constructor(m: MockContext) {
    this.#m = m;
  }

  /** The chat completion of a batch line, or the {@link HttpError} the line answers with. */
  batchLine(ctx: Ctx, body: Body, faults: readonly Fault[]): unknown {
    try {
      const rec = this.#record(ctx, body, faults);
      return rec instanceof HttpError ? rec : chatCompletion(rec);
    } catch (err) {
      if (err instanceof HttpError) return err;
      throw err;
    }
  }

  #record(ctx: Ctx, body: Body, faults: readonly Fault[]): ChatRecord | HttpError {
    if (body['messages'] === undefined) throw invalid("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
    if (!Array.isArray(body['messages'])) {
      throw invalid(`Invalid type for 'messages': expected an array, but got ${typeName(body['messages'])} instead.`, 'messages', 'invalid_type');
    }
    const maxTok = body['max_completion_tokens'] ?? body['max_tokens'];
    const { outcome, text } = outcomeOf(faults, typeof maxTok === 'number' ? maxTok : null, this.#m.options.reply);
    if (outcome.status === 'failed' || outcome.status === 'cancelled') {
      return new HttpError(500, ALL_PRESETS.server_error.body, 'fault');
    }
    const finishReason = outcome.status === 'incomplete' ? (outcome.reason === 'content_filter' ? 'content_filter' : 'length') : 'stop';
    return {
      id: this.#m.newId('chatcmpl-', 29),
      createdAtMs: ctx.t,
      model: ctx.model!,
      text,
      finishReason,
      promptTokens: estimatePromptTokens(body['messages']),
    };
  }

  #create(req: MockRequest, ctx: Ctx, body: Body): MockReply {
    const rec = this.#record(ctx, body, ctx.faults);
    if (rec instanceof HttpError) throw rec;
    ctx.objectId = rec.id;
    if (!ctx.stream) return this.#m.reply.json(ctx, 200, chatCompletion(rec));
    const opts = body['stream_options'] as { include_usage?: unknown } | undefined;
    const chunks = chatChunks(rec, opts?.include_usage === true);
    return this.#m.reply.sse(ctx, this.#stream(chunks, faultOf(ctx.faults, 'stream'), req.signal));
  }

  async *#stream(chunks: object[], fault: StreamFault | undefined, signal: AbortSignal | undefined): AsyncGenerator<string> {
    const delayMs = this.#m.options.streamDelayMs;
    const limit = fault ? (fault.afterEvents ?? 3) : Infinity;
    let sent = 0;
    for (const c of chunks) {
      if (sent >= limit) break;
      if (delayMs > 0 && sent > 0) await sleepFor(this.#m.clock, delayMs, signal);
      yield sseData(c);
      sent++;
    }
    if (fault === undefined || sent < limit) {
      yield sseData('[DONE]');
      return;
    }
    if (fault.action === 'reset') throw new ConnectionReset('injected reset mid-stream');
    if (fault.action === 'error') {
      const message = fault.message ?? 'The server had an error while processing your request. Sorry about that!';
      yield sseData(errorEnvelope(message, 'server_error', fault.code ?? 'server_error'));
    }
  }
}
