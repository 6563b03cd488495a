/**
 * Transport failures: an error and its `cause` chain, read for the codes, names and messages that
 * Node, undici and the SDKs produce when a request never got an HTTP answer (precedence 8).
 */
import type { Signals } from '../signals.ts';
import { get, isObj, str, type Obj } from '../values.ts';
import { BROWSER_FETCH_MESSAGES, SETUP_ERROR_CODES, TLS_TRUST_CODES, TRANSPORT_CODES, TRANSPORT_MESSAGES, TRANSPORT_NAMES, TRANSPORT_PHRASES } from '../vocabulary.ts';
import type { FailureCode } from '../../catalog.ts';

/** How many links of a `cause` chain are read. */
const MAX_CAUSE_DEPTH = 8;
/** Transport messages are short; a longer text is not one. */
const MAX_TRANSPORT_MESSAGE = 500;

/** The fields of one link of an error chain. */
interface ChainLink {
  code: unknown;
  name: unknown;
  ctorName: unknown;
  message: unknown;
  cause: unknown;
}

function chainLink(e: Obj): ChainLink {
  try {
    const ctor: unknown = e.constructor;
    return { code: e.code, name: e.name, ctorName: isObj(ctor) ? ctor.name : undefined, message: e.message, cause: e.cause };
  } catch {
    // A throwing getter somewhere: read each field on its own.
    return { code: get(e, 'code'), name: get(e, 'name'), ctorName: get(get(e, 'constructor'), 'name'), message: get(e, 'message'), cause: get(e, 'cause') };
  }
}

/**
 * The code a transport message stands for, if it is one. `fromTypeError`: the message is a `TypeError`'s,
 * so the other browsers' failed-fetch words ({@link BROWSER_FETCH_MESSAGES}) count too.
 */
export function transportMessage(text: string, fromTypeError = false): FailureCode | undefined {
  if (text.length >= MAX_TRANSPORT_MESSAGE) return undefined;
  const lower = text.toLowerCase();
  const key = lower.endsWith('.') ? lower.slice(0, -1) : lower;
  const exact = TRANSPORT_MESSAGES.get(key) ?? (fromTypeError ? BROWSER_FETCH_MESSAGES.get(key) : undefined);
  if (exact !== undefined) return exact;
  for (const [re, code] of TRANSPORT_PHRASES) if (re.test(text)) return code;
  return undefined;
}

/**
 * A response the HTTP parser refused (headers over the client's limit, a status line outside 100–599,
 * bytes that are not HTTP): undici's `HeadersOverflowError`/`HTTPParserError` and its `statusCode >= 100`
 * assertion, node:http's `HPE_*` codes. Its parser code, or undefined.
 */
function protocolViolation(link: { readonly code: unknown; readonly name: unknown; readonly message: unknown }): string | undefined {
  if (typeof link.code === 'string' && (link.code === 'UND_ERR_HEADERS_OVERFLOW' || link.code.startsWith('HPE_'))) return link.code;
  if (link.name === 'HeadersOverflowError') return 'UND_ERR_HEADERS_OVERFLOW';
  if (link.name === 'HTTPParserError') return 'HPE_INVALID_RESPONSE';
  if (link.name === 'AssertionError' && typeof link.message === 'string' && link.message.includes('assert(statusCode')) return 'HPE_INVALID_STATUS';
  return undefined;
}

/**
 * The error and its causes. A setup-error code anywhere (the request was never sent) or a TLS trust
 * failure (no retry can succeed) means no retryable transport failure at all. Otherwise the first specific evidence from the top decides — a transport code, or a
 * name or exact message saying timeout or abort — and a generic "connection" wrapper (undici's "fetch
 * failed" and "terminated", the SDK's APIConnectionError) only when nothing below it says more:
 * `fetch failed` ← `UND_ERR_HEADERS_TIMEOUT` is a timeout, the SDK's own timeout ← its AbortError too.
 * A wrapper whose root cause shows no transport evidence at all (the SDK wraps whatever a custom fetch
 * throws, `TypeError('bad timeout value in config')` included) is not attributed to the wire.
 */
export function readErrorChain(s: Signals, err: unknown): void {
  const seen: unknown[] = [];
  let specific: FailureCode | undefined;
  let generic: FailureCode | undefined;
  let code: string | undefined;
  let rootHasEvidence = false;
  let cur: unknown = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && isObj(cur) && !seen.includes(cur); depth++) {
    seen.push(cur);
    const link = chainLink(cur);
    const violation = protocolViolation(link);
    if (violation !== undefined) {
      // The same server sends it again: no connection blip to retry. `unknown`, the parser's code kept.
      s.transportCode = violation;
      return;
    }
    let t: FailureCode | undefined;
    if (typeof link.code === 'string') {
      if (SETUP_ERROR_CODES.has(link.code) || TLS_TRUST_CODES.has(link.code)) return;
      t = TRANSPORT_CODES.get(link.code);
      if (t !== undefined) {
        specific ??= t;
        code ??= link.code;
      }
    }
    cur = link.cause;
    // Once a specific answer is known, deeper links matter only for a setup-error code (above).
    if (specific !== undefined) continue;
    const name = str(link.name);
    const ctor = str(link.ctorName);
    const msg = str(link.message);
    const other = (name !== undefined ? TRANSPORT_NAMES.get(name) : undefined) ?? (ctor !== undefined ? TRANSPORT_NAMES.get(ctor) : undefined) ?? (msg !== undefined ? transportMessage(msg, name === 'TypeError') : undefined);
    if (other === 'connection_error') generic ??= other;
    else if (other !== undefined) specific ??= other;
    rootHasEvidence = t !== undefined || other !== undefined;
  }
  s.transport ??= specific ?? (rootHasEvidence ? generic : undefined);
  if (code !== undefined) s.transportCode ??= code;
}
