/**
 * Assistants API: a `thread.run` and a `thread.run.step` (failed with `last_error`, expired, cancelled,
 * incomplete with `incomplete_details.reason`).
 * Types: openai-node src/resources/beta/threads/runs/runs.ts (Run.status, Run.LastError,
 * Run.IncompleteDetails) and runs/steps.ts (RunStep.status, RunStep.LastError).
 */
import type { Signals, Verdict } from '../signals.ts';
import { get } from '../values.ts';
import { readStatusObject, type StatusObjectSpec } from './status-object.ts';

const RUN: StatusObjectSpec = {
  what: 'Assistants run',
  source: 'assistants_run',
  errorField: 'last_error',
  failures: { failed: 'read_error', expired: 'expired', cancelled: 'cancelled', incomplete: 'read_incomplete' },
};

const STEP: StatusObjectSpec = { ...RUN, what: 'Assistants run step', failures: { failed: 'read_error', expired: 'expired', cancelled: 'cancelled' } };

/**
 * A run by its `object`, or, when `object` is missing or empty (Assistants-compatible servers such as
 * hal-9100 send `object: ""`), by its fields. A `thread.message` has the same fields but names itself.
 */
export function isRun(x: object, object: unknown): boolean {
  if (object === 'thread.run') return true;
  return (object === undefined || object === '') && get(x, 'thread_id') !== undefined && get(x, 'assistant_id') !== undefined && typeof get(x, 'status') === 'string';
}

export function isRunStep(x: object, object: unknown): boolean {
  return object === 'thread.run.step' || (get(x, 'run_id') !== undefined && get(x, 'step_details') !== undefined && typeof get(x, 'status') === 'string');
}

export const readRun = (s: Signals, x: unknown): Verdict => readStatusObject(s, x, RUN);
export const readRunStep = (s: Signals, x: unknown): Verdict => readStatusObject(s, x, STEP);
