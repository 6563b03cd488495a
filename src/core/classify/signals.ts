/**
 * Signals: what the readers found in the input, before any decision. Readers only fill these in;
 * {@link ../decide.ts} alone turns them into a code.
 */
import type { FailureCode } from '../catalog.ts';
import type { FailureSource } from '../failure.ts';

export interface Signals {
  source: FailureSource;
  /** An HTTP status a transport really had. */
  status: number | undefined;
  /**
   * A status the payload itself states (a numeric `code`, APIM's `statusCode`, a gateway's `status`, the
   * "Error code: 401" of pasted text). It stands in for a missing transport status, and for a 2xx one
   * (a relay that wrapped a 429 in a 200), but is never reported as {@link Failure.status}.
   */
  bodyStatus: number | undefined;
  wireCode: string | undefined;
  wireType: string | undefined;
  param: string | undefined;
  message: string | undefined;
  requestId: string | undefined;
  objectId: string | undefined;
  headers: unknown;
  /** A code already decided by the object's terminal state (precedence 4). */
  state: FailureCode | undefined;
  /** Transport evidence (precedence 8). */
  transport: FailureCode | undefined;
  transportCode: string | undefined;
  /**
   * A numeric status a transport had that HTTP does not allow (1–99, 600 and up): not HTTP, a hostile
   * server or a broken relay. It decides `unknown` before every rule, whatever the body claims.
   */
  invalidStatus: number | undefined;
}

/** What a reader concluded: the input shows a failure, or success (or work still running). */
export type Verdict = 'failure' | 'success';

export function newSignals(): Signals {
  // Every field present from the start: one object shape for every input.
  return {
    source: 'unknown',
    status: undefined,
    bodyStatus: undefined,
    wireCode: undefined,
    wireType: undefined,
    param: undefined,
    message: undefined,
    requestId: undefined,
    objectId: undefined,
    headers: undefined,
    state: undefined,
    transport: undefined,
    transportCode: undefined,
    invalidStatus: undefined,
  };
}
