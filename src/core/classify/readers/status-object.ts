/**
 * API objects that end in a `status` and carry their failure in a 200 body, read from one table per
 * object type (assistants.ts, vector-stores.ts, fine-tuning.ts, uploads.ts, evals.ts define them).
 * A status the table does not list (queued, in_progress, requires_action, succeeded, ...) is not a
 * failure: the object is still working or has finished well.
 */
import type { FailureCode } from '../../catalog.ts';
import type { FailureSource } from '../../failure.ts';
import { readErrorBody } from '../body.ts';
import type { Signals, Verdict } from '../signals.ts';
import { get, isObj, str } from '../values.ts';
import { INCOMPLETE_REASONS } from '../vocabulary.ts';

/** What a terminal status means: read the error field, read `incomplete_details.reason`, or a fixed code. */
export type StatusOutcome = 'read_error' | 'read_incomplete' | FailureCode;

/** How one object type reports its end. */
export interface StatusObjectSpec {
  /** The object's name in messages (`Assistants run`). */
  readonly what: string;
  readonly source: FailureSource;
  /** The field holding the error of a failed object (`last_error` or `error`). */
  readonly errorField: 'last_error' | 'error';
  /** Terminal statuses that are failures, and what each means. */
  readonly failures: Readonly<Record<string, StatusOutcome>>;
}

export function readStatusObject(s: Signals, o: unknown, spec: StatusObjectSpec): Verdict {
  s.source = spec.source;
  s.objectId ??= str(get(o, 'id'));
  const status = str(get(o, 'status'));
  const outcome = status !== undefined && Object.hasOwn(spec.failures, status) ? spec.failures[status] : undefined;
  if (outcome === undefined || status === undefined) return 'success';
  if (outcome === 'read_error') {
    const err = get(o, spec.errorField);
    if (isObj(err)) readErrorBody(s, err);
    if (s.wireCode === undefined && s.message === undefined) {
      s.state = 'unknown';
      s.message = `${spec.what} ${s.objectId ?? ''} ended "${status}" with no ${spec.errorField}`.replace('  ', ' ');
    }
    return 'failure';
  }
  if (outcome === 'read_incomplete') return readIncomplete(s, get(o, 'incomplete_details'), spec.what);
  s.state = outcome;
  s.message ??= `${spec.what} ${s.objectId ?? ''} ended "${status}"`.replace('  ', ' ');
  return 'failure';
}

/**
 * An object that ended "incomplete": the `reason` of its details (`incomplete_details` of a Response or an
 * Assistants run, `status_details` of a Realtime response) decides.
 */
export function readIncomplete(s: Signals, details: unknown, what: string): Verdict {
  const reason = str(get(details, 'reason'));
  s.wireCode ??= reason;
  s.state = (reason !== undefined ? INCOMPLETE_REASONS.get(reason) : undefined) ?? 'incomplete';
  s.message ??= `${what} ended "incomplete"${reason ? ` (reason: ${reason})` : ' with no reason'}`;
  return 'failure';
}
