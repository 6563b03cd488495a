/**
 * The public API reports: `api/<entry>.api.md` for every export of package.json (`.` is
 * `api/faultline.api.md`, `./mock` is `api/mock.api.md`…), written by API Extractor from the built
 * declarations in dist/ (run `npm run build` first; `npm run api` does both).
 *
 *   node scripts/api.ts           rewrite every report (what `npm run api` runs after the build)
 *   node scripts/api.ts --check   write nothing; exit 1 when a committed report differs from the code
 *
 * Either way it prints one JSON line, `{ entries: [{ entry, report, changed, warnings }] }`, where each
 * warning is `<message id> <entry> <symbol or text>` (for example
 * `ae-forgotten-export . CallOptions`): the package test compares them with its list of known ones.
 * The entries come from package.json, so a new subpath needs no config here, only its report.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompilerState, Extractor, ExtractorConfig, ExtractorLogLevel, type ExtractorMessage, type IConfigFile } from '@microsoft/api-extractor';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Exports {
  readonly exports: Record<string, string | { readonly types?: string; readonly default: string }>;
}

/** `.` → `faultline`, `./mock` → `mock`. */
export function reportName(subpath: string): string {
  return subpath === '.' ? 'faultline' : subpath.replace(/^\.\//, '').replaceAll('/', '-');
}

/**
 * The findings a report holds, as `<kind> <entry> <symbol>`: every `ae-…` warning API Extractor wrote
 * into it (`ae-forgotten-export . CallOptions`: a type in a public signature that the entry does not
 * export), and every `@internal` declaration reachable from the entry (`internal . Grant.probe`).
 */
export function findingsOf(report: string, entry: string): string[] {
  const out = new Set<string>();
  for (const m of report.matchAll(/\((ae-[a-z-]+)\) (?:The symbol "([^"]+)")?(.*)/g)) out.add(`${m[1]} ${entry} ${m[2] ?? m[3]!.trim()}`);
  let owner = '';
  const lines = report.split('\n');
  lines.forEach((line, i) => {
    const top = /^export (?:declare )?(?:abstract )?(?:class|interface|type|function|const|let|enum|namespace) (\w+)/.exec(line);
    if (top) owner = top[1]!;
    if (!/^\s*\/\/ @internal\b/.test(line)) return;
    const next = lines.slice(i + 1).find((l) => !/^\s*\/\//.test(l)) ?? '';
    const member = /^\s+(?:(?:readonly|static|get|set|protected|abstract) )*\[?([\w.]+)/.exec(next)?.[1];
    const declared = /^export (?:declare )?(?:abstract )?(?:class|interface|type|function|const|let|enum|namespace) (\w+)/.exec(next)?.[1];
    out.add(`internal ${entry} ${declared ?? `${owner}.${member ?? '?'}`}`);
  });
  return [...out].sort();
}

function main(check: boolean): void {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Exports;
  const configPath = join(root, 'api', 'api-extractor.json');
  const base = ExtractorConfig.loadFile(configPath);
  const results: { entry: string; report: string; changed: boolean; warnings: string[] }[] = [];
  let failed = false;

  const entries = Object.entries(pkg.exports)
    .filter(([subpath]) => subpath !== './package.json')
    .map(([subpath, target]) => {
      const types = typeof target === 'string' ? target.replace(/\.js$/, '.d.ts') : (target.types ?? target.default.replace(/\.js$/, '.d.ts'));
      if (!existsSync(join(root, types))) throw new Error(`api: ${types} is missing; run npm run build first (npm run api does)`);
      const name = reportName(subpath);
      const configObject: IConfigFile = {
        ...base,
        mainEntryPointFilePath: join(root, types),
        apiReport: { ...base.apiReport, enabled: true, reportFileName: name },
      };
      const config = ExtractorConfig.prepare({ configObject, configObjectFullPath: configPath, packageJsonFullPath: join(root, 'package.json') });
      return { subpath, name, config };
    });
  // One TypeScript program for every entry (they share the declarations), not one per entry.
  const compilerState = CompilerState.create(entries[0]!.config, { additionalEntryPoints: entries.map((e) => e.config.mainEntryPointFilePath) });

  for (const { subpath, name, config } of entries) {
    const errors: string[] = [];
    const result = Extractor.invoke(config, {
      compilerState,
      localBuild: !check,
      messageCallback(message: ExtractorMessage) {
        if (message.logLevel === ExtractorLogLevel.Error) errors.push(`${message.messageId}: ${message.text}`);
        // Warnings are written into the report (read back below); the report-changed notice and the
        // progress lines are said by the JSON line instead.
        message.handled = true;
      },
    });
    const warnings = findingsOf(readFileSync(join(root, 'dist', '.api', `${name}.api.md`), 'utf8'), subpath);
    if (errors.length > 0) {
      process.stderr.write(`api: ${subpath}:\n  ${errors.join('\n  ')}\n`);
      failed = true;
    }
    if (check && result.apiReportChanged) {
      process.stderr.write(`api: api/${name}.api.md differs from the code (the new one is dist/.api/${name}.api.md); run npm run api and review the diff\n`);
      failed = true;
    }
    results.push({ entry: subpath, report: `api/${name}.api.md`, changed: result.apiReportChanged, warnings });
  }

  process.stdout.write(`${JSON.stringify({ entries: results })}\n`);
  if (failed) process.exitCode = 1;
}

if (import.meta.main) main(process.argv.includes('--check'));
