import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { followStream } from '../../src/background/stream-follow.ts';
import { classify } from '../../src/core/classify/index.ts';
import { AZURE_SEQUENCES } from '../fixtures/azure-stream.ts';

async function* events(list: readonly unknown[], thenThrow?: Error): AsyncGenerator<unknown> {
  for (const e of list) yield e;
  if (thenThrow) throw thenThrow;
}
const failedNull = (seq: number) => ({ type: 'response.failed', sequence_number: seq, response: { id: 'resp_az', object: 'response', status: 'failed', error: null } });

test("Azure's response.failed with error: null takes its cause from the following error event (flat and nested)", async () => {
  for (const errorEvent of [
    { type: 'error', sequence_number: 2, code: 'rate_limit_exceeded', message: 'Rate limit reached. Please try again in 2s.' },
    { type: 'error', sequence_number: 2, error: { type: 'tokens', code: 'rate_limit_exceeded', message: 'Rate limit reached.' } },
  ]) {
    const seen: unknown[] = [];
    const r = await followStream(events([{ type: 'response.created', sequence_number: 0 }, failedNull(1), errorEvent]), { cursor: undefined }, new AbortController().signal, (e) => void seen.push(e.type));
    assert.equal(r.kind, 'terminal');
    assert.ok(r.kind === 'terminal');
    assert.equal(r.response.id, 'resp_az');
    assert.equal(classify(r.response).code, 'rate_limit_exceeded');
    assert.deepEqual(seen, ['response.created', 'response.failed']);
  }
});

test('a failed-with-null Response is final when the server ends the stream after it', async () => {
  const ended = await followStream(events([failedNull(1)]), { cursor: undefined }, new AbortController().signal, () => undefined);
  assert.ok(ended.kind === 'terminal');
  assert.equal(classify(ended.response).code, 'unknown');
});

test('a stream cut right after a failed-with-null Response is resumed once to read the cause', async () => {
  const state: { cursor: number | undefined } = { cursor: undefined };
  const stop = new AbortController().signal;
  const cut = await followStream(events([{ type: 'response.created', sequence_number: 0 }, failedNull(1)], new TypeError('terminated')), state, stop, () => undefined);
  assert.equal(cut.kind, 'dropped');
  assert.equal(state.cursor, 1);
  // The resumed stream (starting_after 1) carries the error event that was lost in the cut.
  const resumed = await followStream(events([{ type: 'error', sequence_number: 2, code: 'rate_limit_exceeded', message: 'Rate limit reached.' }]), state, stop, () => undefined);
  assert.ok(resumed.kind === 'terminal');
  assert.equal(resumed.response.id, 'resp_az');
  assert.equal(classify(resumed.response).code, 'rate_limit_exceeded');

  // Resumed to nothing (the server had no cause to send): the Response is final, still unknown.
  const s2: { cursor: number | undefined } = { cursor: undefined };
  assert.equal((await followStream(events([failedNull(1)], new TypeError('terminated')), s2, stop, () => undefined)).kind, 'dropped');
  const empty = await followStream(events([]), s2, stop, () => undefined);
  assert.ok(empty.kind === 'terminal');
  assert.equal(classify(empty.response).code, 'unknown');

  // Cut twice: no second resume for it.
  const s3: { cursor: number | undefined } = { cursor: undefined };
  assert.equal((await followStream(events([failedNull(1)], new TypeError('terminated')), s3, stop, () => undefined)).kind, 'dropped');
  const again = await followStream(events([], new TypeError('other side closed')), s3, stop, () => undefined);
  assert.ok(again.kind === 'terminal');
  assert.equal(classify(again.response).code, 'unknown');
});

test('an ordinary failed Response ends the stream at once', async () => {
  const r = await followStream(
    events([{ type: 'response.failed', sequence_number: 1, response: { id: 'r', object: 'response', status: 'failed', error: { code: 'server_error', message: 'x' } } }, { type: 'error', sequence_number: 2, code: 'ignored' }]),
    { cursor: undefined },
    new AbortController().signal,
    () => undefined,
  );
  assert.ok(r.kind === 'terminal');
  assert.equal(classify(r.response).code, 'server_error');
});

describe('the Azure rule, one table for both stream readers (test/fixtures/azure-stream.ts)', () => {
  for (const row of AZURE_SEQUENCES) {
    test(`followStream: ${row.name}`, async () => {
      const r = await followStream(events(row.events), { cursor: undefined }, new AbortController().signal, () => undefined);
      assert.ok(r.kind === 'terminal', r.kind);
      const f = classify(r.response);
      assert.equal(f.code, row.code);
      assert.equal(f.objectId, row.objectId);
      assert.equal(f.retryAfterMs, row.retryAfterMs);
    });
  }
});
