/**
 * The shapes the background layer needs from the outside world, read structurally so that any `openai`
 * SDK from v5 on (or a scripted fake in tests) fits, and so that the root entry never imports `openai`
 * or `node:sqlite`.
 */

/** The part of a Responses API `Response` the waiter reads. The full object is passed through untouched. */
export interface BackgroundResponse {
  readonly id: string;
  readonly object?: string;
  /** `queued`, `in_progress`, `completed`, `failed`, `incomplete` or `cancelled`. */
  readonly status?: string | null;
  /** Unix seconds. */
  readonly created_at?: number;
  readonly metadata?: Readonly<Record<string, string>> | null;
}

/** Request options faultline passes to every SDK call (the SDK's own retries are turned off: we pace). */
export interface CallOptions {
  signal?: AbortSignal;
  maxRetries?: number;
  timeout?: number;
}

/**
 * A client with the Responses API of `openai` v5 or later: `new OpenAI(...)` fits as it is.
 * Method syntax (not arrow properties) on purpose: it lets the SDK's overloads match.
 */
export interface ResponsesClient {
  readonly responses: {
    retrieve(id: string, query?: Record<string, unknown>, options?: CallOptions): PromiseLike<unknown>;
    cancel(id: string, options?: CallOptions): PromiseLike<unknown>;
    create(body: Record<string, unknown>, options?: CallOptions): PromiseLike<unknown>;
  };
}

/** A client with the Batch and Files APIs of `openai` v4 or later. */
export interface BatchesClient {
  readonly batches: {
    retrieve(id: string, options?: CallOptions): PromiseLike<unknown>;
    cancel?(id: string, options?: CallOptions): PromiseLike<unknown>;
  };
  readonly files: {
    content(id: string, options?: CallOptions): PromiseLike<unknown>;
  };
}

/** Where a piece of progress came from. */
export type ProgressSource = 'poll' | 'stream' | 'webhook' | 'create';

/** The terminal Response statuses. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'incomplete', 'cancelled']);

/** True when `value` is a Response-like object in a terminal status. */
export function isTerminal(value: unknown): value is BackgroundResponse {
  const status = typeof value === 'object' && value !== null ? (value as { status?: unknown }).status : undefined;
  return typeof status === 'string' && TERMINAL_STATUSES.has(status);
}

/**
 * Give a Response the `output_text` convenience that the SDK sets on non-streamed results (openai v5 on;
 * v4 on `create` only): the text of every `output_text` part of every `message` output item, in order,
 * joined with nothing. Applied to every terminal Response a wait settles with, so a streamed result, a
 * polled one and a webhook's have one shape on every SDK major. Only for `object: 'response'`; the object
 * is updated in place, as the SDK does (a frozen one is left as it is).
 */
export function withOutputText<T>(value: T): T {
  if (typeof value !== 'object' || value === null || (value as { object?: unknown }).object !== 'response') return value;
  const output = (value as { output?: unknown }).output;
  const texts: string[] = [];
  for (const item of Array.isArray(output) ? (output as unknown[]) : []) {
    const message = item as { type?: unknown; content?: unknown } | null;
    if (message?.type !== 'message' || !Array.isArray(message.content)) continue;
    for (const part of message.content as ({ type?: unknown; text?: unknown } | null)[]) {
      if (part?.type === 'output_text' && typeof part.text === 'string') texts.push(part.text);
    }
  }
  try {
    (value as Record<string, unknown>)['output_text'] = texts.join('');
  } catch {
    // frozen or sealed: leave it
  }
  return value;
}

/** True for a Response-like object (has a string `id`). */
export function isResponseLike(value: unknown): value is BackgroundResponse {
  return typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string';
}

/**
 * The durable journal, as a wait option: a `Journal` from `faultline/journal` (`openJournal(path)`).
 * Opaque on purpose: a name users can write in their own types, with nothing to implement by hand (the
 * extension point is `JournalStore`). Kept as a type here so the root entry has no `node:sqlite` import.
 */
export type { WaitJournal } from '../internal/journal-port.ts';
