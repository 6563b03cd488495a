/**
 * A plain HTTP record `{ status, headers, body }` (what faultline.fetch hands over) or a fetch `Response`
 * (whose body cannot be read synchronously: only its status and headers count).
 */
import { readBodyText, readRequestId } from '../body.ts';
import type { Signals, Verdict } from '../signals.ts';
import { get, httpStatus, str } from '../values.ts';

export function readHttpRecord(s: Signals, r: unknown): Verdict {
  s.source = 'http';
  s.status = httpStatus(get(r, 'status'));
  readRequestId(s, get(r, 'headers'));
  const body = get(r, 'body');
  if (!(typeof ReadableStream !== 'undefined' && body instanceof ReadableStream)) readBodyText(s, body ?? get(r, 'error'));
  const statusText = str(get(r, 'statusText'));
  if (s.message === undefined && statusText !== undefined) s.message = statusText;
  return s.status !== undefined && s.status < 400 && s.wireCode === undefined ? 'success' : 'failure';
}
