/**
 * classify() on the real payloads of issue 9 (test/fixtures/real/: other surfaces, OpenAI-compatible
 * providers and gateways, transport errors and pasted text), each checked as test/classify.test.ts
 * checks the founding table, plus what the families must never do.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { classify } from '../../src/core/classify/index.ts';
import { checkCase } from '../fixtures/check.ts';
import { inputOf } from '../fixtures/payloads.ts';
import { REAL_FILES, REAL_PAYLOADS, UNMATCHED_REVIEWS } from '../fixtures/real/index.ts';
import { isRetryableFailure } from '../../src/core/catalog.ts';

for (const [file, { CASES }] of Object.entries(REAL_FILES)) {
  describe(`real payloads: ${file}`, () => {
    for (const c of CASES) test(`${c.name}  [${c.source}]`, () => checkCase(c));
  });
}

describe('real payloads: what no family may do', () => {
  test('every reviewed reading names a gathered case', () => assert.deepEqual(UNMATCHED_REVIEWS, []));

  test('every case names its public source, surface and provider', () => {
    for (const c of REAL_PAYLOADS) {
      assert.ok(c.source.length > 10, c.name);
      assert.ok(c.surface !== undefined, `${c.name}: no surface`);
      assert.ok(c.provider !== undefined, `${c.name}: no provider`);
    }
  });

  test('a transport gap (TLS trust, protocol errors) is never retried: the catalog has no code for it yet', () => {
    for (const g of REAL_FILES['transport']!.GAPS) {
      const f = classify(inputOf({ name: g.name, source: g.source, input: g.input, code: null }));
      assert.equal(isRetryableFailure(f), false, `${g.name} → ${f.code}`);
    }
  });

  test('a run is recognised by its fields only when it does not name itself (a thread.message is not a run)', () => {
    const fields = { id: 'x', thread_id: 'thread_1', assistant_id: 'asst_1', status: 'failed', last_error: { code: 'server_error', message: 'Sorry, something went wrong.' } };
    assert.equal(classify({ ...fields, object: '' }).source, 'assistants_run');
    assert.equal(classify({ ...fields, object: 'thread.message' }).source, 'unknown');
  });

  test('an HTTP 402 is never a bad request, and never retried', () => {
    for (const c of REAL_PAYLOADS) {
      const f = classify(inputOf(c));
      if (f.status === 402) {
        assert.notEqual(f.code, 'invalid_request', c.name);
        assert.equal(f.retryable, false, c.name);
      }
    }
  });
});
