import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Every module reachable from `entry` by static value imports (type-only imports are erased). */
function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^'"]*?from\s+'([^']+)'/gm)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(join(dirname(file), spec));
      else seen.add(spec);
    }
  };
  visit(entry);
  return seen;
}

test('the background barrel (re-exported by the root) never loads node:sqlite, the journal or a server', () => {
  const mods = [...closure(join(src, 'background/index.ts'))];
  assert.deepEqual(mods.filter((m) => m.startsWith('node:') || !m.startsWith('/')), []);
  assert.deepEqual(mods.filter((m) => m.includes('/journal/') || m.includes('/mock/') || m.includes('/webhooks/')), []);
});

test('the journal subpath is where node:sqlite lives', () => {
  assert.ok(closure(join(src, 'journal/index.ts')).has('node:sqlite'));
});
