import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMock, parseScenario } from '../../src/mock/index.ts';

test('bad scenario rules are rejected with an error naming the field', () => {
  const cases: Array<[unknown, RegExp, typeof TypeError | typeof RangeError]> = [
    [[{ fault: { type: 'outcome', status: 'bogus' } }], /rules\[0\]\.fault\.status/, TypeError],
    [[{ fault: { type: 'outcome' } }], /rules\[0\]\.fault\.status/, TypeError],
    [[{ fault: { type: 'stream', action: 'explode' } }], /rules\[0\]\.fault\.action/, TypeError],
    [[{ fault: { type: 'stream', action: 'error', shape: 'round' } }], /fault\.shape/, TypeError],
    [[{ fault: { type: 'reset', when: 'later' } }], /fault\.when/, TypeError],
    [[{ fault: { type: 'reset', afterBytes: -5 } }], /fault\.afterBytes/, RangeError],
    [[{ fault: { type: 'stream', action: 'reset', afterEvents: 1.5 } }], /fault\.afterEvents/, RangeError],
    [[{ fault: { type: 'batch', status: 'melted' } }], /fault\.status/, TypeError],
    [[{ match: { nth: 'x' }, fault: { type: 'reset' } }], /rules\[0\]\.match\.nth/, RangeError],
    [[{ match: { nth: [1, 0] }, fault: { type: 'reset' } }], /match\.nth/, RangeError],
    [[{ times: -1, fault: { type: 'reset' } }], /rules\[0\]\.times/, RangeError],
    [[{ fault: { type: 'reset' } }, { fault: { type: 'outcome', status: 'done' } }], /rules\[1\]\.fault\.status/, TypeError],
  ];
  for (const [rules, message, Kind] of cases) {
    assert.throws(() => parseScenario(rules), (e: unknown) => e instanceof Kind && message.test(e.message), JSON.stringify(rules));
  }
});

test('good rules still parse', () => {
  const rules = [
    { fault: { type: 'outcome', status: 'incomplete', reason: null } },
    { match: { nth: [1, 2], from: 1 }, times: 3, fault: [{ type: 'delay', ms: 5 }, { type: 'reset', when: 'mid_body', afterBytes: 0 }] },
    { fault: { type: 'stream', action: 'error', shape: 'azure', afterEvents: 0 } },
  ];
  assert.equal(parseScenario(rules).rules.length, 3);
});

test('createMock rejects a bad scenario before serving anything', () => {
  assert.throws(() => createMock({ scenario: [{ fault: { type: 'outcome', status: 'bogus' } }] as never }), /fault\.status/);
});
