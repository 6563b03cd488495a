/**
 * Evals: an `eval.run` that `failed` (with `error: {code, message}`) or was `canceled` (one l, as the
 * evals API spells it). Types: openai-node src/resources/evals/runs/runs.ts (RunRetrieveResponse.status,
 * EvalAPIError).
 */
import type { Signals, Verdict } from '../signals.ts';
import { readStatusObject, type StatusObjectSpec } from './status-object.ts';

const EVAL_RUN: StatusObjectSpec = { what: 'Eval run', source: 'eval_run', errorField: 'error', failures: { failed: 'read_error', canceled: 'cancelled', cancelled: 'cancelled' } };

export const readEvalRun = (s: Signals, x: unknown): Verdict => readStatusObject(s, x, EVAL_RUN);
