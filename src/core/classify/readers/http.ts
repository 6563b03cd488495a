/**
 * A plain HTTP record `{ status, headers, body }` (what createFetch hands over) or a fetch `Response`
 * (whose body cannot be read synchronously: only its status and headers count). A numeric status outside
 * 100–599 (a `Response.error()`'s 0, a broken proxy's 600) is kept out of `Failure.status` — it is not
 * an HTTP status — and the record is read as what its body says, else `unknown`.
 */
import { readBodyText, readRequestId } from '../body.ts';
import type { Signals, Verdict } from '../signals.ts';
import { get, httpStatus, invalidStatus, str } from '../values.ts';

export function readHttpRecord(s: Signals, r: unknown): Verdict {
  s.source = 'http';
  const raw = get(r, 'status');
  s.status = httpStatus(raw);
  if (s.status === undefined) s.invalidStatus = invalidStatus(raw);
  readRequestId(s, get(r, 'headers'));
  const body = get(r, 'body');
  if (!(typeof ReadableStream !== 'undefined' && body instanceof ReadableStream)) readBodyText(s, body ?? get(r, 'error'));
  const statusText = str(get(r, 'statusText'));
  if (s.message === undefined && statusText !== undefined) s.message = statusText;
  if (s.status === undefined) {
    s.message ??= `HTTP answer with ${String(raw)}, which is not an HTTP status (100–599)`;
    return 'failure';
  }
  return s.status < 400 && s.wireCode === undefined ? 'success' : 'failure';
}
