/**
 * The mock's layout: the fetch-shaped core (everything createMock loads) runs on Web APIs alone, and the
 * mock imports only mock/ and internal/, never the client code it tests (core/, retry/, background/,
 * webhooks/), type imports included. Only the node adapter and the CLI may import node: modules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const mockDir = join(src, 'mock');

/** Every import or re-export specifier of a file (type-only ones too), comments left out. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return [...text.matchAll(/^(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm), ...text.matchAll(/import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!);
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
}

test('the mock imports only mock/ and internal/, and node: only in node.ts and cli.ts', () => {
  const bad: string[] = [];
  for (const file of files(mockDir)) {
    const rel = relative(src, file);
    for (const spec of specifiers(file)) {
      if (spec.startsWith('node:')) {
        if (rel !== 'mock/node.ts' && rel !== 'mock/cli.ts') bad.push(`${rel} → ${spec}`);
      } else if (spec.startsWith('.')) {
        const target = relative(src, resolve(dirname(file), spec));
        if (!target.startsWith('mock/') && !target.startsWith('internal/')) bad.push(`${rel} → ${target}`);
      } else bad.push(`${rel} → ${spec} (a package)`);
    }
  }
  assert.deepEqual(bad, []);
});

test('createMock loads no node: module (the handler and everything it reaches)', () => {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of specifiers(file)) {
      assert.ok(!spec.startsWith('node:'), `${relative(src, file)} imports ${spec}`);
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
    }
  };
  visit(join(mockDir, 'handler.ts'));
  assert.ok(seen.size > 10, 'the walk reached the resources');
  assert.ok(![...seen].some((f) => f.endsWith('node.ts') || f.endsWith('cli.ts')));
});
