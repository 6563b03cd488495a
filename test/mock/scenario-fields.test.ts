/**
 * Scenario files name every field they use: an unknown field is an error with its path (a typo in `match`
 * must not match every request), the field lists agree with the scenario types, and `faultline mock`
 * reports JSON syntax errors with a line and column and takes decimal numbers only.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { jsonErrorPlace, runMockCommand } from '../../src/mock/cli.ts';
import { parseScenario, SCENARIO_FIELDS } from '../../src/mock/scenario.ts';
import { readScenarioDocs, SCENARIO_TYPES } from '../../scripts/gen-scenario.ts';

test('an unknown field anywhere in a scenario is a TypeError naming its path', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ rules: [{ match: { backgroud: true }, fault: { type: 'http', status: 500 } }] }, /^scenario\.rules\[0\]\.match\.backgroud: unknown field/],
    [{ rules: [{ matches: { path: '/v1/responses' }, fault: { type: 'http', status: 500 } }] }, /^scenario\.rules\[0\]\.matches: unknown field/],
    [{ rules: [{ fault: { type: 'http', status: 500, retryAfter: 3 } }] }, /^scenario\.rules\[0\]\.fault\.retryAfter: unknown field/],
    [{ rules: [{ fault: [{ type: 'delay', ms: 5 }, { type: 'reset', afterEvents: 2 }] }] }, /^scenario\.rules\[0\]\.fault\[1\]\.afterEvents: unknown field/],
    [{ rule: [], rules: [] }, /^scenario\.rule: unknown field/],
  ];
  for (const [input, message] of cases) assert.throws(() => parseScenario(input), (e: unknown) => e instanceof TypeError && message.test(e.message), JSON.stringify(input));
});

test('every documented field is accepted', () => {
  const ok = parseScenario({
    rules: [
      { id: 'a', times: 2, match: { path: '/v1/*', method: 'POST', model: 'm', key: 'k', stream: true, background: false, batch: false, nth: [1, 2], every: 1, from: 1, to: 9, probability: 0.5 }, fault: { type: 'http', preset: 'server_error', status: 503, body: {}, headers: { 'x-a': 'b' }, shouldRetry: true } },
      { fault: [{ type: 'delay', ms: 1 }, { type: 'reset', when: 'mid_body', afterBytes: 3 }] },
      { fault: { type: 'stream', action: 'error', afterEvents: 1, shape: 'nested', code: 'c', message: 'm' } },
      { fault: { type: 'outcome', status: 'cancelled', code: null, message: 'm', reason: null, thenCompleted: true } },
      { fault: [{ type: 'strip_headers', headers: ['x-*'] }, { type: 'expire', afterMs: 1 }, { type: 'batch', status: 'failed', code: 'c', message: 'm' }] },
    ],
  });
  assert.equal(ok.rules.length, 5);
});

test('the field lists are the scenario types’ own properties', () => {
  const docs = readScenarioDocs();
  const fieldsOf = (name: string) => (docs.get(name) ?? []).map((d) => d.name).sort();
  const byInterface: Record<string, readonly string[]> = {
    Scenario: SCENARIO_FIELDS.scenario,
    Rule: SCENARIO_FIELDS.rule,
    RuleMatch: SCENARIO_FIELDS.match,
    HttpFault: SCENARIO_FIELDS.fault.http,
    DelayFault: SCENARIO_FIELDS.fault.delay,
    ResetFault: SCENARIO_FIELDS.fault.reset,
    StreamFault: SCENARIO_FIELDS.fault.stream,
    OutcomeFault: SCENARIO_FIELDS.fault.outcome,
    StripHeadersFault: SCENARIO_FIELDS.fault.strip_headers,
    ExpireFault: SCENARIO_FIELDS.fault.expire,
    BatchFault: SCENARIO_FIELDS.fault.batch,
  };
  assert.deepEqual(Object.keys(byInterface).sort(), SCENARIO_TYPES.map(([, name]) => name).sort());
  for (const [name, fields] of Object.entries(byInterface)) assert.deepEqual([...fields].sort(), fieldsOf(name), name);
});

test('JSON syntax errors are reported with a line and a column', () => {
  const text = '{\n  "rules": [\n    { "match": { "key": "x" },, }\n  ]\n}';
  let err: unknown;
  try {
    JSON.parse(text);
  } catch (e) {
    err = e;
  }
  assert.match(jsonErrorPlace(text, err), /^line 3, column 31: /);
  // The offset form alone (older V8 messages) is turned into a line and column too.
  assert.equal(jsonErrorPlace('{\n\n  x', new SyntaxError('Unexpected token x in JSON at position 5')), 'line 3, column 3: Unexpected token x');
});

function sink() {
  let text = '';
  return { write: (s: string) => ((text += s), true), get text() { return text; } };
}

test('faultline mock: a broken scenario file and a non-decimal number are usage errors (exit 2)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-scenario-'));
  try {
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{\n  "rules": [\n    { "fault": { "type": "http", "status": 500 } },\n  ]\n}');
    const err = sink();
    assert.equal(await runMockCommand(['--scenario', broken], { stdout: sink(), stderr: err }), 2);
    assert.match(err.text, /is not valid JSON \(line \d+, column \d+: /);
    const typo = join(dir, 'typo.json');
    await writeFile(typo, JSON.stringify({ rules: [{ match: { pth: '/v1/responses' }, fault: { type: 'http', status: 500 } }] }));
    const err2 = sink();
    assert.equal(await runMockCommand(['--scenario', typo], { stdout: sink(), stderr: err2 }), 2);
    assert.match(err2.text, /scenario\.rules\[0\]\.match\.pth: unknown field/);
    for (const port of ['0x1F91', '1e3', '+80', '80.0']) {
      const e = sink();
      assert.equal(await runMockCommand(['--port', port], { stdout: sink(), stderr: e }), 2, port);
      assert.match(e.text, /--port must be an integer/);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
