/**
 * Fine-tuning: a `fine_tuning.job` that `failed` (with `error.code/message/param`) or was cancelled. A job
 * still validating carries `error: {}`, which is not a failure.
 * Types: openai-node src/resources/fine-tuning/jobs/jobs.ts (FineTuningJob.status, FineTuningJob.Error).
 */
import type { Signals, Verdict } from '../signals.ts';
import { readStatusObject, type StatusObjectSpec } from './status-object.ts';

const JOB: StatusObjectSpec = {
  what: 'Fine-tuning job',
  source: 'fine_tuning_job',
  errorField: 'error',
  failures: { failed: 'read_error', cancelled: 'cancelled' },
};

export const readFineTuningJob = (s: Signals, x: unknown): Verdict => readStatusObject(s, x, JOB);
