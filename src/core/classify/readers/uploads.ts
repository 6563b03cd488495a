/**
 * Uploads: an `upload` that expired before it was completed, or was cancelled (`pending` and `completed`
 * are not failures). Types: openai-node src/resources/uploads/uploads.ts (Upload.status).
 */
import type { Signals, Verdict } from '../signals.ts';
import { readStatusObject, type StatusObjectSpec } from './status-object.ts';

const UPLOAD: StatusObjectSpec = { what: 'Upload', source: 'upload', errorField: 'error', failures: { expired: 'expired', cancelled: 'cancelled' } };

export const readUpload = (s: Signals, x: unknown): Verdict => readStatusObject(s, x, UPLOAD);
