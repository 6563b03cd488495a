/**
 * The layers of ARCHITECTURE.md, enforced. The table is read from the ```boundaries block of that file
 * (one source: the doc cannot drift from the test); every `src/**` file is parsed with the TypeScript
 * compiler (`ts.preProcessFile`, so a specifier in a comment or a string does not count).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

/**
 * Violations being fixed on other branches, each with its owner. A line that no longer matches a real
 * violation fails the test: delete it in the commit that fixes it, so this list only shrinks.
 */
const KNOWN_VIOLATIONS: readonly string[] = [];

// ---------------------------------------------------------------------------------------------------
// The table

interface Row {
  readonly place: string;
  /** Imports allowed as values (and as types). */
  readonly any: readonly string[];
  /** Imports allowed only as types. */
  readonly types: readonly string[];
}

function readTable(): Map<string, Row> {
  const doc = readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8');
  const block = /```boundaries\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(block !== undefined, 'ARCHITECTURE.md has a ```boundaries block');
  const rows = new Map<string, Row>();
  for (const raw of block.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const [left = '', right = ''] = line.split('|');
    const [place, ...any] = left.trim().split(/\s+/);
    assert.ok(place !== undefined && !rows.has(place), `one row per place: ${raw}`);
    rows.set(place, { place, any, types: right.trim() === '' ? [] : right.trim().split(/\s+/) });
  }
  return rows;
}

/** Whether `target` (a path under src/, or a bare specifier) is matched by a table `pattern`. */
function matches(pattern: string, target: string): boolean {
  if (pattern === '*') return true;
  if (pattern === 'node:*') return target.startsWith('node:');
  if (pattern.endsWith('/')) return target.startsWith(pattern);
  return target === pattern;
}

/** The rows that apply to `file`: its own file row (if any) and its folder's (or root file's) row. */
function rowsOf(table: Map<string, Row>, file: string): Row[] {
  const slash = file.indexOf('/');
  const folder = slash === -1 ? file : file.slice(0, slash + 1);
  return [table.get(file), table.get(folder)].filter((r): r is Row => r !== undefined);
}

// ---------------------------------------------------------------------------------------------------
// The graph

interface Edge {
  readonly from: string;
  /** `core/errors.ts` for a relative import, else the bare specifier (`node:fs`, `ioredis`). */
  readonly to: string;
  /** Erased at run time: only `import type` / `export type` (or `import('x')` in a type) name it. */
  readonly typeOnly: boolean;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Specifiers that some statement of `sf` loads at run time (not erased). */
function valueSpecifiers(sf: ts.SourceFile): Set<string> {
  const out = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      // `import { type A } from 'x'` still loads 'x' (verbatimModuleSyntax keeps it); only `import type` is erased.
      if (node.importClause?.isTypeOnly !== true) out.add(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      if (!node.isTypeOnly) out.add(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg !== undefined && ts.isStringLiteralLike(arg)) out.add(arg.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function edgesOf(file: string): { edges: Edge[]; categoryLiterals: number } {
  const text = readFileSync(file, 'utf8');
  const from = relative(src, file);
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2023, true, ts.ScriptKind.TS);
  const values = valueSpecifiers(sf);
  const seen = new Set<string>();
  const edges: Edge[] = [];
  for (const { fileName: spec } of ts.preProcessFile(text, true, true).importedFiles) {
    const to = spec.startsWith('.') ? relative(src, resolve(dirname(file), spec)) : spec;
    const typeOnly = !values.has(spec);
    const key = `${to} ${typeOnly}`;
    if (seen.has(key)) continue;
    seen.add(key);
    edges.push({ from, to, typeOnly });
  }
  let categoryLiterals = 0;
  const visit = (node: ts.Node): void => {
    if (ts.isObjectLiteralExpression(node)) {
      for (const p of node.properties) {
        if ((ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p)) && p.name.getText(sf) === 'category') categoryLiterals++;
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { edges, categoryLiterals };
}

const files = walk(src).map((f) => relative(src, f)).sort();
const parsed = new Map(files.map((f) => [f, edgesOf(join(src, f))]));
const table = readTable();

/** Entries: the root, every layer's index.ts, and the bin. */
const isEntry = (file: string): boolean => file === 'index.ts' || /^[^/]+\/index\.ts$/.test(file) || file === 'cli/main.ts';
const isLayerIndex = (target: string): boolean => /^[^/]+\/index\.ts$/.test(target);

interface Graph {
  readonly files: readonly string[];
  readonly parsed: ReadonlyMap<string, { readonly edges: readonly Edge[]; readonly categoryLiterals: number }>;
}

/** Every violation, as a line in the format of KNOWN_VIOLATIONS. */
function violations({ files, parsed }: Graph): string[] {
  const edges = [...parsed.values()].flatMap((p) => p.edges);
  const out: string[] = [];
  for (const file of files) {
    const rows = rowsOf(table, file);
    if (rows.length === 0) out.push(`unplaced ${file}`);
    if (parsed.get(file)!.categoryLiterals > 0 && file !== 'core/catalog.ts' && file !== 'core/failure.ts') out.push(`category ${file}`);
  }
  for (const e of edges) {
    const rows = rowsOf(table, e.from);
    if (rows.length === 0) continue;
    const allowed = rows.some((r) => r.any.some((p) => matches(p, e.to)) || (e.typeOnly && r.types.some((p) => matches(p, e.to))));
    if (!allowed) out.push(`import ${e.from} -> ${e.to}${e.typeOnly ? ' (type)' : ''}`);
    if (isLayerIndex(e.to) && !isEntry(e.from) && !e.from.startsWith('cli/')) out.push(`index ${e.from} -> ${e.to}`);
  }
  for (const cycle of cycles(files, edges)) out.push(`cycle ${cycle.join(' -> ')}`);
  return [...new Set(out)].sort();
}

/**
 * Strongly connected components with more than one file (or a file importing itself), over the imports
 * that run: Tarjan. A type-only import is erased, so it cannot make a load-order problem.
 */
function cycles(files: readonly string[], edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) if (!e.typeOnly && next.has(e.to)) next.get(e.from)!.push(e.to);
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || next.get(v)!.includes(v)) found.push(scc.sort());
    }
  };
  for (const f of files) if (!index.has(f)) connect(f);
  return found;
}

/** Every module (file under src/, or bare specifier) that loading `entry` loads: type-only imports are erased. */
function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const e of parsed.get(file)?.edges ?? []) if (!e.typeOnly) visit(e.to);
  };
  visit(entry);
  return seen;
}

// ---------------------------------------------------------------------------------------------------

test('every src/ file keeps to the layers of ARCHITECTURE.md (only the listed known violations remain)', () => {
  const found = violations({ files, parsed });
  const unknown = found.filter((v) => !KNOWN_VIOLATIONS.includes(v));
  const stale = KNOWN_VIOLATIONS.filter((v) => !found.includes(v));
  assert.deepEqual(unknown, [], 'new violations of ARCHITECTURE.md');
  assert.deepEqual(stale, [], 'fixed: delete these lines from KNOWN_VIOLATIONS');
});

test('the table has a row for every top-level folder of src/, and rows only for places that exist', () => {
  const folders = new Set(files.map((f) => (f.includes('/') ? f.slice(0, f.indexOf('/') + 1) : f)));
  for (const place of table.keys()) assert.ok(folders.has(place) || files.includes(place), `row for a missing place: ${place}`);
  for (const folder of folders) assert.ok(table.has(folder), `no row for ${folder}`);
});

test('the checks can fail: a planted violation of each kind is found', () => {
  const edge = (from: string, to: string, typeOnly = false): Edge => ({ from, to, typeOnly });
  const planted: Graph = {
    files: ['core/a.ts', 'core/b.ts', 'mock/x.ts', 'retry/r.ts', 'retry/index.ts', 'webhooks/h.ts', 'plugins/o.ts'],
    parsed: new Map([
      ['core/a.ts', { edges: [edge('core/a.ts', 'core/b.ts'), edge('core/a.ts', 'node:fs')], categoryLiterals: 0 }],
      ['core/b.ts', { edges: [edge('core/b.ts', 'core/a.ts')], categoryLiterals: 1 }],
      ['mock/x.ts', { edges: [edge('mock/x.ts', 'core/a.ts', true)], categoryLiterals: 0 }],
      ['retry/r.ts', { edges: [edge('retry/r.ts', 'retry/index.ts')], categoryLiterals: 0 }],
      ['retry/index.ts', { edges: [], categoryLiterals: 0 }],
      ['webhooks/h.ts', { edges: [edge('webhooks/h.ts', 'background/types.ts', true), edge('webhooks/h.ts', 'background/wait.ts', true)], categoryLiterals: 0 }],
      ['plugins/o.ts', { edges: [], categoryLiterals: 0 }],
    ]),
  };
  assert.deepEqual(violations(planted), [
    'category core/b.ts',
    'cycle core/a.ts -> core/b.ts',
    'import core/a.ts -> node:fs',
    'import mock/x.ts -> core/a.ts (type)',
    'import webhooks/h.ts -> background/wait.ts (type)',
    'index retry/r.ts -> retry/index.ts',
    'unplaced plugins/o.ts',
  ]);

  const rows = rowsOf(table, 'core/errors.ts');
  assert.ok(!rows.some((r) => r.any.some((p) => matches(p, 'node:fs'))), 'core may not import node:');
  assert.ok(!rowsOf(table, 'mock/server.ts').some((r) => [...r.any, ...r.types].some((p) => matches(p, 'core/catalog.ts'))), 'the mock may not import the core, not even its types');
  assert.ok(rowsOf(table, 'mock/node.ts').some((r) => r.any.some((p) => matches(p, 'node:http'))), 'the node adapter may import node:http');
  assert.ok(!rowsOf(table, 'redis/budget.ts').some((r) => r.any.some((p) => matches(p, 'retry/retry.ts'))), 'redis imports retry/ values only from limiter.ts');
  assert.ok(!rowsOf(table, 'retry/retry.ts').some((r) => r.any.some((p) => matches(p, 'cli/main.ts'))), 'nothing imports the CLI');
  // The parser: a specifier in a comment or a string is not an import; `import type` is type-only.
  const probe = join(src, 'core/catalog.ts');
  const sf = ts.createSourceFile(probe, "import type { A } from './a.ts';\nimport { type B } from './b.ts';\n// import x from 'node:fs'\nconst s = \"import 'node:os'\";\nexport type { C } from './c.ts';\nawait import('ioredis');\n", ts.ScriptTarget.ES2023, true);
  assert.deepEqual([...valueSpecifiers(sf)].sort(), ['./b.ts', 'ioredis']);
  assert.deepEqual(ts.preProcessFile(sf.text, true, true).importedFiles.map((f) => f.fileName).sort(), ['./a.ts', './b.ts', './c.ts', 'ioredis']);
});

test('the background barrel (re-exported by the root) never loads node:sqlite, the journal or a server', () => {
  const mods = [...closure('background/index.ts')];
  assert.ok(mods.length > 3, 'the closure was walked');
  assert.deepEqual(mods.filter((m) => !m.endsWith('.ts')), [], 'no built-in or package');
  assert.deepEqual(mods.filter((m) => /^(journal|mock|webhooks|redis|cli)\//.test(m)), []);
});

test('the root entry loads no built-in and no package; the journal subpath is where node:sqlite lives', () => {
  assert.deepEqual([...closure('index.ts')].filter((m) => !m.endsWith('.ts')), []);
  assert.ok(closure('journal/index.ts').has('node:sqlite'));
  assert.ok(!closure('index.ts').has('journal/sqlite.ts'));
});
