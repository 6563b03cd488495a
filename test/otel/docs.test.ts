/**
 * docs/otel.md is generated (scripts/gen-otel.ts) and matches the catalog: its `error.type` list is
 * exactly the catalog's codes, each once, and every attribute and metric faultline/otel records is
 * described there.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FAILURE_CODES } from '../../src/core/catalog.ts';
import { ATTR, ERROR_TYPES, METRIC } from '../../src/otel/index.ts';
import { renderOtelMarkdown } from '../../scripts/gen-otel.ts';

const doc = readFileSync(new URL('../../docs/otel.md', import.meta.url), 'utf8');

test('docs/otel.md is up to date (npm run docs)', () => {
  assert.equal(doc, renderOtelMarkdown());
});

test('the published error.type values are exactly the catalog codes, each listed once', () => {
  assert.deepEqual([...ERROR_TYPES], [...FAILURE_CODES]);
  const section = doc.slice(doc.indexOf('## `error.type` values'));
  const listed = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(listed, [...FAILURE_CODES]);
});

test('every attribute and metric recorded is in the doc', () => {
  for (const name of [...Object.values(ATTR), ...Object.values(METRIC)]) assert.ok(doc.includes(`| \`${name}\` |`), `${name} is not documented`);
});
