/**
 * Responses API: a `Response` object (`status` failed / incomplete / cancelled / expired) and its stream
 * events (`error`, `response.failed`, `response.incomplete`, `response.cancelled`).
 * Types: openai-node src/resources/responses/responses.ts (Response, ResponseError, IncompleteDetails,
 * ResponseStreamEvent).
 */
import { readErrorBody } from '../body.ts';
import type { Signals, Verdict } from '../signals.ts';
import { get, isObj, str } from '../values.ts';
import { readIncomplete } from './status-object.ts';

export function readResponseObject(s: Signals, r: unknown): Verdict {
  s.source = s.source === 'unknown' ? 'response' : s.source;
  s.objectId ??= str(get(r, 'id'));
  const status = get(r, 'status');
  if (status === 'failed') {
    const err = get(r, 'error');
    if (isObj(err)) readErrorBody(s, err);
    else {
      s.state = 'unknown';
      s.message ??= `Response ${s.objectId ?? ''} ended "failed" with no error object`.replace('  ', ' ');
    }
    return 'failure';
  }
  if (status === 'incomplete') return readIncomplete(s, get(r, 'incomplete_details'), 'Response');
  if (status === 'cancelled') {
    s.state = 'cancelled';
    s.message ??= 'Response was cancelled';
    return 'failure';
  }
  if (status === 'expired') {
    s.state = 'expired';
    s.message ??= 'Response expired';
    return 'failure';
  }
  // completed, queued, in_progress: not a failure (an `error` on a non-terminal object is ignored).
  return 'success';
}

export function readStreamEvent(s: Signals, ev: unknown, type: string): Verdict {
  s.source = 'stream_event';
  if (type === 'error' || type === 'response.error') {
    // Flat `{type:'error', code, message, param}` or nested `{type:'error', error:{type, code, message}}`.
    const nested = get(ev, 'error');
    if (isObj(nested)) readErrorBody(s, nested);
    s.wireCode ??= str(get(ev, 'code'));
    s.message ??= str(get(ev, 'message'));
    s.param ??= str(get(ev, 'param'));
    if (s.wireCode === undefined && s.message === undefined) {
      s.state = 'unknown';
      s.message = 'Stream error event with no code and no message';
    }
    return 'failure';
  }
  if (type === 'response.failed' || type === 'response.incomplete' || type === 'response.cancelled') {
    const r = get(ev, 'response');
    if (isObj(r)) return readResponseObject(s, r);
    s.state = type === 'response.failed' ? 'unknown' : type === 'response.cancelled' ? 'cancelled' : 'incomplete';
    s.message ??= `Stream event ${type} with no response object`;
    return 'failure';
  }
  return 'success';
}
