/**
 * Building the {@link Failure}: the decided code, its catalog row, and the raw values, clipped and
 * redacted (no field ever holds a key or an Authorization header).
 */
import { entryOf } from '../catalog.ts';
import { failureBase, keepsWait, MAX_MESSAGE, MAX_SHORT, type Failure } from '../failure.ts';
import { redact, redactScanned } from '../redact.ts';
import { decide, evidenceOf, type Evidence } from './decide.ts';
import { retryAfterOf } from './hints.ts';
import type { Signals } from './signals.ts';
import { headerOf } from './values.ts';
import { isSdkMessage, MAY_HOLD_SECRET_BIT, WIRE_FACTS } from './vocabulary.ts';

/** The message, clipped and redacted. `evidence` tells whether decide() scanned all of it, and what it found. */
function clipMessage(text: string, evidence: Evidence): string {
  // decide() scanned the whole message (its head is all of it) and it needs no clipping: the scan's secret bit says whether to scrub.
  if (evidence.head === text && text.length <= MAX_MESSAGE) return redactScanned(text, (evidence.words & MAY_HOLD_SECRET_BIT) !== 0);
  // A message the SDK wrote itself holds no secret (test/core/classify-structure.test.ts checks each).
  if (isSdkMessage(text)) return text;
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
  const f = failureBase(e, s.message !== undefined ? clipMessage(s.message, evidence) : e.summary, s.source);
  const should = s.headers !== undefined && s.invalidStatus === undefined ? headerOf(s.headers, 'x-should-retry') : undefined;
  // A wait only means something before a retry: none is read for a failure that is never retried.
  if (keepsWait(e, should === 'true')) {
    const retryAfterMs = retryAfterOf(s.headers, evidence, options?.now);
    if (retryAfterMs !== undefined) f.retryAfterMs = retryAfterMs;
  }
  if (s.status !== undefined) f.status = s.status;
  // The raw status heads the message: `status` must stay a valid HTTP status, so it is absent.
  if (s.invalidStatus !== undefined) f.message = clipMessage(`HTTP status ${s.invalidStatus} (outside 100–599, not HTTP): ${f.message}`, evidence);
  if (s.wireCode !== undefined) f.wireCode = clipShort(s.wireCode);
  if (s.wireType !== undefined) f.wireType = clipShort(s.wireType);
  if (s.param !== undefined) f.param = clipShort(s.param);
  if (s.requestId !== undefined) f.requestId = clipId(s.requestId);
  if (s.objectId !== undefined) f.objectId = clipId(s.objectId);
  if (s.transportCode !== undefined) f.transportCode = s.transportCode;
  if (should === 'true') f.shouldRetryHeader = true;
  else if (should === 'false') f.shouldRetryHeader = false;
  return f;
}

