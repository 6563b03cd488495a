/**
 * Free text: a bare catalog code, an HTTP status, a wire code, a transport code, or a message as users
 * paste it — the Python SDK's `Error code: 401 - {…}`, openai-node's `402 Insufficient Balance`,
 * `HTTP 503`, `502 Bad Gateway`, `AuthenticationError: 401 status code (no body)`, an exception chain
 * `litellm.BadRequestError: DeepseekException - {…}`. (Text that is JSON as a whole is parsed and
 * classified as the value it holds, before this reader.)
 *
 * What the text states — a status, an SDK error class, an embedded error body — is read as the payload's
 * own evidence: a stated status stands in for a missing one but is never reported as `Failure.status`.
 */
import { entryOf, isFailureCode } from '../../catalog.ts';
import { MAX_MESSAGE, readErrorBody } from '../body.ts';
import { parsePythonLiteral } from '../python-literal.ts';
import type { Signals } from '../signals.ts';
import { httpStatus, normalizeWireValue } from '../values.ts';
import { SDK_ERROR_CLASSES, TRANSPORT_CODES, TRANSPORT_NAMES, WIRE_FACTS } from '../vocabulary.ts';
import { transportMessage } from './transport.ts';

/** One word that could be a wire or transport code. */
const CODE_LIKE = /^[A-Za-z][A-Za-z0-9_.-]{2,80}$/;
/** How far into the text the status and the exception classes are looked for. */
const HEAD = 300;

/** `openai.AuthenticationError: `, `litellm.BadRequestError: `, `DeepseekException - `, `Error: `. */
const EXCEPTION_PREFIX = /^(?:[A-Za-z_]\w*\.)*((?:[A-Za-z_]\w*?)?(?:Error|Exception))(?:\s*[:-]\s+|\s+(?=\d)|\()/;

/** A status the text states, in the forms SDKs and gateways print (first match wins). */
const STATED_STATUS: readonly RegExp[] = [
  // "402 Insufficient Balance", "500 INTERNAL. {…}", "401 status code (no body)", "502 502: Bad Gateway"
  /^(\d{3})(?=[\s:.]|$)/,
  // "Error code: 400 - {…}", "status code 500", "unexpected status 400:", "HTTP 503", "API Error: 422",
  // "Error response 401 while fetching", "API error 412:", "OpenAI API error (403)", "HTTP 429 (429)"
  /\b(?:error code|status code|status|http|error response|api error)\s*:?\s*\(?(\d{3})\b/i,
  // "'502 Bad Gateway' for url", "503 Service Unavailable"
  /\b(\d{3}) (?:bad request|unauthorized|payment required|forbidden|not found|too many requests|internal server error|bad gateway|service unavailable|gateway time-?out)\b/i,
  // Python requests' HTTPError: "402 Client Error: Payment Required for url: …", "503 Server Error: …"
  /\b(\d{3}) (?:client|server) error:/i,
];

/** `[invalid_request_error] Error committing input audio buffer…` (a Realtime client's log line). */
const BRACKETED_TYPE = /^\[([a-z_]{3,60})\]\s/;

export function readText(s: Signals, text: string): void {
  s.source = 'message';
  const t = text.trim();
  if (isFailureCode(t)) {
    s.state = t;
    s.message = entryOf(t).summary;
    return;
  }
  const status = httpStatus(t);
  if (status !== undefined) {
    s.status = status;
    s.message = `HTTP ${status}`;
    return;
  }
  if (CODE_LIKE.test(t)) {
    if (WIRE_FACTS.get(normalizeWireValue(t))?.asCode !== undefined) s.wireCode = t;
    else if (TRANSPORT_CODES.has(t)) {
      s.transport = TRANSPORT_CODES.get(t);
      s.transportCode = t;
    }
  }
  const rest = readExceptionPrefixes(s, t);
  const head = rest.slice(0, HEAD);
  for (const re of STATED_STATUS) {
    const m = re.exec(head);
    const stated = m !== null ? httpStatus(m[1]) : undefined;
    if (stated !== undefined) {
      s.bodyStatus ??= stated;
      break;
    }
  }
  s.wireType ??= BRACKETED_TYPE.exec(t)?.[1];
  const body = embeddedBody(t);
  if (body !== undefined) readErrorBody(s, body);
  s.message ??= t.length > MAX_MESSAGE * 4 ? t.slice(0, MAX_MESSAGE * 4) : t;
  s.transport ??= transportMessage(rest.slice(0, 499));
}

/** Reads and strips the exception classes a text starts with; returns the rest. */
function readExceptionPrefixes(s: Signals, text: string): string {
  let rest = text;
  for (let i = 0; i < 4; i++) {
    const m = EXCEPTION_PREFIX.exec(rest);
    if (m === null) break;
    const name = m[1]!;
    const stated = SDK_ERROR_CLASSES.get(name);
    if (stated !== undefined) s.bodyStatus ??= stated;
    const transport = TRANSPORT_NAMES.get(name);
    if (transport !== undefined) s.transport ??= transport;
    rest = rest.slice(m[0].length).trimStart();
  }
  return rest;
}

/** The JSON or Python error body inside a text (from its first `{` or `[` to the matching last bracket). */
function embeddedBody(text: string): unknown {
  const brace = text.indexOf('{');
  const bracket = text.indexOf('[');
  const start = brace === -1 ? bracket : bracket === -1 ? brace : Math.min(brace, bracket);
  if (start === -1 || start > HEAD) return undefined;
  const end = text.lastIndexOf(text[start] === '{' ? '}' : ']');
  if (end <= start) return undefined;
  const candidate = text.slice(start, end + 1);
  try {
    return JSON.parse(candidate);
  } catch {
    const py = parsePythonLiteral(candidate);
    return typeof py === 'object' && py !== null ? py : undefined;
  }
}
