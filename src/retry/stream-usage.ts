/**
 * @internal Reads the `usage` a server-sent-event answer carries while its body passes to the caller:
 * Chat Completions' final chunk when `stream_options.include_usage` is set (`{"choices":[],"usage":{…}}`)
 * and the Responses API's `response.completed` event (`{"type":"response.completed","response":{"usage":{…}}}`).
 * Every chunk is handed on unchanged the moment it is read, and read only when the caller reads (no
 * buffering, no read-ahead); a copy is scanned for `data:` lines afterwards. Only a line that names
 * `"usage"` with an object is parsed, so an ordinary chunk costs a decode and a line split.
 * @see https://platform.openai.com/docs/api-reference/chat/streaming (the usage chunk)
 * @see https://platform.openai.com/docs/api-reference/responses-streaming/response/completed
 */
import { readUsage, type UsageTokens } from './estimate.ts';

/** What the stream showed by the time it ended. */
export interface StreamSeen {
  /** The last `usage` read, if any. */
  readonly usage: UsageTokens | undefined;
  /** `data:` events other than `[DONE]` (about one output token each in OpenAI's streams). */
  readonly events: number;
  /** How the body ended: read to its end, cancelled by the caller, or failed mid-way. */
  readonly end: 'done' | 'cancelled' | 'error';
}

/** Longest partial line kept between chunks; a longer one is not scanned (it cannot be read whole). */
const MAX_CARRY = 1 << 20;
const USAGE = /"usage"\s*:\s*\{/;

/**
 * The body of `res`, observed: chunks pass as they are, and `onEnd` is called exactly once when the body
 * ends, is cancelled or fails. A throwing `onEnd` never reaches the caller's read.
 */
export function observeSse(body: ReadableStream<Uint8Array>, onEnd: (seen: StreamSeen) => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let carry = '';
  let usage: UsageTokens | undefined;
  let events = 0;
  let ended = false;
  const finish = (end: StreamSeen['end']): void => {
    if (ended) return;
    ended = true;
    try {
      onEnd({ usage, events, end });
    } catch {
      // bookkeeping must not break the caller's stream
    }
  };
  const scanLine = (line: string): void => {
    if (!line.startsWith('data:')) return;
    const data = line.slice(line.charCodeAt(5) === 32 ? 6 : 5);
    if (data === '[DONE]') return;
    events++;
    if (!USAGE.test(data)) return;
    try {
      const json = JSON.parse(data) as { response?: unknown };
      usage = readUsage(json) ?? readUsage(json.response) ?? usage;
    } catch {
      // not JSON: nothing to read
    }
  };
  const scan = (chunk: Uint8Array): void => {
    const text = carry + decoder.decode(chunk, { stream: true });
    const lines = text.split(/\r\n|\r|\n/);
    const last = lines.pop() ?? '';
    for (const line of lines) scanLine(line);
    carry = last.length > MAX_CARRY ? '' : last;
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (e) {
          finish('error');
          controller.error(e);
          return;
        }
        if (r.done) {
          if (carry !== '') scanLine(carry);
          controller.close();
          finish('done');
          return;
        }
        controller.enqueue(r.value);
        scan(r.value);
      },
      async cancel(reason) {
        finish('cancelled');
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
