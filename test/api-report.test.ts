/**
 * The reader of API Extractor's reports (scripts/api.ts): what it counts as a finding. The reports
 * themselves are checked against the code in test/package.test.ts, after the package is built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findingsOf, reportName } from '../scripts/api.ts';

test('report names: the root is faultline, a subpath is its name', () => {
  assert.equal(reportName('.'), 'faultline');
  assert.equal(reportName('./mock'), 'mock');
  assert.equal(reportName('./a/b'), 'a-b');
});

test('findings: forgotten exports (inline and in the closing list) and reachable @internal members and declarations', () => {
  const report = [
    '// @public',
    'export interface Grant {',
    '    // @internal (undocumented)',
    '    readonly probe: boolean;',
    '    readonly sentAt: number;',
    '}',
    '',
    '// @public',
    'export class Journal {',
    '    // @internal',
    '    track(req: TrackRequest): Promise<void>;',
    '    // Warning: (ae-forgotten-export) The symbol "TrackRequest" needs to be exported by the entry point index.d.ts',
    '}',
    '',
    '// @internal',
    'export function helper(): void;',
    '',
    '// Warnings were encountered during analysis:',
    '//',
    '// src/background/types.ts:40:5 - (ae-forgotten-export) The symbol "CallOptions" needs to be exported by the entry point index.d.ts',
  ].join('\n');
  assert.deepEqual(findingsOf(report, './journal'), [
    'ae-forgotten-export ./journal CallOptions',
    'ae-forgotten-export ./journal TrackRequest',
    'internal ./journal Grant.probe',
    'internal ./journal Journal.track',
    'internal ./journal helper',
  ]);
  assert.deepEqual(findingsOf('// @public\nexport interface A {\n    readonly x: number;\n}\n', '.'), []);
});
