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

test('an unknown key throws at once, naming it; a createMock option given to listen() says where it goes', async () => {
  const misplaced: Array<[string, unknown]> = [
    ['apiKeys', ['sk-test']],
    ['scenario', []],
    ['clock', createManualClock()],
    ['modelAccess', {}],
  ];
  for (const [key, value] of misplaced) {
    await assert.rejects(
      listen({ [key]: value } as never),
      (e: unknown) => e instanceof TypeError && e.message === `listen: options.${key} is not an option of listen(); pass it as options.mock.${key}`,
      key,
    );
  }
  await assert.rejects(listen({ prot: 0 } as never), (e: unknown) => e instanceof TypeError && e.message === 'listen: options.prot is not an option of listen(); did you mean options.port?');
  const cases: Array<[object, string]> = [
    [{ apikeys: [] }, 'createMock: options.apikeys is not an option of createMock(); did you mean options.apiKeys?'],
    [{ port: 0 }, 'createMock: options.port is not an option of createMock()'],
    [{ rateLimit: { rpm: 10, rpd: 5 } }, 'createMock: options.rateLimit.rpd is not an option of createMock(); did you mean options.rateLimit.rpm?'],
    [{ background: { runMS: 5 } }, 'createMock: options.background.runMS is not an option of createMock(); did you mean options.background.runMs?'],
    [{ batch: { queuedMs: 5 } }, 'createMock: options.batch.queuedMs is not an option of createMock()'],
    [{ webhooks: { url: 'http://127.0.0.1:1/hook', secret: 'whsec_' + btoa('k'.repeat(24)), retry: 1 } }, 'createMock: options.webhooks.retry is not an option of createMock()'],
    [{ log: 'x' }, 'createMock: options.log was renamed to options.onLog (0.2.0: a callback; to write a file, use listen({ logFile }) or faultline mock --log)'],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => createMock(options as never), (e: unknown) => e instanceof TypeError && e.message === message, JSON.stringify(options));
  }
  // Through listen(), a bad mock option is createMock's.
  await assert.rejects(listen({ mock: { apikeys: [] } as never }), (e: unknown) => e instanceof TypeError && e.message === 'createMock: options.apikeys is not an option of createMock(); did you mean options.apiKeys?');
  // A key that is not an identifier is not echoed (it could be a secret pasted in the wrong place).
  const key = ['sk', 'proj', String(Date.now())].join('-');
  assert.throws(() => createMock({ [key]: true } as never), (e: unknown) => e instanceof TypeError && !e.message.includes(key) && /not an identifier, not shown/.test(e.message));
  // An undefined value changes nothing, and every documented key is accepted.
  await createMock({ typo: undefined } as never).close();
  const clock = createManualClock();
  const all = createMock({
    seed: 2, clock, scenario: [], rateLimit: { rpm: 5, tpm: 500, burstWindowMs: 1000, countRejected: false, cost: {} }, organization: 'org-x', reply: 'r', models: ['m'],
    apiKeys: ['sk-test'], modelAccess: { 'sk-test': ['m'] }, background: { queuedMs: 1, runMs: 1 }, batch: { validatingMs: 1, runMs: 1 }, responseTtlMs: 10,
    streamDelayMs: 0, azure: false, stripHeaders: false, onLog: () => {}, maxBodyBytes: 1024, maxLogEntries: 10,
    webhooks: { url: 'http://127.0.0.1:1/hook', secret: 'whsec_' + btoa('k'.repeat(24)), fetch: async () => new Response(''), retries: 0, retryDelaysMs: [1], attemptTimeoutMs: 10, duplicateProbability: 0 },
  });
  await all.close();
  const server = await listen({ port: 0, host: '127.0.0.1', mock: { seed: 3 } });
  await server.close();
});
