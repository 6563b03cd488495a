/**
 * Free text: a bare catalog code, an HTTP status, a wire code, a transport code, or a message as users
 * paste it. (JSON text is parsed and classified as the value it holds, before this reader.)
 */
import { entryOf, isFailureCode } from '../../catalog.ts';
import { MAX_MESSAGE } from '../body.ts';
import type { Signals } from '../signals.ts';
import { httpStatus, normalizeWireValue } from '../values.ts';
import { TRANSPORT_CODES, WIRE_FACTS } from '../vocabulary.ts';
import { transportMessage } from './transport.ts';

/** One word that could be a wire or transport code. */
const CODE_LIKE = /^[A-Za-z][A-Za-z0-9_.-]{2,80}$/;

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
  s.message = t.length > MAX_MESSAGE * 4 ? t.slice(0, MAX_MESSAGE * 4) : t;
  s.transport ??= transportMessage(s.message.slice(0, 499));
}
