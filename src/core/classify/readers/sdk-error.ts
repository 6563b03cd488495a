/**
 * Thrown errors: the official SDK's `APIError` family (any major, read by shape: `status` and `headers`
 * own properties), and any other `Error`, whose cause chain is read for transport evidence.
 * Types: openai-node src/core/error.ts (v5+) / src/error.ts (v4).
 */
import { readErrorBody, readRequestId, textOfHtml } from '../body.ts';
import type { Signals } from '../signals.ts';
import { isFailureCode } from '../../catalog.ts';
import { get, headerOf, httpStatus, invalidStatus, isObj, str } from '../values.ts';
import { FAILURE_CODE_HEADER, TRANSPORT_CODES } from '../vocabulary.ts';
import { readErrorChain } from './transport.ts';

function looksLikeSdkError(e: unknown): boolean {
  try {
    return Object.prototype.hasOwnProperty.call(e, 'status') && Object.prototype.hasOwnProperty.call(e, 'headers');
  } catch {
    return false;
  }
}

/** The fields an error is read by. */
interface ErrorFields {
  status: unknown;
  headers: unknown;
  requestID: unknown;
  body: unknown;
  code: unknown;
  type: unknown;
  param: unknown;
  message: unknown;
}

function errorFields(e: unknown): ErrorFields {
  const x = e as Record<string, unknown>;
  try {
    // The SDK already read `x-request-id` into `requestID` (v5+) or `request_id` (v4); it keeps the
    // parsed body's inner error on `.error` (an envelope in some versions).
    return { status: x.status, headers: x.headers, requestID: x.requestID ?? x.request_id, body: x.error, code: x.code, type: x.type, param: x.param, message: x.message };
  } catch {
    // A throwing getter somewhere: read each field on its own.
    return {
      status: get(e, 'status'),
      headers: get(e, 'headers'),
      requestID: get(e, 'requestID') ?? get(e, 'request_id'),
      body: get(e, 'error'),
      code: get(e, 'code'),
      type: get(e, 'type'),
      param: get(e, 'param'),
      message: get(e, 'message'),
    };
  }
}

/** The end of the message openai-node v4–v7 make when they kept no body (`403 status code (no body)`). */
const NO_BODY = ' status code (no body)';

/** The SDK prefixes the status to the message ("429 Rate limit…"); a non-JSON body arrives as "502 <html>…". */
const STATUS_PREFIX = /^\d{3}\s+/;

export function readError(s: Signals, e: unknown): void {
  const sdk = looksLikeSdkError(e);
  s.source = sdk ? 'sdk' : 'transport';
  const x = errorFields(e);
  const status = httpStatus(x.status);
  if (status !== undefined) s.status = status;
  else s.invalidStatus = invalidStatus(x.status);
  s.requestId ??= str(x.requestID);
  readRequestId(s, x.headers);
  if (isObj(x.body)) readErrorBody(s, x.body);
  const code = x.code;
  if (typeof code === 'string' && !TRANSPORT_CODES.has(code)) s.wireCode ??= code;
  s.wireType ??= str(x.type);
  s.param ??= str(x.param);
  const msg = str(x.message);
  if (s.message === undefined && msg !== undefined) s.message = status !== undefined ? textOfHtml(msg.replace(STATUS_PREFIX, '')) : msg;
  if (status === undefined) readErrorChain(s, e);
  // The SDK dropped the body (a gateway's unwrapped error; v4–v6 then say "403 status code (no body)"):
  // createFetch's reading of it, when the request went through it.
  if (sdk && !isObj(x.body) && msg !== undefined && msg.endsWith(NO_BODY)) {
    const code = headerOf(x.headers, FAILURE_CODE_HEADER);
    if (isFailureCode(code)) s.state = code;
  }
  if (s.transport !== undefined && !sdk) s.source = 'transport';
}
