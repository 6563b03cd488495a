import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CATALOG } from '../src/core/catalog.ts';
import { renderCodesMarkdown } from '../src/cli/render.ts';
import { codesDoc, withCodesTable } from '../scripts/gen-docs.ts';
import { withCoverageSummary } from '../scripts/gen-coverage.ts';

const read = (p: string) => readFileSync(new URL(`../${p}`, import.meta.url), 'utf8');

test('docs/codes.md is exactly what the catalog generates (run `npm run docs` to refresh)', () => {
  assert.equal(read('docs/codes.md'), codesDoc());
  assert.ok(codesDoc().startsWith(renderCodesMarkdown().slice(0, renderCodesMarkdown().indexOf('<!-- coverage:start'))));
});

test("the README's code table is exactly what the catalog generates", () => {
  const readme = read('README.md');
  assert.equal(readme, withCoverageSummary(withCodesTable(readme), 'README.md'));
});

test('every code has a troubleshooting section with all four parts', () => {
  const md = read('docs/codes.md');
  for (const e of CATALOG) {
    const start = md.indexOf(`\n## ${e.code}\n`);
    assert.ok(start >= 0, `section for ${e.code}`);
    const next = md.indexOf('\n## ', start + 1);
    const section = md.slice(start, next < 0 ? undefined : next);
    for (const h of ['### What it means', '### Common causes', '### How to fix it', '### How to know the fix worked']) {
      assert.ok(section.includes(h), `${e.code} has "${h}"`);
    }
    assert.ok(section.includes(`\`${e.name}\``));
  }
});

test('the catalog is well formed: unique codes and class names, non-empty texts', () => {
  assert.equal(new Set(CATALOG.map((e) => e.code)).size, CATALOG.length);
  assert.equal(new Set(CATALOG.map((e) => e.name)).size, CATALOG.length);
  for (const e of CATALOG) {
    assert.match(e.code, /^[a-z][a-z_]*$/);
    assert.match(e.name, /^[A-Z][A-Za-z]*Error$/);
    for (const text of [e.summary, e.meaning, e.verify, ...e.causes, ...e.fix]) assert.ok(text.trim().length > 0);
    assert.ok(e.causes.length > 0 && e.fix.length > 0);
  }
});

test('version 1 has exactly the 23 codes of the contract, in order', () => {
  assert.deepEqual(
    CATALOG.map((e) => [e.code, e.name, e.category, e.retryable]),
    [
      ['rate_limit_exceeded', 'RateLimitError', 'rate_limit', true],
      ['insufficient_quota', 'QuotaExceededError', 'quota', false],
      ['request_too_large', 'RequestTooLargeError', 'invalid_request', false],
      ['context_length_exceeded', 'ContextLengthExceededError', 'invalid_request', false],
      ['invalid_request', 'BadRequestError', 'invalid_request', false],
      ['invalid_image', 'InvalidImageError', 'invalid_request', false],
      ['content_policy_violation', 'ContentPolicyError', 'content_policy', false],
      ['content_filtered', 'ContentFilteredError', 'content_policy', false],
      ['max_output_tokens', 'MaxOutputTokensError', 'incomplete', false],
      ['incomplete', 'IncompleteResponseError', 'incomplete', false],
      ['authentication_error', 'AuthenticationError', 'auth', false],
      ['permission_denied', 'PermissionDeniedError', 'permission', false],
      ['model_not_found', 'ModelNotFoundError', 'not_found', false],
      ['not_found', 'NotFoundError', 'not_found', false],
      ['conflict', 'ConflictError', 'conflict', true],
      ['server_error', 'InternalServerError', 'server', true],
      ['overloaded', 'OverloadedError', 'server', true],
      ['timeout', 'TimeoutError', 'timeout', true],
      ['connection_error', 'ConnectionError', 'connection', true],
      ['aborted', 'UserAbortError', 'aborted', false],
      ['cancelled', 'CancelledError', 'cancelled', false],
      ['expired', 'ExpiredError', 'timeout', false], // not retried: the same call cannot succeed (see the catalog row)
      ['unknown', 'UnknownFailureError', 'unknown', false],
    ],
  );
});
