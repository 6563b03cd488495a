import assert from 'node:assert/strict';
import { test } from 'node:test';
import { followStream } from '../../src/background/stream-follow.ts';
import { classify } from '../../src/classify.ts';

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

test('a failed-with-null Response with no following error event stays unknown (end of stream, or a cut)', async () => {
  const ended = await followStream(events([failedNull(1)]), { cursor: undefined }, new AbortController().signal, () => undefined);
  assert.ok(ended.kind === 'terminal');
  assert.equal(classify(ended.response).code, 'unknown');
  const cut = await followStream(events([failedNull(1)], new TypeError('terminated')), { cursor: undefined }, new AbortController().signal, () => undefined);
  assert.ok(cut.kind === 'terminal');
  assert.equal(classify(cut.response).code, 'unknown');
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
