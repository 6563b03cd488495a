import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { OPTION_TYPES, readOptionDocs, renderOptionsMarkdown } from '../scripts/gen-options.ts';

const docs = readOptionDocs();

test('docs/options.md is exactly what the JSDoc in src/ generates (run `npm run docs` to refresh)', () => {
  assert.equal(readFileSync(new URL('../docs/options.md', import.meta.url), 'utf8'), renderOptionsMarkdown(docs));
});

test('every public option has a description', () => {
  for (const [, file, name] of OPTION_TYPES) {
    const options = docs.get(name) ?? [];
    assert.ok(options.length > 0, `${name} in ${file} has options`);
    for (const o of options) assert.ok(o.description.length >= 10, `${name}.${o.name} (${file}) needs a sentence of JSDoc`);
  }
});
