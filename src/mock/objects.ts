/**
 * Builders for the objects and stream events the mock returns, shaped like openai-node's types
 * (`Response`, `ResponseStreamEvent`, `ChatCompletion`, `ChatCompletionChunk`, `Model`).
 */
import { splitDeltas, textTokens } from './wire.ts';

export type ResponseStatus = 'queued' | 'in_progress' | 'completed' | 'failed' | 'incomplete' | 'cancelled';

/** The planned end of a Response. */
export interface Outcome {
  readonly status: 'completed' | 'failed' | 'incomplete' | 'cancelled';
  /** For failed: `null` means `error: null` on the wire. */
  readonly error?: { readonly code: string; readonly message: string } | null;
  /** For incomplete: `null` means `incomplete_details: null`. */
  readonly reason?: string | null;
}

/** What the mock remembers of a Response request. */
export interface ResponseRecord {
  readonly id: string;
  readonly messageId: string;
  readonly createdAtMs: number;
  readonly model: string;
  readonly background: boolean;
  readonly store: boolean;
  readonly instructions: string | null;
  readonly maxOutputTokens: number | null;
  readonly previousResponseId: string | null;
  readonly temperature: number;
  readonly topP: number;
  readonly metadata: Record<string, string>;
  readonly inputTokens: number;
  /** The full reply text (cut for `incomplete`). */
  readonly text: string;
  readonly outcome: Outcome;
  readonly queuedMs: number;
  readonly runMs: number;
}

function usage(inputTokens: number, outputTokens: number): object {
  return {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + outputTokens,
  };
}

function message(r: ResponseRecord, text: string, status: 'in_progress' | 'completed' | 'incomplete', withContent = true): object {
  return {
    id: r.messageId,
    type: 'message',
    status,
    content: withContent ? [outputText(text)] : [],
    role: 'assistant',
  };
}

function outputText(text: string): object {
  return { type: 'output_text', annotations: [], logprobs: [], text };
}

/** The Response object as a read at `status` shows it. */
export function responseObject(r: ResponseRecord, status: ResponseStatus): Record<string, unknown> {
  const o = r.outcome;
  let output: object[] = [];
  let use: object | null = null;
  let error: object | null = null;
  let incomplete: object | null = null;
  if (status === 'completed') {
    output = [message(r, r.text, 'completed')];
    use = usage(r.inputTokens, textTokens(r.text));
  } else if (status === 'incomplete') {
    output = [message(r, r.text, 'incomplete')];
    use = usage(r.inputTokens, textTokens(r.text));
    incomplete = o.reason === null ? null : { reason: o.reason ?? 'max_output_tokens' };
  } else if (status === 'failed') {
    error = o.error === null ? null : (o.error ?? { code: 'server_error', message: 'The server had an error while processing your request.' });
  }
  return {
    id: r.id,
    object: 'response',
    created_at: Math.floor(r.createdAtMs / 1000),
    status,
    background: r.background,
    error,
    incomplete_details: incomplete,
    instructions: r.instructions,
    max_output_tokens: r.maxOutputTokens,
    max_tool_calls: null,
    model: r.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: r.previousResponseId,
    prompt_cache_key: null,
    reasoning: { effort: null, summary: null },
    safety_identifier: null,
    service_tier: 'default',
    store: r.store,
    temperature: r.temperature,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: 'auto',
    tools: [],
    top_logprobs: 0,
    top_p: r.topP,
    truncation: 'disabled',
    usage: use,
    user: null,
    metadata: r.metadata,
  };
}

/** One stream event, with the clock offset (ms after creation) at which it becomes available. */
export interface TimedEvent {
  readonly atMs: number;
  readonly event: Record<string, unknown> & { type: string; sequence_number: number };
}

/**
 * Every event of a Response's stream, in order, with `sequence_number` from 0 and the time each one
 * becomes available (queued at 0, running from `queuedMs`, terminal at `queuedMs + runMs`).
 */
export function responseEvents(r: ResponseRecord): TimedEvent[] {
  const out: TimedEvent[] = [];
  let seq = 0;
  const push = (atMs: number, type: string, fields: Record<string, unknown>): void => {
    out.push({ atMs, event: { type, ...fields, sequence_number: seq++ } });
  };
  const start = r.queuedMs;
  const end = r.queuedMs + r.runMs;
  const first: ResponseStatus = r.background ? 'queued' : 'in_progress';
  push(0, 'response.created', { response: responseObject(r, first) });
  if (r.background) push(0, 'response.queued', { response: responseObject(r, 'queued') });
  push(start, 'response.in_progress', { response: responseObject(r, 'in_progress') });
  const o = r.outcome;
  if (o.status === 'failed') {
    push(end, 'response.failed', { response: responseObject(r, 'failed') });
    return out;
  }
  if (o.status === 'cancelled') return out;
  const ids = { item_id: r.messageId, output_index: 0, content_index: 0 };
  push(start, 'response.output_item.added', { output_index: 0, item: message(r, '', 'in_progress', false) });
  push(start, 'response.content_part.added', { ...ids, part: outputText('') });
  const deltas = splitDeltas(r.text);
  deltas.forEach((delta, i) => {
    push(start + (r.runMs * (i + 1)) / (deltas.length + 1), 'response.output_text.delta', { ...ids, delta, logprobs: [] });
  });
  const itemStatus = o.status === 'incomplete' ? 'incomplete' : 'completed';
  push(end, 'response.output_text.done', { ...ids, text: r.text, logprobs: [] });
  push(end, 'response.content_part.done', { ...ids, part: outputText(r.text) });
  push(end, 'response.output_item.done', { output_index: 0, item: message(r, r.text, itemStatus) });
  push(end, `response.${o.status}`, { response: responseObject(r, o.status) });
  return out;
}

export interface ChatRecord {
  readonly id: string;
  readonly createdAtMs: number;
  readonly model: string;
  readonly text: string;
  readonly finishReason: 'stop' | 'length' | 'content_filter';
  readonly promptTokens: number;
}

function chatUsage(c: ChatRecord): object {
  const completion = textTokens(c.text);
  return {
    prompt_tokens: c.promptTokens,
    completion_tokens: completion,
    total_tokens: c.promptTokens + completion,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

export function chatCompletion(c: ChatRecord): object {
  return {
    id: c.id,
    object: 'chat.completion',
    created: Math.floor(c.createdAtMs / 1000),
    model: c.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: c.text, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: c.finishReason,
      },
    ],
    usage: chatUsage(c),
    service_tier: 'default',
    system_fingerprint: 'fp_mock',
  };
}

/** The chunks of a streamed chat completion (without the final `[DONE]`). */
export function chatChunks(c: ChatRecord, includeUsage: boolean): object[] {
  const base = {
    id: c.id,
    object: 'chat.completion.chunk',
    created: Math.floor(c.createdAtMs / 1000),
    model: c.model,
    service_tier: 'default',
    system_fingerprint: 'fp_mock',
  };
  const u = includeUsage ? { usage: null } : {};
  const chunk = (delta: object, finish: string | null): object => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...u,
  });
  const out: object[] = [chunk({ role: 'assistant', content: '', refusal: null }, null)];
  for (const d of splitDeltas(c.text)) out.push(chunk({ content: d }, null));
  out.push(chunk({}, c.finishReason));
  if (includeUsage) out.push({ ...base, choices: [], usage: chatUsage(c) });
  return out;
}

export function modelObject(id: string): object {
  return { id, object: 'model', created: 1_715_367_049, owned_by: 'system' };
}
