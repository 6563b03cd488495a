/**
 * Webhook events (`response.failed`, `batch.expired`, ...): they carry only the object's id, so the code
 * says the state and the message says to retrieve the object for the cause.
 * Types: openai-node src/resources/webhooks.ts (UnwrapWebhookEvent).
 */
import type { FailureCode } from '../../catalog.ts';
import type { Signals, Verdict } from '../signals.ts';
import { get, str } from '../values.ts';
import { WEBHOOK_STATES } from '../vocabulary.ts';

/**
 * The state a webhook event type reports. Types not in the table (the SDK adds some every few releases:
 * `video.*`, `agent.*`, `live.*`, `safety.*`) are judged by their last segment; anything that does not
 * end in a failure word is a notice, not a failure.
 */
function webhookState(type: string): FailureCode | null {
  const known = WEBHOOK_STATES.get(type);
  if (known !== undefined) return known;
  const last = type.slice(type.lastIndexOf('.') + 1);
  if (last === 'failed') return 'unknown';
  if (last === 'expired') return 'expired';
  if (last === 'cancelled' || last === 'canceled') return 'cancelled';
  if (last === 'incomplete') return 'incomplete';
  return null;
}

export function readWebhook(s: Signals, ev: unknown, type: string): Verdict {
  s.source = 'webhook';
  s.objectId ??= str(get(get(ev, 'data'), 'id'));
  const state = webhookState(type);
  if (state === null) return 'success';
  s.wireCode ??= type;
  s.state = state;
  s.message ??= `Webhook ${type} for ${s.objectId ?? 'an unknown object'}: it carries only the id; retrieve the object for the cause`;
  return 'failure';
}
