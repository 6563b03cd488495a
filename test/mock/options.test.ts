/** createMock/listen/createManualClock misuse: one message format, `owner: options.x must be …, got …`, never a secret. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createManualClock, createMock, listen } from '../../src/mock/index.ts';

test('createMock: each bad option throws at once with the one message format', () => {
  const cases: Array<[object, RegExp, ErrorConstructor]> = [
    [{ seed: 1.5 }, /^createMock: options\.seed must be an integer, got 1\.5$/, TypeError],
    [{ reply: 3 }, /^createMock: options\.reply must be a string, got 3$/, TypeError],
    [{ background: { queuedMs: -1 } }, /^createMock: options\.background\.queuedMs must be a number of milliseconds >= 0 \(or Infinity\), got -1$/, RangeError],
    [{ batch: { runMs: 'x' } }, /^createMock: options\.batch\.runMs must be a number of milliseconds >= 0 \(or Infinity\), got "x"$/, TypeError],
    [{ rateLimit: { rpm: 0 } }, /^createMock: options\.rateLimit\.rpm must be a finite number > 0, got 0$/, RangeError],
    [{ rateLimit: { burstWindowMs: 0 } }, /^createMock: options\.rateLimit\.burstWindowMs must be a number of milliseconds > 0, got 0$/, RangeError],
    [{ rateLimit: 5 }, /^createMock: options\.rateLimit must be an object, got 5$/, TypeError],
    [{ azure: 'yes' }, /^createMock: options\.azure must be one of true, false, got "yes"$/, TypeError],
    [{ stripHeaders: 'all' }, /^createMock: options\.stripHeaders must be a boolean or an array of header names, got "all"$/, TypeError],
    [{ maxLogEntries: -1 }, /^createMock: options\.maxLogEntries must be a finite number >= 0, got -1$/, RangeError],
    [{ onLog: 'file.jsonl' }, /^createMock: options\.onLog must be a function, got "file\.jsonl"$/, TypeError],
    [{ clock: { now: () => 0 } }, /^createMock: options\.clock\.sleep must be a function/, TypeError],
    [{ organization: '' }, /^createMock: options\.organization must be a non-empty string, got ""$/, TypeError],
  ];
  for (const [options, message, Kind] of cases) {
    assert.throws(() => createMock(options as never), (e: unknown) => e instanceof Kind && message.test((e as Error).message), JSON.stringify(options));
  }
  assert.throws(() => createMock(7 as never), /^TypeError: createMock: options must be an object, got 7$/);
});

test('an API key given where strings are expected is never shown', () => {
  const key = ['sk', 'proj', String(Date.now())].join('-');
  assert.throws(
    () => createMock({ apiKeys: key as never }),
    (e: unknown) => e instanceof TypeError && /^createMock: options\.apiKeys must be an array of strings, got a string \(not shown\)$/.test(e.message),
  );
});

test('listen and createManualClock use the same format', async () => {
  await assert.rejects(listen({ host: '' }), /^TypeError: listen: options\.host must be a non-empty string, got ""$/);
  await assert.rejects(listen({ port: -1 }), /^RangeError: listen: options\.port must be an integer from 0 to 65535, got -1$/);
  assert.throws(() => createManualClock(Number.NaN), /^TypeError: createManualClock: start must be a finite number, got NaN$/);
  await assert.rejects(createManualClock().advance(-5), /^RangeError: advance: ms must be a number of milliseconds >= 0, got -5$/);
});
