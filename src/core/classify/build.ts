/**
 * Building the {@link Failure}: the decided code, its catalog row, and the raw values, clipped and
 * redacted (no field ever holds a key or an Authorization header).
 */
import { entryOf } from '../catalog.ts';
import { failureOf, MAX_MESSAGE, MAX_SHORT, type Failure } from '../failure.ts';
import { redact, redactScanned } from '../redact.ts';
import { decide, evidenceOf, type Evidence } from './decide.ts';
import { retryAfterOf } from './hints.ts';
import type { Signals } from './signals.ts';
import { headerOf } from './values.ts';
import { MAY_HOLD_SECRET_BIT, WIRE_FACTS } from './vocabulary.ts';

/** The message, clipped and redacted. `evidence` tells whether decide() scanned all of it, and what it found. */
function clipMessage(text: string, evidence: Evidence): string {
  if (evidence.head === text) return redactScanned(text, (evidence.words & MAY_HOLD_SECRET_BIT) !== 0);
  return redact(text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}… [truncated]` : text);
}

function clipShort(text: string): string {
  // A value of the vocabulary is a known word, never a secret.
  if (WIRE_FACTS.has(text)) return text;
  return clipId(text);
}

/** Ids are unique: no vocabulary lookup, straight to redaction. */
function clipId(text: string): string {
  return redact(text.length > MAX_SHORT ? text.slice(0, MAX_SHORT) : text);
}

export interface BuildOptions {
  /** Epoch milliseconds, to turn an HTTP-date `retry-after` into a delay. */
  readonly now?: number | undefined;
}

export function build(s: Signals, options: BuildOptions | undefined): Failure {
  const evidence = evidenceOf(s);
  // Precedence 0: a status outside 100–599 is not HTTP, so nothing the answer claims is believed.
  const code = s.invalidStatus !== undefined ? 'unknown' : decide(evidence);
  const e = entryOf(code);
  const should = s.headers !== undefined && s.invalidStatus === undefined ? headerOf(s.headers, 'x-should-retry') : undefined;
  let message = s.message !== undefined ? clipMessage(s.message, evidence) : e.summary;
  // The raw status heads the message: `status` must stay a valid HTTP status, so it is absent.
  if (s.invalidStatus !== undefined) message = clipMessage(`HTTP status ${s.invalidStatus} (outside 100–599, not HTTP): ${message}`, evidence);
  return failureOf(
    code,
    {
      message,
      source: s.source,
      // A wait only means something before a retry: none is read for a failure that is never retried.
      retryAfterMs: e.retryable || should === 'true' ? retryAfterOf(s.headers, evidence, options?.now) : undefined,
      status: s.status,
      wireCode: s.wireCode !== undefined ? clipShort(s.wireCode) : undefined,
      wireType: s.wireType !== undefined ? clipShort(s.wireType) : undefined,
      param: s.param !== undefined ? clipShort(s.param) : undefined,
      requestId: s.requestId !== undefined ? clipId(s.requestId) : undefined,
      objectId: s.objectId !== undefined ? clipId(s.objectId) : undefined,
      transportCode: s.transportCode,
      shouldRetryHeader: should === 'true' ? true : should === 'false' ? false : undefined,
    },
    'clean',
  );
}

