/**
 * Error bodies, wherever they arrive: the `{ error: { code, type, param, message } }` envelope or its
 * inner object, a JSON or HTML text, bytes, and the request-id headers beside them.
 */
import type { Signals } from './signals.ts';
import { get, headerOf, isObj, str, type Obj } from './values.ts';

/** The longest message kept (before redaction adds nothing). */
export const MAX_MESSAGE = 4096;
/** The longest JSON text parsed. */
export const MAX_JSON_TEXT = 1 << 20;

export function readErrorBody(s: Signals, body: unknown): void {
  if (!isObj(body)) return;
  // An envelope `{ error: {...} }` or the inner object itself. Named reads first; a throwing getter
  // sends every read through get(), where it reads as undefined.
  let e: Obj, code: unknown, type: unknown, param: unknown, message: unknown;
  try {
    const inner = body.error;
    e = isObj(inner) ? inner : body;
    ({ code, type, param, message } = e);
  } catch {
    const inner = get(body, 'error');
    e = isObj(inner) ? inner : body;
    [code, type, param, message] = [get(e, 'code'), get(e, 'type'), get(e, 'param'), get(e, 'message')];
  }
  s.wireCode ??= str(code);
  s.wireType ??= str(type);
  s.param ??= str(param);
  s.message ??= str(message);
  // Azure: { error: { code: 'content_filter', innererror: { code: 'ResponsibleAIPolicyViolation' } } }
  if (s.wireCode === undefined) {
    const innerError = get(e, 'innererror') ?? get(e, 'inner_error');
    s.wireCode = str(get(innerError, 'code'));
  }
}

/** A body as it came off the wire: parsed JSON, JSON text, HTML or plain text, or bytes. */
export function readBodyText(s: Signals, body: unknown): void {
  if (typeof body === 'string') {
    const t = body.trimStart();
    if (t.startsWith('{') && t.length <= MAX_JSON_TEXT) {
      try {
        readErrorBody(s, JSON.parse(t));
        if (s.message !== undefined || s.wireCode !== undefined) return;
      } catch {
        // not JSON after all: keep the text
      }
    }
    s.message ??= textOfHtml(body);
    return;
  }
  if (body instanceof Uint8Array) {
    try {
      readBodyText(s, new TextDecoder().decode(body.subarray(0, MAX_JSON_TEXT)));
    } catch {
      // undecodable
    }
    return;
  }
  readErrorBody(s, body);
}

/** Cloudflare and gateway pages arrive as HTML: keep the title, not the markup. */
export function textOfHtml(text: string): string {
  const head = text.slice(0, MAX_MESSAGE * 4);
  // Markup starts with `<` after optional white space: a printable ASCII first character other than `<`
  // is plain text (most messages), known without a regex.
  const c = head.charCodeAt(0);
  if (c > 32 && c < 127 && c !== 60) return head;
  if (!/^\s*</.test(head)) return head;
  const title = /<title[^>]*>([^<]{1,300})<\/title>/i.exec(head)?.[1] ?? /<h1[^>]*>([^<]{1,300})<\/h1>/i.exec(head)?.[1];
  return (title ?? head.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
}

export function readRequestId(s: Signals, headers: unknown): void {
  if (headers === undefined) return;
  s.headers = headers;
  s.requestId ??= headerOf(headers, 'x-request-id') ?? headerOf(headers, 'apim-request-id') ?? headerOf(headers, 'x-ms-request-id');
}
