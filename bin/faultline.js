#!/usr/bin/env node
// The `faultline` command. The published package runs the built CLI (dist/). In a clone of the
// repository (`npx faultline …` right after `npm ci`, where nothing is built) it runs the sources,
// which a Node that strips TypeScript types (22.18+, 24) loads directly; `npm ci` links this file
// through the package's own `file:.` devDependency.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/cli/main.js', import.meta.url);
const entry = existsSync(source) && process.features.typescript ? source : built;
if (!existsSync(entry)) {
  process.stderr.write(`faultline: ${existsSync(source) ? `this Node (${process.version}) cannot run the sources; run \`npm run build\` first, or use Node 24` : 'the package is not built (dist/ is missing)'}\n`);
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
