/**
 * The naming conventions of CONTRIBUTING.md, checked by a machine over every options type that an entry
 * of package.json exports (an exported interface or type named `…Options` or `…Input`, and the object
 * types nested in it), read with the TypeScript compiler from the sources:
 *
 * - `ms`: a number whose doc gives a unit of time (ms, milliseconds, seconds, minutes) ends in `Ms`
 *   (a moment, "epoch milliseconds", is not a length; `rpm`/`tpm` are rates);
 * - `on`: a key named `on…` is a function, and a function that only notifies (returns `void`) is `on…`;
 * - `policy`: no boolean whose doc says "throw" (a policy is `'throw' | 'return'`), and a union of
 *   string literals with `'throw'` in it is exactly `'throw' | 'return'`;
 * - `jitter`: `jitter` is a number in [0, 1];
 * - `clock`: no `sleep` option and no `now` function (time is one `clock`; `now: number` is fine).
 *
 * Plus the shape of the root entry: one exported name per line, sorted, so parallel changes merge.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Names being renamed on other branches (`<rule> <Type>.<key>`), each with its owner. A line that no
 * longer matches a finding fails: delete it with the rename, so this list only shrinks.
 */
const KNOWN: readonly string[] = [
  // The openai SDK's own per-request options (RequestOptions), passed through to the client as they are:
  // their names are the SDK's, not ours to change.
  'ms CallOptions.timeout',
];

// ---------------------------------------------------------------------------------------------------

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | { default: string }> };
/** `./dist/mock/index.js` → `src/mock/index.ts`. */
const entries = Object.entries(pkg.exports)
  .filter(([k]) => k !== './package.json')
  .map(([, t]) => join(root, (typeof t === 'string' ? t : t.default).replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')));

const program = ts.createProgram(entries, {
  target: ts.ScriptTarget.ES2023,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  allowImportingTsExtensions: true,
  noEmit: true,
  strict: true,
  exactOptionalPropertyTypes: true,
  skipLibCheck: true,
  types: ['node'],
});
const checker = program.getTypeChecker();

/** One key of an options type: where it is declared, its doc and its type. */
interface Key {
  readonly owner: string;
  readonly path: string;
  readonly doc: string;
  readonly type: ts.Type;
}

function docOf(symbol: ts.Symbol): string {
  const text = ts.displayPartsToString(symbol.getDocumentationComment(checker));
  const tags = symbol.getJsDocTags(checker).map((t) => `@${t.name} ${ts.displayPartsToString(t.text)}`);
  return [text, ...tags].join('\n');
}

/** The interface or type alias that declares `symbol` (so an inherited key is reported once, where it lives). */
function ownerOf(symbol: ts.Symbol, fallback: string): string {
  for (let node: ts.Node | undefined = symbol.declarations?.[0]; node !== undefined; node = node.parent) {
    if ((ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) && node.name !== undefined) return node.name.text;
  }
  return fallback;
}

const isObjectLiteralType = (t: ts.Type): boolean =>
  (t.flags & ts.TypeFlags.Object) !== 0 && t.getCallSignatures().length === 0 && t.getConstructSignatures().length === 0 && (t.symbol?.flags & ts.SymbolFlags.TypeLiteral) !== 0;

/** Every key of every exported options type, nested object types included. */
function optionKeys(): Key[] {
  const out = new Map<string, Key>();
  const visit = (type: ts.Type, name: string, prefix: string, depth: number): void => {
    for (const symbol of checker.getPropertiesOfType(type)) {
      const decl = symbol.valueDeclaration ?? symbol.declarations?.[0];
      if (decl === undefined) continue;
      const owner = prefix === '' ? ownerOf(symbol, name) : name;
      const path = `${prefix}${symbol.name}`;
      const t = checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(symbol, decl));
      out.set(`${owner}.${path}`, { owner, path, doc: docOf(symbol), type: t });
      if (depth < 3 && isObjectLiteralType(t)) visit(t, owner, `${path}.`, depth + 1);
    }
  };
  for (const file of entries) {
    const sf = program.getSourceFile(file);
    assert.ok(sf, `the program has ${file}`);
    const moduleSymbol = checker.getSymbolAtLocation(sf);
    assert.ok(moduleSymbol, `${file} is a module`);
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      if (symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias)) {
        if (/(Options|Input)$/.test(exported.name)) visit(checker.getDeclaredTypeOfSymbol(symbol), exported.name, '', 0);
        continue;
      }
      // The options a function or a constructor takes, named or not, exported or not (a type that is
      // not exported is the API report's finding; its keys are still this test's).
      const decl = symbol.valueDeclaration;
      if (decl === undefined || (symbol.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class)) === 0) continue;
      const type = checker.getTypeOfSymbolAtLocation(symbol, decl);
      for (const signature of [...type.getCallSignatures(), ...type.getConstructSignatures()]) {
        for (const parameter of signature.getParameters()) {
          const t = checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(parameter, decl));
          const named = t.aliasSymbol?.name ?? t.symbol?.name ?? '';
          if (/(Options|Input)$/.test(named)) visit(t, named, '', 0);
          else if (isObjectLiteralType(t)) visit(t, `${exported.name}(${parameter.name})`, '', 0);
        }
      }
    }
  }
  return [...out.values()];
}

const isNumber = (t: ts.Type): boolean => (t.flags & ts.TypeFlags.NumberLike) !== 0 || (t.isUnion() && t.types.every((u) => (u.flags & ts.TypeFlags.NumberLike) !== 0));
const isFunction = (t: ts.Type): boolean => (t.isUnion() ? t.types.every(isFunction) : t.getCallSignatures().length > 0);
/** A notification: every call signature returns `void`. */
const returnsVoid = (t: ts.Type): boolean =>
  (t.isUnion() ? t.types : [t]).every((u) => u.getCallSignatures().every((sig) => (sig.getReturnType().flags & ts.TypeFlags.Void) !== 0));
const isBoolean = (t: ts.Type): boolean => (t.flags & ts.TypeFlags.BooleanLike) !== 0 || (t.isUnion() && t.types.every((u) => (u.flags & ts.TypeFlags.BooleanLike) !== 0));
const stringLiterals = (t: ts.Type): string[] => (t.isUnion() ? t.types : [t]).filter((u) => u.isStringLiteral()).map((u) => (u as ts.StringLiteralType).value);

/** What each rule says about one key: the rule's name when it is broken, else nothing. */
function breaks(key: { readonly path: string; readonly doc: string; readonly type: ts.Type }): string[] {
  const name = key.path.slice(key.path.lastIndexOf('.') + 1);
  const out: string[] = [];
  // A unit of a length of time ("in milliseconds", "ms", "seconds"), not a rate ("per minute") or a
  // moment ("epoch milliseconds") or an ordinal ("a second time").
  const speaksOfTime = /\b(milliseconds|seconds|minutes|ms)\b/i.test(key.doc) && !/\bepoch\b/i.test(key.doc);
  if (isNumber(key.type) && speaksOfTime && !/Ms$/.test(name) && name !== 'rpm' && name !== 'tpm') out.push('ms');
  if (/^(timeout|\w+Seconds|\w+Minutes)$/.test(name)) out.push('ms');
  if (/^on[A-Z]/.test(name) && !isFunction(key.type)) out.push('on');
  if (!/^on[A-Z]/.test(name) && isFunction(key.type) && returnsVoid(key.type)) out.push('on');
  if (isBoolean(key.type) && /\bthrow/i.test(`${name} ${key.doc}`)) out.push('policy');
  const literals = stringLiterals(key.type);
  if (literals.includes('throw') && (literals.length !== 2 || !literals.includes('return'))) out.push('policy');
  if (name === 'jitter' && !isNumber(key.type)) out.push('jitter');
  if (name === 'sleep' || (name === 'now' && isFunction(key.type))) out.push('clock');
  return [...new Set(out)];
}

test('every exported options type follows the naming conventions (only the listed renames remain)', () => {
  const keys = optionKeys();
  assert.ok(keys.length > 100, `read the options (${keys.length} keys)`);
  assert.ok(keys.some((k) => k.path.includes('.')), 'nested object types are read');
  assert.ok(keys.some((k) => k.owner === 'WaitOptions' && k.path === 'timeoutMs'), 'named options types are read');
  const found = keys.flatMap((k) => breaks(k).map((rule) => `${rule} ${k.owner}.${k.path}`)).sort();
  assert.deepEqual(found.filter((f) => !KNOWN.includes(f)), [], 'keys that break CONTRIBUTING.md\'s conventions');
  assert.deepEqual(KNOWN.filter((k) => !found.includes(k)), [], 'renamed: delete these lines from KNOWN');
});

test('the rules can fail: a planted key of each kind is found', () => {
  const probe = (source: string): Key[] => {
    const host = ts.createCompilerHost({ strict: true, noEmit: true });
    const original = host.getSourceFile.bind(host);
    host.getSourceFile = (f, v, onError, create) => (f === '/probe.ts' ? ts.createSourceFile(f, source, v) : original(f, v, onError, create));
    const p = ts.createProgram(['/probe.ts'], { strict: true, noEmit: true, target: ts.ScriptTarget.ES2023, types: [] }, host);
    const c = p.getTypeChecker();
    const file = p.getSourceFile('/probe.ts')!;
    const iface = c.getExportsOfModule(c.getSymbolAtLocation(file)!)[0]!;
    return c.getPropertiesOfType(c.getDeclaredTypeOfSymbol(iface)).map((s) => ({
      owner: 'P',
      path: s.name,
      doc: ts.displayPartsToString(s.getDocumentationComment(c)),
      type: c.getNonNullableType(c.getTypeOfSymbolAtLocation(s, s.valueDeclaration!)),
    }));
  };
  const keys = probe(`export interface P {
    /** How long to wait, in milliseconds. */ wait?: number;
    /** How long to wait, in milliseconds. */ waitMs?: number;
    /** Epoch milliseconds. */ deadline?: number;
    /** Requests per minute. */ rpm?: number;
    timeout?: number;
    onAbort?: 'detach' | 'cancel';
    onProgress?: (n: number) => void;
    notify?: (e: Error) => void;
    shouldRetry?: (e: Error) => boolean;
    /** Whether to throw on failure. */ strict?: boolean;
    errors?: 'throw' | 'response';
    failure?: 'throw' | 'return';
    jitter?: 'full' | 'none';
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
  }`);
  const got = Object.fromEntries(keys.map((k) => [k.path, breaks(k)]));
  assert.deepEqual(got, {
    wait: ['ms'], waitMs: [], deadline: [], rpm: [], timeout: ['ms'],
    onAbort: ['on'], onProgress: [], notify: ['on'], shouldRetry: [],
    strict: ['policy'], errors: ['policy'], failure: [],
    jitter: ['jitter'], now: ['clock'], sleep: ['clock'],
  });
});

test('the root entry lists one name per line, sorted, in each export block', () => {
  const text = readFileSync(join(root, 'src', 'index.ts'), 'utf8');
  const blocks = [...text.matchAll(/^export (?:type )?\{\n([\s\S]*?)^\} from '[^']+';$/gm)];
  assert.ok(blocks.length >= 10, 'the root has its export blocks');
  assert.doesNotMatch(text.replace(/\/\*[\s\S]*?\*\//g, ''), /^export (?:type )?\{[^\n]*\}/m, 'no export list on one line');
  for (const [, body] of blocks) {
    const names = body!.trim().split('\n').map((l) => l.trim());
    for (const n of names) assert.match(n, /^\w+,$/, `one name per line: ${n}`);
    const bare = names.map((n) => n.slice(0, -1));
    assert.deepEqual(bare, [...bare].sort(), 'sorted (code-point order)');
  }
});
