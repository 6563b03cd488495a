/**
 * Generates docs/scenario.md, the reference of the mock's scenario files: every rule field, match key and
 * fault type from the JSDoc of the types in src/mock/scenario.ts, and every preset from src/mock/presets.ts
 * with the status it sends and the catalog code it classifies to. `--check` exits 1 when the file is stale;
 * test/scenario-docs.test.ts fails when it drifts or a field lacks a description.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AZURE_PRESETS, PRESETS, type HttpPreset } from '../src/mock/presets.ts';
import { RECIPES } from '../src/mock/recipes.ts';
import { fieldTable, readInterfaceDocs, writeGenerated, type OptionDoc } from './gen-options.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const FILE = 'src/mock/scenario.ts';

/** The documented scenario types, in reading order: [heading, interface, what it is]. */
export const SCENARIO_TYPES: ReadonlyArray<readonly [string, string, string]> = [
  ['Scenario', 'Scenario', 'the whole file: `{ "rules": [...] }` (a bare array of rules is accepted too)'],
  ['Rule', 'Rule', 'one entry of `rules`: when (`match`) and how (`fault`) to misbehave'],
  ['match', 'RuleMatch', 'conditions a request must meet; every given condition must hold'],
  ['fault: http', 'HttpFault', 'answer with an HTTP error'],
  ['fault: delay', 'DelayFault', 'wait before answering'],
  ['fault: reset', 'ResetFault', 'drop the connection'],
  ['fault: stream', 'StreamFault', 'misbehave inside a streamed answer'],
  ['fault: outcome', 'OutcomeFault', 'end a Response in a non-completed terminal state'],
  ['fault: strip_headers', 'StripHeadersFault', 'remove response headers, as some proxies do'],
  ['fault: expire', 'ExpireFault', 'make a stored Response expire'],
  ['fault: batch', 'BatchFault', 'end a batch, or put a batch line in the error file'],
];

export function readScenarioDocs(): Map<string, OptionDoc[]> {
  return readInterfaceDocs(SCENARIO_TYPES.map(([, name]) => [FILE, name] as const));
}

function presetRows(presets: Readonly<Record<string, HttpPreset>>): string[] {
  return Object.entries(presets).map(([name, p]) => `| \`${name}\` | ${p.status} | \`${p.expect}\` | ${p.contentType ?? 'application/json'} |`);
}

/** docs/scenario.md */
export function renderScenarioMarkdown(docs = readScenarioDocs()): string {
  const out = [
    '# Mock scenarios',
    '',
    '<!-- Generated from src/mock/scenario.ts and src/mock/presets.ts by `npm run docs`. Do not edit by hand: test/scenario-docs.test.ts fails when this file drifts. -->',
    '',
    'A scenario tells the mock (`createMock({ scenario })`, `faultline mock --scenario file.json`) when and how to misbehave. Rules are tried in order; the first rule whose `match` fits a request injects its faults. Counting (`nth`, `every`, `from`, `to`) is per rule, 1-based; `times` counts the rule\'s own firings. Rules only see requests the rate limiter admitted. A misspelt field is an error naming its path, never ignored.',
    '',
    '```json',
    '{ "rules": [',
    '  { "id": "empty-wallet", "match": { "key": "sk-empty" }, "fault": { "type": "http", "preset": "insufficient_quota" } },',
    '  { "match": { "path": "/v1/responses", "background": true, "nth": 2 }, "fault": { "type": "outcome", "status": "failed", "code": "rate_limit_exceeded" } },',
    '  { "match": { "path": "/v1/chat/completions", "probability": 0.05 }, "fault": { "type": "reset", "when": "mid_body" } }',
    '] }',
    '```',
    '',
  ];
  for (const [heading, name, what] of SCENARIO_TYPES) {
    out.push(`## ${heading}`, '', `\`${name}\` — ${what}.`, '', ...fieldTable(docs.get(name) ?? [], 'field'), '');
  }
  out.push('## Presets', '', 'Named real-world error answers for `{ "type": "http", "preset": NAME }`, with the status they send and the faultline code each classifies to (the mock\'s tests check that column).', '');
  out.push('| preset | status | classifies to | content type |', '|---|---|---|---|', ...presetRows(PRESETS), '');
  out.push('Azure OpenAI presets (the same bodies and headers Azure sends):', '', '| preset | status | classifies to | content type |', '|---|---|---|---|', ...presetRows(AZURE_PRESETS), '');
  out.push('## Playing an account or a server in trouble', '', 'What a health check (such as `faultline doctor`) must recognise, and how the mock plays each (from src/mock/recipes.ts; test/mock/recipes.test.ts runs every one).', '');
  for (const r of RECIPES) {
    const e = r.example;
    const opts = r.clockOffsetMs === undefined ? JSON.stringify(r.options) : `{ clock: createManualClock(Date.now() ${r.clockOffsetMs < 0 ? '-' : '+'} ${Math.abs(r.clockOffsetMs)}) }`;
    const shows = e.code === null ? `${e.status}` : `${e.status} \`${e.code}\``;
    out.push(`### ${r.title}`, '', `${r.how}.`, '', `- \`createMock(${opts})\``);
    const rules = r.options.scenario ?? (r.rule === undefined ? undefined : [r.rule]);
    if (rules !== undefined) out.push(`- \`faultline mock --scenario FILE\` with FILE = \`${JSON.stringify({ rules })}\``);
    if (r.cli !== undefined) out.push(`- \`faultline mock ${r.cli}\``);
    out.push(`- \`${e.method} ${e.path}\` with key \`${e.key}\` → ${shows}`, '');
  }
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) writeGenerated(join(root, 'docs', 'scenario.md'), renderScenarioMarkdown());
