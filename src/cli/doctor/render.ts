/** The doctor's two outputs: a table for people (coloured on a terminal), JSON for machines. */
import { redact } from '../../core/redact.ts';
import { clean } from '../render.ts';
import type { CheckGroup, CheckResult, CheckStatus, DoctorReport } from './types.ts';

/**
 * Whether to colour: `FORCE_COLOR` decides when set (`0` or `false`: never; anything else: always),
 * then `NO_COLOR` (any non-empty value: never, https://no-color.org), then whether the stream is a
 * terminal that is not `TERM=dumb`. The same order as Node's own `tty.hasColors()`.
 */
export function useColour(stream: { readonly isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>): boolean {
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '') return force !== '0' && force.toLowerCase() !== 'false';
  if ((env['NO_COLOR'] ?? '') !== '') return false;
  return stream.isTTY === true && env['TERM'] !== 'dumb';
}

const PAINT: Readonly<Record<CheckStatus, [string, string]>> = {
  ok: ['ok', '\u001b[32m'],
  warn: ['warn', '\u001b[33m'],
  fail: ['FAIL', '\u001b[1;31m'],
  skip: ['skip', '\u001b[2m'],
};
const RESET = '\u001b[0m';
const DIM = '\u001b[2m';

const GROUPS: readonly [CheckGroup, string][] = [
  ['environment', 'Environment'],
  ['credentials', 'Credentials'],
  ['reachability', 'Reachability'],
  ['access', 'Access'],
  ['journal', 'Journal'],
];

/** The table. Every text from the outside world is cleaned of terminal escapes before colour is added. */
export function renderTable(report: DoctorReport, colour: boolean): string {
  const paint = (code: string, text: string): string => (colour ? `${code}${text}${RESET}` : text);
  const width = Math.max(...report.checks.map((c) => c.title.length), 5);
  const lines: string[] = [`faultline doctor (faultline ${report.faultline})`];
  for (const [group, heading] of GROUPS) {
    const checks = report.checks.filter((c) => c.group === group);
    if (checks.length === 0) continue;
    lines.push('', heading);
    for (const c of checks) {
      const [word, code] = PAINT[c.status];
      lines.push(`  ${paint(code, word.padEnd(4))}  ${clean(c.title).padEnd(width)}  ${clean(c.summary)}`);
      const indent = ' '.repeat(10 + width);
      if (c.code !== undefined) lines.push(`${indent}${paint(code, c.code)}: ${clean(c.fix ?? '')}  ${paint(DIM, `(faultline explain ${c.code})`)}`);
      else if (c.fix !== undefined) lines.push(`${indent}fix: ${clean(c.fix)}`);
    }
  }
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  const warned = report.checks.filter((c) => c.status === 'warn').length;
  lines.push('');
  if (report.ok) lines.push(paint(PAINT.ok[1], `All checks passed${warned > 0 ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}.`) + ` Exit ${report.exitCode}.`);
  else lines.push(paint(PAINT.fail[1], `${failed} check${failed === 1 ? '' : 's'} failed`) + `${warned > 0 ? `, ${warned} warning${warned === 1 ? '' : 's'}` : ''}; first problem: ${report.problem}. Exit ${report.exitCode}.`);
  return `${lines.join('\n')}\n`;
}

export function renderJson(report: DoctorReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** Public prefixes of key shapes: naming them (`project key (sk-proj-…)`) shows nothing of a key. */
const PUBLIC_PREFIX = /^(?:sk-(?:proj|svcacct|admin)-|sk-)/;
/** The shortest run of a secret that counts as showing it. */
const WINDOW = 8;
const REDACTED = '[REDACTED]';

/**
 * The last guard before anything is written: the core `redact()`, then wherever {@link WINDOW}
 * characters of a secret (the key, a password in a URL) appear, the whole run of the secret around them
 * is cut out. The checks never put a key in a line; this holds even for a hostile server that echoes
 * one in an error code or a request id.
 */
export function withoutSecrets(text: string, secrets: readonly string[]): string {
  let out = redact(text);
  for (const secret of secrets) {
    const body = secret.replace(PUBLIC_PREFIX, '');
    if (body.length < WINDOW) {
      if (body.length >= 4) out = out.split(body).join(REDACTED);
      continue;
    }
    for (let i = 0; i + WINDOW <= body.length; i++) out = cutRuns(out, body, i);
  }
  return out;
}

/** Cuts every run of `secret` that contains its window at `i`, grown to as much of the secret as matches. */
function cutRuns(text: string, secret: string, i: number): string {
  const window = secret.slice(i, i + WINDOW);
  let out = text;
  for (let at = out.indexOf(window); at !== -1; at = out.indexOf(window, at)) {
    let start = at;
    let end = at + WINDOW;
    for (let s = i; start > 0 && s > 0 && out[start - 1] === secret[s - 1]; s--) start--;
    for (let e = i + WINDOW; end < out.length && e < secret.length && out[end] === secret[e]; e++) end++;
    out = `${out.slice(0, start)}${REDACTED}${out.slice(end)}`;
    at = start + REDACTED.length;
  }
  return out;
}
