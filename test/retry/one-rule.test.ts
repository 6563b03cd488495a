/**
 * One retry rule: the catalog row's `retryable` is the only answer to "is this worth trying again?".
 * retry()'s sets, createFetch, the background waiter's poll errors and stream-follow all read it
 * through isRetryableFailure(), and no file in retry/ or background/ keeps a list of its own.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG, entryOf, isRetryableFailure, type FailureCode } from '../../src/core/catalog.ts';
import { NEVER_RETRIED_CODES, RETRYABLE_CODES } from '../../src/retry/index.ts';
import { afterPollError, resolveOptions } from '../../src/background/wait.ts';
import type { Failure } from '../../src/core/failure.ts';

function failureOf(code: FailureCode, extra: Partial<Failure> = {}): Failure {
  const e = entryOf(code);
  return { code, name: e.name, category: e.category, retryable: e.retryable, message: e.summary, source: 'unknown', ...extra };
}

describe('one retry rule, read from the catalog', () => {
  test('RETRYABLE_CODES and NEVER_RETRIED_CODES are the catalog rows, and only them', () => {
    for (const e of CATALOG) {
      assert.equal(RETRYABLE_CODES.has(e.code), e.retryable, e.code);
      assert.equal(NEVER_RETRIED_CODES.has(e.code), !e.retryable && e.code !== 'unknown', e.code);
      assert.equal(isRetryableFailure(failureOf(e.code)), e.retryable, e.code);
    }
    assert.equal(RETRYABLE_CODES.size + NEVER_RETRIED_CODES.size, CATALOG.length - 1);
  });

  test('x-should-retry: false stops any retry; true opens one for unknown only', () => {
    for (const e of CATALOG) {
      assert.equal(isRetryableFailure(failureOf(e.code, { shouldRetryHeader: false })), false, e.code);
      assert.equal(isRetryableFailure(failureOf(e.code, { shouldRetryHeader: true })), e.retryable || e.code === 'unknown', e.code);
    }
  });

  test('expired is not retried anywhere: the same call cannot succeed (resubmitting is new work)', () => {
    assert.equal(entryOf('expired').retryable, false);
    assert.ok(NEVER_RETRIED_CODES.has('expired'));
  });

  test('the background waiter retries a failed poll exactly when the catalog says so', () => {
    const r = resolveOptions({ timeoutMs: 60_000 }, undefined, 'test');
    for (const e of CATALOG) {
      if (e.code === 'not_found') continue; // a 404 on a poll has its own meaning (expired or no such id)
      const s = { seen: true, id: 'resp_1', what: 'Background response', attempt: 1 };
      let retried: boolean;
      try {
        afterPollError(failureOf(e.code), r, s);
        retried = true;
      } catch {
        retried = false;
      }
      assert.equal(retried, e.retryable, e.code);
    }
  });

  test('no file in src/retry or src/background keeps its own list of retryable codes or categories', () => {
    const root = join(import.meta.dirname, '../../src');
    for (const dir of ['retry', 'background']) {
      for (const file of readdirSync(join(root, dir)).filter((f) => f.endsWith('.ts'))) {
        const text = readFileSync(join(root, dir, file), 'utf8');
        assert.doesNotMatch(text, /new Set<FailureCode>\(/, `${dir}/${file} builds its own set of codes`);
        assert.doesNotMatch(text, /\.category === '/, `${dir}/${file} decides by category`);
        assert.doesNotMatch(text, /\bf(?:ailure)?\.retryable\b/, `${dir}/${file} reads .retryable instead of isRetryableFailure()`);
      }
    }
  });
});
