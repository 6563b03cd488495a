/**
 * Text renderings of the catalog, shared by the CLI (`explain`, `codes`) and the generated docs
 * (`docs/codes.md`, the README table), so every place that lists codes is derived from one table.
 */
import { CATALOG, getEntry, type CatalogEntry } from '../catalog.ts';
import type { Failure } from '../failure.ts';

/** The README's code table (markdown). */
export function renderCodesTable(): string {
  const rows = CATALOG.map((e) => `| [\`${e.code}\`](docs/codes.md#${e.code}) | \`${e.name}\` | ${e.category} | ${e.retryable ? 'yes' : 'no'} | ${e.summary} |`);
  return ['| code | error class | category | retry? | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** `docs/codes.md`: one troubleshooting section per code. */
export function renderCodesMarkdown(): string {
  const out: string[] = [
    '# Failure codes',
    '',
    '<!-- Generated from src/catalog.ts by `npm run docs`. Do not edit by hand: test/docs.test.ts fails when this file differs from the catalog. -->',
    '',
    'Every failure faultline sees gets exactly one of these codes. The codes are a public contract: renaming or removing one is a breaking change.',
    '',
    '`retry` is the default answer to "can trying again succeed?". For a terminal background Response it means "a new `create` is worth trying", never "poll the same id again".',
    '',
    ...CATALOG.map((e) => `- [\`${e.code}\`](#${e.code}) — \`${e.name}\`: ${e.summary}`),
    '',
  ];
  for (const e of CATALOG) {
    out.push(`## ${e.code}`, '', `**Class:** \`${e.name}\` · **Category:** \`${e.category}\` · **Retry:** ${e.retryable ? 'yes' : 'no'}`, '');
    out.push('### What it means', '', e.meaning, '');
    out.push('### Common causes', '', ...e.causes.map((c) => `- ${c}`), '');
    out.push('### How to fix it', '', ...e.fix.map((c) => `- ${c}`), '');
    out.push('### How to know the fix worked', '', e.verify, '');
  }
  return out.join('\n');
}

// Terminal escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL|ESC \\`, and two-byte `ESC x`) and
// any other C0/C1 control character but tab and newline. Text from the input (a pasted message, a wire
// code) is printed to a terminal: it must not move the cursor, recolour the screen or set the title.
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-_]?|\u009b[0-?]*[ -/]*[@-~]/g;
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** `text` without terminal escape sequences; other control characters (but tab and newline) become `�`. */
export function clean(text: string): string {
  return text.replace(ESCAPES, '').replace(CONTROLS, '\ufffd');
}

function wrap(text: string, width: number, indent: string): string {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line.length > 0 && line.length + 1 + w.length > width) {
      lines.push(indent + line);
      line = w;
    } else line = line.length > 0 ? `${line} ${w}` : w;
  }
  if (line.length > 0) lines.push(indent + line);
  return lines.join('\n');
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
}

/** The human explanation printed by `faultline explain`. */
export function renderExplanation(failure: Failure): string {
  const e = getEntry(failure.code) as CatalogEntry;
  const lines: string[] = [];
  lines.push(`${e.code}  ·  ${e.name}  ·  category ${e.category}`);
  const retry = failure.retryable
    ? `yes${failure.retryAfterMs !== undefined ? `, after ${formatMs(failure.retryAfterMs)} (server hint)` : ', with exponential backoff and jitter'}`
    : 'no — retrying cannot succeed';
  lines.push(`Retry: ${retry}`);
  const facts: string[] = [];
  if (failure.status !== undefined) facts.push(`status ${failure.status}`);
  if (failure.wireCode !== undefined) facts.push(`wire code ${failure.wireCode}`);
  if (failure.wireType !== undefined) facts.push(`wire type ${failure.wireType}`);
  if (failure.param !== undefined) facts.push(`param ${failure.param}`);
  if (failure.requestId !== undefined) facts.push(`request id ${failure.requestId}`);
  if (failure.transportCode !== undefined) facts.push(`transport ${failure.transportCode}`);
  if (failure.source !== 'message') facts.push(`source ${failure.source}`);
  if (facts.length > 0) lines.push(`Seen: ${facts.join(' · ')}`);
  if (failure.message !== e.summary) lines.push(`Message: ${failure.message}`);
  lines.push('', 'What it means', wrap(e.meaning, 96, '  '));
  lines.push('', 'Common causes', ...e.causes.map((c) => wrap(`- ${c}`, 96, '  ')));
  lines.push('', 'How to fix it', ...e.fix.map((c) => wrap(`- ${c}`, 96, '  ')));
  lines.push('', 'How to know the fix worked', wrap(e.verify, 96, '  '), '');
  // The message, wire values and request id come from the input: never echo a terminal escape.
  return clean(lines.join('\n'));
}

/** The table printed by `faultline codes`. */
export function renderCodesText(): string {
  const w = Math.max(...CATALOG.map((e) => e.code.length));
  const n = Math.max(...CATALOG.map((e) => e.name.length));
  const c = Math.max(...CATALOG.map((e) => e.category.length));
  const head = `${'code'.padEnd(w)}  ${'class'.padEnd(n)}  ${'category'.padEnd(c)}  retry`;
  return [head, ...CATALOG.map((e) => `${e.code.padEnd(w)}  ${e.name.padEnd(n)}  ${e.category.padEnd(c)}  ${e.retryable ? 'yes' : 'no'}`), ''].join('\n');
}
