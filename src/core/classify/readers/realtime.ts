/**
 * Realtime API server events: `error` (handled with the Responses stream `error` event: same shape) and
 * `response.done`, whose `response.status` is `failed`, `incomplete` or `cancelled` with
 * `status_details.{type, reason, error}`. A failed Realtime response is a failure, never a success.
 * Types: openai-node src/resources/realtime/realtime.ts (ResponseDoneEvent, RealtimeResponse,
 * RealtimeResponseStatus, RealtimeErrorEvent).
 */
import { readErrorBody } from '../body.ts';
import type { Signals, Verdict } from '../signals.ts';
import { get, isObj, str } from '../values.ts';
import { readIncomplete } from './status-object.ts';

export function readRealtimeResponseDone(s: Signals, ev: unknown): Verdict {
  s.source = 'realtime_event';
  const r = get(ev, 'response');
  s.objectId ??= str(get(r, 'id'));
  const status = get(r, 'status');
  const details = get(r, 'status_details');
  if (status === 'failed') {
    const err = get(details, 'error');
    if (isObj(err)) readErrorBody(s, err);
    if (s.wireCode === undefined && s.message === undefined) {
      s.state = 'unknown';
      s.message = `Realtime response ${s.objectId ?? ''} ended "failed" with no status_details.error`.replace('  ', ' ');
    }
    return 'failure';
  }
  if (status === 'incomplete') return readIncomplete(s, details, 'Realtime response');
  if (status === 'cancelled') {
    // `turn_detected` (the user spoke) or `client_cancelled`: either way the response was cut on purpose.
    const reason = str(get(details, 'reason'));
    s.state = 'cancelled';
    s.message ??= `Realtime response was cancelled${reason ? ` (reason: ${reason})` : ''}`;
    return 'failure';
  }
  return 'success';
}
