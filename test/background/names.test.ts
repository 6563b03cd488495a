/**
 * Every type a background or journal signature uses can be named from the entry that uses it (issue 11,
 * §2.1). Checked by the compiler (`npm test` type-checks the tests): the annotations below fail to
 * compile if an entry stops exporting one. The journal is opaque as a wait option.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CallOptions, HubListener, PollOptions, ProgressSource, WaitJournal, WaitOptions } from '../../src/index.ts';
import * as root from '../../src/index.ts';
import type * as J from '../../src/journal/index.ts';
import { openJournal } from '../../src/journal/index.ts';

test('the root entry names CallOptions, ProgressSource, PollOptions, HubListener and WaitJournal', async () => {
  const call: CallOptions = { maxRetries: 0, timeout: 1000 };
  const source: ProgressSource = 'poll';
  const poll: PollOptions = { minDelayMs: 500, jitter: 0.5 };
  const listener: HubListener = () => {};
  const opened = openJournal(':memory:');
  const journal: WaitJournal = opened;
  const options: WaitOptions = { timeoutMs: 1000, journal, ...poll };
  assert.equal(options.journal?.[Symbol.toStringTag], 'FaultlineJournal');
  assert.deepEqual([call.maxRetries, source, typeof listener], [0, 'poll', 'function']);
  // The internals stay internal: no journal link or track request at run time or in the entry.
  assert.equal('track' in journal, false);
  assert.equal(Object.keys(root).some((k) => /JournalLink|TrackRequest/.test(k)), false);
  await opened.close();
});

test('faultline/journal names the types of its own signatures', () => {
  type Names = [J.WaitOptions, J.WaitProgress, J.WaitToken, J.BackgroundResponse, J.ResponsesClient, J.CallOptions, J.ResultHub, J.HubListener, J.PollOptions, J.ProgressSource, J.WaitJournal, J.Clock];
  type Core = [J.FaultlineError, J.Failure, J.FailureCode, J.ErrorName, J.Category, J.FailureSource, J.CatalogEntry, J.ForeignFailure, J.FaultlineErrorOptions];
  const resume: J.ResumeOptions = { timeoutMs: 1000, concurrency: 2 };
  const named: [Names, Core] | undefined = undefined; // compiles only while every name resolves
  assert.equal(resume.concurrency, 2);
  assert.equal(named, undefined);
});
