/**
 * Error bodies, wherever they arrive: the `{ error: { code, type, param, message } }` envelope or its
 * inner object, and the shapes OpenAI-compatible providers and gateways send instead (a nested or string
 * `error`, Google's `{error: {code, status, details}}` in an array, APIM's `{statusCode, message}`,
 * FastAPI's `{detail}`, Cloudflare's `errors[]`, a JSON error inside a message), plus JSON or HTML text,
 * bytes, and the request-id headers beside them.
 */
import { parseBoundedJson } from './bounded-json.ts';
import type { Signals } from './signals.ts';
import { get, headerOf, httpStatus, isObj, str, type Obj } from './values.ts';
import { MAX_MESSAGE } from '../failure.ts';

/** The longest message kept (before redaction adds nothing): the Failure's own limit. */
export { MAX_MESSAGE };
/** The longest JSON text parsed whole; longer text is read as a bounded view. */
export const MAX_JSON_TEXT = 1 << 20;
/** The most bytes of a body decoded. */
const MAX_BODY_BYTES = 16 << 20;
/** How deep error bodies inside error bodies (nested `error`, JSON in a message) are followed. */
const MAX_BODY_DEPTH = 4;

/**
 * Parse `text` as JSON when it looks like an object or array; else `undefined`. Text over
 * {@link MAX_JSON_TEXT} is still read as JSON, as a bounded view (bounded-json.ts).
 */
export function parseJsonText(text: string): unknown {
  const t = text.trimStart();
  const c = t.charCodeAt(0);
  if (c !== 123 && c !== 91) return undefined; // `{` or `[`
  if (t.length > MAX_JSON_TEXT) return parseBoundedJson(t);
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

/** Fields in which bodies state an HTTP status (a numeric `code` aside): APIM, gateways, Mistral, Cloudflare. */
const STATUS_FIELDS = ['statusCode', 'status', 'status_code', 'httpCode', 'raw_status_code'] as const;

export function readErrorBody(s: Signals, body: unknown, depth = 0): void {
  if (depth > MAX_BODY_DEPTH) return;
  // Google sends its error in a one-element array.
  if (Array.isArray(body)) return readErrorBody(s, body[0], depth + 1);
  if (!isObj(body)) return;
  // Named reads first (fast); a throwing getter sends every read through get(), where it reads as undefined.
  let error: unknown, code: unknown, type: unknown, param: unknown, message: unknown;
  try {
    ({ error, code, type, param, message } = body);
  } catch {
    [error, code, type, param, message] = [get(body, 'error'), get(body, 'code'), get(body, 'type'), get(body, 'param'), get(body, 'message')];
  }
  // An envelope `{ error: {...} }`: read the inner object (OpenRouter nests two). A string `error`
  // (Ollama, xAI, gateways) is the message, or JSON text holding the real body.
  if (isObj(error) && !Array.isArray(error)) {
    readStatusFields(s, body);
    return readErrorBody(s, error, depth + 1);
  }
  if (typeof error === 'string') {
    readStatusFields(s, body);
    const inner = parseJsonText(error);
    if (inner !== undefined) readErrorBody(s, inner, depth + 1);
    s.message ??= str(error);
    s.wireCode ??= str(code);
    return;
  }
  // Cloudflare: `errors: [{code, message}]` (`error: [...]` on its AI Gateway).
  const list = Array.isArray(error) ? error : message === undefined ? get(body, 'errors') : undefined;
  if (Array.isArray(list) && isObj(list[0]) && message === undefined) {
    readStatusFields(s, body);
    return readErrorBody(s, list[0], depth + 1);
  }

  readStatusFields(s, body);
  const numericCode = typeof code === 'number' || (typeof code === 'string' && code.length === 3 && httpStatus(code) !== undefined);
  if (numericCode) s.bodyStatus ??= httpStatus(code);
  let reason: string | undefined;
  if (numericCode) {
    // Google: `status` names the class (`RESOURCE_EXHAUSTED`), `details[].reason` the cause (`API_KEY_INVALID`).
    const googleStatus = get(body, 'status');
    if (typeof googleStatus === 'string' && /^[A-Z_]{3,40}$/.test(googleStatus)) s.wireType ??= googleStatus;
    reason = detailsReason(get(body, 'details'));
  }
  s.wireCode ??= reason ?? str(code);
  s.wireType ??= str(type);
  s.param ??= str(param);
  readMessage(s, message, depth);
  if (s.message === undefined) {
    readDetail(s, get(body, 'detail'));
    // Responses `misalignment_policy_violation` may come with an empty message and an explanation.
    s.message ??= str(get(get(body, 'misalignment'), 'detailed_explanation'));
  }
  // Azure: { error: { code: 'content_filter', innererror: { code: 'ResponsibleAIPolicyViolation' } } }
  if (s.wireCode === undefined) s.wireCode = str(get(get(body, 'innererror') ?? get(body, 'inner_error'), 'code'));
}

/** A message, or the error body a relay put inside it as JSON text (Gemini's OpenAI endpoint does). */
function readMessage(s: Signals, message: unknown, depth: number): void {
  if (typeof message === 'string') {
    const inner = parseJsonText(message);
    if (inner !== undefined) readErrorBody(s, inner, depth + 1);
    s.message ??= str(message);
  } else if (isObj(message)) {
    // Mistral: `message: { detail: [...] }`.
    readDetail(s, get(message, 'detail'));
  }
}

/** FastAPI's `detail`: a string, or a list of `{msg, loc, type}`. */
function readDetail(s: Signals, detail: unknown): void {
  if (typeof detail === 'string') s.message ??= str(detail);
  else if (Array.isArray(detail)) s.message ??= str(get(detail[0], 'msg'));
}

/** A status the body states; not read when the transport already reported a failing one (it wins). */
function readStatusFields(s: Signals, body: Obj): void {
  if (s.bodyStatus !== undefined || (s.status !== undefined && s.status >= 400)) return;
  for (const k of STATUS_FIELDS) {
    const v = get(body, k);
    if (v === undefined) continue;
    const status = httpStatus(v);
    if (status !== undefined) {
      s.bodyStatus = status;
      return;
    }
  }
}

/** The first `reason` in Google's `details` list. */
function detailsReason(details: unknown): string | undefined {
  if (!Array.isArray(details)) return undefined;
  for (let i = 0; i < details.length && i < 8; i++) {
    const reason = str(get(details[i], 'reason'));
    if (reason !== undefined) return reason;
  }
  return undefined;
}

/** A body as it came off the wire: parsed JSON, JSON text, HTML or plain text, or bytes. */
export function readBodyText(s: Signals, body: unknown): void {
  if (typeof body === 'string') {
    const parsed = parseJsonText(body);
    if (parsed !== undefined) {
      readErrorBody(s, parsed);
      if (s.message !== undefined || s.wireCode !== undefined) return;
    }
    s.message ??= textOfHtml(body);
    return;
  }
  if (body instanceof Uint8Array) {
    try {
      readBodyText(s, new TextDecoder().decode(body.subarray(0, MAX_BODY_BYTES)));
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
