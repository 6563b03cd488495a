/**
 * trackStreamFailures(): the Azure pair (response.failed with error: null, then an error event with the
 * cause), the flat and nested error event forms, and chat chunks.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isCauselessFailed, mergeHeldCause, trackStreamFailures } from '../../src/core/stream.ts';
import { AZURE_SEQUENCES } from '../fixtures/azure-stream.ts';
import { toError, ContentPolicyError } from '../../src/core/errors.ts';

const created = { type: 'response.created', sequence_number: 0, response: { id: 'resp_az1', object: 'response', status: 'in_progress', output: [] } };
const failedNull = { type: 'response.failed', sequence_number: 1, response: { id: 'resp_az1', object: 'response', status: 'failed', error: null, output: [] } };

describe('trackStreamFailures', () => {
  test('Azure: response.failed with error null, then a nested error event with the cause → one merged failure', () => {
    // Shape from https://github.com/maximhq/bifrost/pull/6652 (content-filtered /v1/responses stream on Azure).
    const tracker = trackStreamFailures();
    assert.equal(tracker.push(created), null);
    assert.equal(tracker.push(failedNull), null, 'held back for one event');
    const f = tracker.push({ type: 'error', sequence_number: 2, error: { type: 'invalid_request_error', code: 'content_policy_violation', message: 'The response was filtered due to the prompt triggering content management policy.', param: null } });
    assert.ok(f);
    assert.equal(f.code, 'content_policy_violation');
    assert.equal(f.objectId, 'resp_az1', 'the id from the failed response');
    assert.equal(f.status, undefined);
    assert.equal(tracker.failure, f);
    assert.equal(tracker.end(), null, 'nothing left held back');
    assert.ok(toError(f) instanceof ContentPolicyError);
  });

  test('Azure pair with the flat error event form', () => {
    const tracker = trackStreamFailures();
    tracker.push(failedNull);
    const f = tracker.push({ type: 'error', sequence_number: 2, code: 'server_error', message: 'The server had an error processing your request.', param: null });
    assert.equal(f?.code, 'server_error');
    assert.equal(f?.objectId, 'resp_az1');
  });

  test('response.failed with error null and then the end of the stream → unknown, reported by end()', () => {
    const tracker = trackStreamFailures();
    assert.equal(tracker.push(failedNull), null);
    const f = tracker.end();
    assert.equal(f?.code, 'unknown');
    assert.equal(f?.objectId, 'resp_az1');
    assert.equal(tracker.failure, f);
  });

  test('response.failed with error null followed by a non-error event → the held failure', () => {
    const tracker = trackStreamFailures();
    tracker.push(failedNull);
    const f = tracker.push({ type: 'response.output_text.done', sequence_number: 2, text: '' });
    assert.equal(f?.code, 'unknown');
    assert.equal(tracker.end(), null);
  });

  test('flat and nested error events on their own', () => {
    const flat = trackStreamFailures().push({ type: 'error', sequence_number: 5, code: 'rate_limit_exceeded', message: 'Rate limit reached. Please try again in 120ms.', param: null });
    assert.equal(flat?.code, 'rate_limit_exceeded');
    assert.equal(flat?.retryAfterMs, 120);
    assert.equal(flat?.source, 'stream_event');
    const nested = trackStreamFailures().push({ type: 'error', error: { type: 'invalid_request_error', code: 'context_length_exceeded', message: 'Your input exceeds the context window of this model.', param: 'input' } });
    assert.equal(nested?.code, 'context_length_exceeded');
    assert.equal(nested?.param, 'input');
    const empty = trackStreamFailures().push({ type: 'error' });
    assert.equal(empty?.code, 'unknown');
  });

  test('a response.failed that carries its error is reported at once', () => {
    const tracker = trackStreamFailures();
    const f = tracker.push({ type: 'response.failed', sequence_number: 3, response: { id: 'resp_2', object: 'response', status: 'failed', error: { code: 'server_is_overloaded', message: 'Our servers are currently overloaded.' } } });
    assert.equal(f?.code, 'overloaded');
    assert.equal(f?.objectId, 'resp_2');
  });

  test('response.incomplete and chat chunks that stop on length', () => {
    const t1 = trackStreamFailures();
    const f1 = t1.push({ type: 'response.incomplete', sequence_number: 7, response: { id: 'resp_3', object: 'response', status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } } });
    assert.equal(f1?.code, 'max_output_tokens');
    const t2 = trackStreamFailures();
    assert.equal(t2.push({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'a' }, finish_reason: null }] }), null);
    assert.equal(t2.push({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'length' }] })?.code, 'max_output_tokens');
  });

  test('a clean stream reports nothing; failure keeps the first one', () => {
    const tracker = trackStreamFailures();
    for (const e of [created, { type: 'response.output_text.delta', sequence_number: 1, delta: 'hi' }, { type: 'response.completed', sequence_number: 2, response: { id: 'r', object: 'response', status: 'completed' } }]) {
      assert.equal(tracker.push(e), null);
    }
    assert.equal(tracker.end(), null);
    assert.equal(tracker.failure, null);
    const t2 = trackStreamFailures();
    const first = t2.push({ type: 'error', code: 'server_error', message: 'a' });
    t2.push({ type: 'error', code: 'rate_limit_exceeded', message: 'b' });
    assert.equal(t2.failure, first);
  });

  test('hostile events never throw', () => {
    const tracker = trackStreamFailures();
    const hostile = new Proxy({}, { get() { throw new Error('trap'); }, has() { throw new Error('trap'); } });
    for (const e of [null, undefined, 42, 'error', hostile, { type: 'response.failed', response: hostile }]) {
      assert.doesNotThrow(() => tracker.push(e));
    }
    assert.doesNotThrow(() => tracker.end());
  });
});

describe('the Azure rule, one table for both stream readers (test/fixtures/azure-stream.ts)', () => {
  for (const row of AZURE_SEQUENCES) {
    test(`trackStreamFailures: ${row.name}`, () => {
      const tracker = trackStreamFailures();
      for (const event of row.events) tracker.push(event);
      tracker.end();
      const f = tracker.failure;
      assert.ok(f, 'one failure');
      assert.equal(f.code, row.code);
      assert.equal(f.objectId, row.objectId);
      assert.equal(f.retryAfterMs, row.retryAfterMs);
    });
  }

  test('isCauselessFailed and mergeHeldCause: the rule itself', () => {
    assert.equal(isCauselessFailed(failedNull), true);
    assert.equal(isCauselessFailed({ ...failedNull, response: { ...failedNull.response, error: { code: 'server_error', message: 'x' } } }), false);
    assert.equal(isCauselessFailed({ type: 'response.completed', response: { status: 'completed', error: null } }), false);
    assert.equal(isCauselessFailed({ type: 'response.failed', response: null }), false);
    const held = failedNull.response;
    assert.equal(mergeHeldCause(held, { type: 'response.output_text.delta', delta: 'x' }), undefined);
    assert.deepEqual(mergeHeldCause(held, { type: 'error', code: 'server_error', message: 'boom', param: null }), { ...held, error: { code: 'server_error', message: 'boom' } });
    assert.deepEqual(mergeHeldCause(held, { type: 'error', error: { type: 'invalid_request_error', code: 'c', message: 'm', param: 'input' } }), { ...held, error: { code: 'c', message: 'm', type: 'invalid_request_error', param: 'input' } });
    assert.equal(held.error, null, 'the held Response is not changed');
  });
});
