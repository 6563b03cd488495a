import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ALL_PRESETS } from '../src/mock/presets.ts';
import { readScenarioDocs, renderScenarioMarkdown, SCENARIO_TYPES } from '../scripts/gen-scenario.ts';

const docs = readScenarioDocs();

test('docs/scenario.md is exactly what the scenario types generate (run `npm run docs` to refresh)', () => {
  assert.equal(readFileSync(new URL('../docs/scenario.md', import.meta.url), 'utf8'), renderScenarioMarkdown(docs));
});

test('every scenario field has a sentence of JSDoc', () => {
  for (const [, name] of SCENARIO_TYPES) {
    const fields = docs.get(name) ?? [];
    assert.ok(fields.length > 0, `${name} has fields`);
    for (const f of fields) {
      if (f.name === 'type') continue; // the discriminant: its heading says it
      assert.ok(f.description.length >= 10, `${name}.${f.name} (src/mock/scenario.ts) needs a sentence of JSDoc`);
    }
  }
});

test('the reference lists every preset and every fault type', () => {
  const md = renderScenarioMarkdown(docs);
  for (const name of Object.keys(ALL_PRESETS)) assert.ok(md.includes(`| \`${name}\` |`), name);
  for (const type of ['http', 'delay', 'reset', 'stream', 'outcome', 'strip_headers', 'expire', 'batch']) assert.ok(md.includes(`## fault: ${type}`), type);
});
