/**
 * docs/coverage.md and the coverage summaries in README.md and docs/codes.md are exactly what the real
 * payloads generate (scripts/gen-coverage.ts; `npm run docs` refreshes them), and the table counts what
 * the payload tables hold.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { COVERAGE_END, COVERAGE_START, renderCoverage, renderCoverageSummary } from '../scripts/gen-coverage.ts';
import { PAYLOADS } from './fixtures/payloads.ts';
import { REAL_PAYLOADS } from './fixtures/real/index.ts';

const read = (p: string) => readFileSync(new URL(`../${p}`, import.meta.url), 'utf8');

function block(text: string): string {
  const a = text.indexOf(COVERAGE_START);
  const b = text.indexOf(COVERAGE_END);
  assert.ok(a >= 0 && b > a, 'coverage markers');
  return text.slice(a + COVERAGE_START.length, b).trim();
}

test('docs/coverage.md is exactly what the real payloads generate (run `npm run docs` to refresh)', () => {
  assert.equal(read('docs/coverage.md'), renderCoverage());
});

test('README.md and docs/codes.md carry the generated summary', () => {
  assert.equal(block(read('README.md')), renderCoverageSummary('docs/coverage.md'));
  assert.equal(block(read('docs/codes.md')), renderCoverageSummary('coverage.md'));
});

test('the table counts every payload once', () => {
  const total = PAYLOADS.length + REAL_PAYLOADS.length;
  const md = renderCoverage();
  const totals = md
    .split('\n')
    .filter((l) => l.startsWith('| [`') || l.startsWith('| no failure'))
    .map((l) => Number(l.split('|').at(-2)!.trim()));
  assert.equal(totals.reduce((a, b) => a + b, 0), total);
  assert.match(renderCoverageSummary('x'), new RegExp(`^${total} real payloads`));
});
