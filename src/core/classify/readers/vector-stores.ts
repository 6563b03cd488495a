/**
 * Vector stores: a `vector_store.file` (failed with `last_error`: `server_error`, `unsupported_file`,
 * `invalid_file`; cancelled) and a `vector_store.files_batch` (failed or cancelled; each file keeps its
 * own `last_error`).
 * Types: openai-node src/resources/vector-stores/files.ts (VectorStoreFile) and file-batches.ts.
 */
import type { Signals, Verdict } from '../signals.ts';
import { readStatusObject, type StatusObjectSpec } from './status-object.ts';

const FILE: StatusObjectSpec = {
  what: 'Vector store file',
  source: 'vector_store_file',
  errorField: 'last_error',
  failures: { failed: 'read_error', cancelled: 'cancelled' },
};

// A file batch has no error of its own: its files carry theirs (list them with `filter: failed`).
const FILE_BATCH: StatusObjectSpec = { ...FILE, what: 'Vector store file batch', failures: { failed: 'read_error', cancelled: 'cancelled' } };

export const readVectorStoreFile = (s: Signals, x: unknown): Verdict => readStatusObject(s, x, FILE);
export const readVectorStoreFileBatch = (s: Signals, x: unknown): Verdict => readStatusObject(s, x, FILE_BATCH);
