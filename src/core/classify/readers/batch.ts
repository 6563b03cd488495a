/**
 * Batch API: the `batch` object (failed / expired / cancelled, or completed with every line failed) and
 * one line of its output or error file.
 * Types: openai-node src/resources/batches.ts (Batch, BatchError) and the Batch guide's file lines.
 */
import { readBodyText, readErrorBody } from '../body.ts';
import type { Signals, Verdict } from '../signals.ts';
import { get, httpStatus, isObj, num, str } from '../values.ts';
import { readChat } from './chat.ts';
import { readResponseObject } from './responses.ts';

export function readBatch(s: Signals, b: unknown): Verdict {
  s.source = s.source === 'unknown' ? 'batch' : s.source;
  s.objectId ??= str(get(b, 'id'));
  const status = get(b, 'status');
  if (status === 'failed') {
    const data = get(get(b, 'errors'), 'data');
    const first = Array.isArray(data) ? data[0] : undefined;
    if (isObj(first)) readErrorBody(s, first);
    else {
      s.state = 'unknown';
      s.message ??= 'Batch failed with no error list';
    }
    return 'failure';
  }
  if (status === 'expired') {
    s.state = 'expired';
    s.message ??= 'Batch expired before it completed';
    return 'failure';
  }
  if (status === 'cancelled') {
    s.state = 'cancelled';
    s.message ??= 'Batch was cancelled';
    return 'failure';
  }
  if (status === 'completed') {
    const counts = get(b, 'request_counts');
    const total = num(get(counts, 'total')) ?? 0;
    const failed = num(get(counts, 'failed')) ?? 0;
    if (total > 0 && failed >= total) {
      // Every line failed. The lines' own codes are in the error file (see waitForBatch); the batch
      // object alone does not say which, and faultline does not guess.
      s.state = 'unknown';
      s.wireCode ??= 'all_requests_failed';
      s.message ??= `Batch completed but all ${total} requests failed; read its error_file_id for each line's cause`;
      return 'failure';
    }
  }
  return 'success';
}

export function readBatchLine(s: Signals, line: unknown): Verdict {
  s.source = 'batch_line';
  s.objectId ??= str(get(line, 'custom_id'));
  const err = get(line, 'error');
  const response = get(line, 'response');
  s.requestId ??= str(get(response, 'request_id'));
  if (isObj(err)) {
    readErrorBody(s, err);
    return 'failure';
  }
  const status = httpStatus(get(response, 'status_code'));
  const body = get(response, 'body');
  if (status !== undefined && status >= 400) {
    s.status = status;
    readBodyText(s, body);
    return 'failure';
  }
  if (get(body, 'object') === 'response') return readResponseObject(s, body);
  if (get(body, 'object') === 'chat.completion') return readChat(s, body);
  if (response === undefined || response === null) {
    s.state = 'unknown';
    s.message ??= 'Batch line has neither a response nor an error';
    return 'failure';
  }
  return 'success';
}
