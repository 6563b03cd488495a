/**
 * Generates docs/options.md from the JSDoc on the public option interfaces, using the TypeScript
 * compiler's own reading of the sources (inherited options included). `--check` exits 1 when stale.
 * test/options-docs.test.ts fails when the file drifts or an option lacks a description or a default.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Every documented options interface: [heading, file, interface, where it is used]. */
export const OPTION_TYPES: ReadonlyArray<readonly [string, string, string, string]> = [
  ['classify / detectFailure', 'src/core/classify/index.ts', 'ClassifyOptions', '`classify(input, options)` — `faultline`'],
  ['assertSucceeded', 'src/core/errors.ts', 'AssertOptions', '`assertSucceeded(value, options)` — `faultline`'],
  ['waitForResponse / createAndWait', 'src/background/options.ts', 'WaitOptions', '`waitForResponse(client, id, options)`, `createAndWait(client, params, options)` — `faultline`'],
  ['waitForBatch', 'src/background/batch.ts', 'BatchWaitOptions', '`waitForBatch(client, id, options)` — `faultline`'],
  ['Journal', 'src/journal/journal.ts', 'JournalOptions', '`openJournal(path, options)`, `new Journal(options)` — `faultline/journal`'],
  ['Journal.resumeAll', 'src/journal/journal.ts', 'ResumeOptions', '`journal.resumeAll(client, options)` — `faultline/journal`'],
  ['createWebhookHandler', 'src/webhooks/handler.ts', 'WebhookHandlerOptions', '`createWebhookHandler(options)` — `faultline/webhooks`'],
  ['createFetch', 'src/retry/fetch.ts', 'CreateFetchOptions', '`createFetch(options)` — `faultline`'],
  ['createFetch limits', 'src/retry/fetch.ts', 'PacingLimits', '`createFetch({ limits })` — `faultline`'],
  ['retry', 'src/retry/retry.ts', 'RetryOptions', '`retry(fn, options)` — `faultline`'],
  ['RateLimiter', 'src/retry/limiter.ts', 'RateLimiterOptions', '`new RateLimiter(options)` — `faultline`'],
  ['exponentialBackoff', 'src/retry/backoff.ts', 'ExponentialBackoffOptions', '`exponentialBackoff(options)` — `faultline`'],
  ['createMock', 'src/mock/types.ts', 'MockOptions', '`createMock(options)` — `faultline/mock`'],
  ['createMock rateLimit', 'src/mock/types.ts', 'MockRateLimitOptions', '`createMock({ rateLimit })` — `faultline/mock`'],
  ['createMock webhooks', 'src/mock/types.ts', 'MockWebhookOptions', '`createMock({ webhooks })` — `faultline/mock`'],
  ['listen', 'src/mock/node.ts', 'ListenOptions', '`listen(options)` — `faultline/mock`'],
  ['instrument', 'src/otel/instrument.ts', 'InstrumentOptions', '`instrument(options)` — `faultline/otel`'],
];

export interface OptionDoc {
  readonly name: string;
  readonly type: string;
  readonly optional: boolean;
  readonly description: string;
  readonly defaultText: string | undefined;
}

/** Reads the documented options of every interface in {@link OPTION_TYPES}. */
export function readOptionDocs(): Map<string, OptionDoc[]> {
  return readInterfaceDocs(OPTION_TYPES.map(([, file, name]) => [file, name] as const));
}

/**
 * Reads the documented properties of each `[file, interface]` (paths from the repository root), as the
 * TypeScript compiler sees them: inherited properties included, types printed in full.
 */
export function readInterfaceDocs(interfaces: ReadonlyArray<readonly [string, string]>): Map<string, OptionDoc[]> {
  const files = [...new Set(interfaces.map(([f]) => join(root, f)))];
  const program = ts.createProgram(files, {
    strict: true,
    exactOptionalPropertyTypes: true,
    allowImportingTsExtensions: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    types: ['node'],
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const out = new Map<string, OptionDoc[]>();
  for (const [file, name] of interfaces) {
    const sf = program.getSourceFile(join(root, file));
    if (!sf) throw new Error(`cannot read ${file}`);
    const decl = sf.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name);
    if (!decl) throw new Error(`${file} has no interface ${name}`);
    const type = checker.getTypeAtLocation(decl);
    const docs: OptionDoc[] = [];
    for (const prop of checker.getPropertiesOfType(type)) {
      const d = prop.valueDeclaration ?? prop.declarations?.[0];
      const propType = d ? checker.getTypeOfSymbolAtLocation(prop, d) : checker.getDeclaredTypeOfSymbol(prop);
      let typeText = checker.typeToString(propType, undefined, ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType);
      typeText = typeText.replace(/ \| undefined$/, '').replace(/FaultlineError<[^>]*>/g, 'FaultlineError');
      const description = ts
        .displayPartsToString(prop.getDocumentationComment(checker))
        .replace(/\{@link\s+([^}\s]+)\s*\}/g, '`$1`')
        .replace(/\s+/g, ' ')
        .trim();
      const tag = prop.getJsDocTags(checker).find((t) => t.name === 'default');
      const defaultText = tag ? ts.displayPartsToString(tag.text).replace(/\s+/g, ' ').trim() : undefined;
      docs.push({ name: prop.getName(), type: typeText, optional: (prop.flags & ts.SymbolFlags.Optional) !== 0, description, defaultText });
    }
    out.set(name, docs);
  }
  return out;
}

export const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A markdown table of documented fields: name, type, default (or required) and description. */
export function fieldTable(docs: readonly OptionDoc[], first = 'option'): string[] {
  const rows = [`| ${first} | type | default | description |`, '|---|---|---|---|'];
  for (const d of docs) {
    const def = d.defaultText ?? (d.optional ? '—' : '**required**');
    rows.push(`| \`${d.name}\` | \`${cell(d.type)}\` | ${cell(def)} | ${cell(d.description)} |`);
  }
  return rows;
}

/** Writes a generated file when it changed; with `--check` on the command line, sets exit code 1 if stale. */
export function writeGenerated(path: string, content: string): void {
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    // missing
  }
  if (process.argv.includes('--check')) process.exitCode = current === content ? 0 : 1;
  else if (current !== content) {
    writeFileSync(path, content);
    process.stdout.write(`wrote ${path}\n`);
  }
}

/** docs/options.md */
export function renderOptionsMarkdown(docs = readOptionDocs()): string {
  const out = [
    '# Options',
    '',
    '<!-- Generated from the JSDoc in src/ by `npm run docs`. Do not edit by hand: test/options-docs.test.ts fails when this file drifts. -->',
    '',
    'Every public option, its type, its default and what it does. Times are in milliseconds unless the name says otherwise. Bad values throw a `TypeError` or `RangeError` naming the option.',
    '',
  ];
  for (const [heading, , name, where] of OPTION_TYPES) {
    out.push(`## ${heading}`, '', `\`${name}\` — ${where}`, '', ...fieldTable(docs.get(name) ?? []), '');
  }
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) writeGenerated(join(root, 'docs', 'options.md'), renderOptionsMarkdown());
