/**
 * An unknown option key is misuse (CONTRIBUTING.md rule 10): every public owner that takes options
 * throws a TypeError at once that names itself and the key, and suggests the closest known key when one
 * is within two edits, so a typo (`retires: 3`, `timeoutMS`) is never ignored in silence. A renamed key
 * still gets its rename message, and a key whose value is `undefined` changes nothing.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as root from '../src/index.ts';
import * as journal from '../src/journal/index.ts';
import * as webhooks from '../src/webhooks/index.ts';
import * as redis from '../src/redis/index.ts';
import * as otel from '../src/otel/index.ts';
import * as mock from '../src/mock/index.ts';

const client = { responses: { retrieve: async () => ({}), cancel: async () => ({}), create: async () => ({}) }, batches: { retrieve: async () => ({}) }, files: { content: async () => ({}) } } as never;
const secret = (): string => webhooks.generateWebhookSecret();
const redisClient = { call: async () => null };
const store = () => new journal.SqliteJournalStore(':memory:');
const resumer = journal.openJournal(':memory:', { onResult: () => {} });
after(() => resumer.close());

/** The call with one bad key: an owner's options, plus what else the call needs. */
type Call = (extra: Record<string, unknown>) => unknown;
const owners: Record<string, Call> = {
  retry: (x) => root.retry(async () => 1, x),
  createFetch: (x) => root.createFetch(x),
  RateLimiter: (x) => new root.RateLimiter(x),
  exponentialBackoff: (x) => root.exponentialBackoff(x),
  waitForResponse: (x) => root.waitForResponse(client, 'resp_1', { timeoutMs: 1000, ...x }),
  createAndWait: (x) => root.createAndWait(client, { model: 'm' }, { timeoutMs: 1000, ...x }),
  waitForBatch: (x) => root.waitForBatch(client, 'batch_1', { timeoutMs: 1000, ...x }),
  resumeAll: (x) => resumer.resumeAll(client, { timeoutMs: 1000, ...x }),
  Journal: (x) => new journal.Journal({ store: store(), ...x }),
  openJournal: (x) => journal.openJournal(':memory:', x),
  createWebhookHandler: (x) => webhooks.createWebhookHandler({ client, secret: secret(), ...x }),
  signWebhook: (x) => webhooks.signWebhook({ id: 'msg_1', body: '', secret: secret(), sentAt: 0, ...x }),
  verifyWebhook: (x) => webhooks.verifyWebhook({ body: '', headers: {}, secret: secret(), ...x }),
  redisBudget: (x) => redis.redisBudget({ client: redisClient, key: 'k', ...x } as never),
  instrument: (x) => otel.instrument(x),
  SqliteJournalStore: (x) => new journal.SqliteJournalStore(':memory:', x).close(),
  RedisJournalStore: (x) => new redis.RedisJournalStore({ client: redisClient, ...x } as never).close(),
  createManualClock: (x) => mock.createManualClock(x),
};

/** [owner, the typo, the key it is closest to (or none)] */
const cases: [string, string, string | undefined][] = [
  ['retry', 'retires', 'retries'],
  ['retry', 'timeoutMs', undefined],
  ['createFetch', 'retires', 'retries'], // a retry() option, through createFetch
  ['createFetch', 'pacng', 'pacing'],
  ['createFetch', 'maxRetryTimeMS', 'maxRetryTimeMs'],
  ['RateLimiter', 'rmp', 'rpm'],
  ['RateLimiter', 'spred', 'spread'],
  ['exponentialBackoff', 'intialDelayMs', 'initialDelayMs'],
  ['exponentialBackoff', 'retries', undefined],
  ['waitForResponse', 'timeoutMS', 'timeoutMs'],
  ['waitForResponse', 'failure', undefined], // waitForBatch's, not a WaitOptions key
  ['createAndWait', 'deadlin', 'deadline'],
  ['createAndWait', 'readLines', undefined],
  ['waitForBatch', 'readLine', 'readLines'],
  ['waitForBatch', 'jobKey', undefined], // a WaitOptions key that BatchWaitOptions does not pick
  ['resumeAll', 'concurency', 'concurrency'],
  ['resumeAll', 'jobKey', undefined], // a WaitOptions key that ResumeOptions leaves out
  ['Journal', 'leaseMS', 'leaseMs'],
  ['openJournal', 'orphanAfterMS', 'orphanAfterMs'],
  ['createWebhookHandler', 'tolerance', 'toleranceMs'],
  ['createWebhookHandler', 'dedupSize', 'dedupeSize'],
  ['signWebhook', 'sentat', 'sentAt'],
  ['verifyWebhook', 'header', 'headers'],
  ['verifyWebhook', 'sentAt', undefined], // signWebhook's, not verifyWebhook's
  ['redisBudget', 'fallbackShares', 'fallbackShare'],
  ['instrument', 'tracerProvidr', 'tracerProvider'],
  ['SqliteJournalStore', 'busyTimeoutMS', 'busyTimeoutMs'],
  ['RedisJournalStore', 'retentionMS', 'retentionMs'],
  ['RedisJournalStore', 'leaseMs', undefined], // a Journal option, not the store's
  ['createManualClock', 'autoadvance', 'autoAdvance'],
];

async function errorOf(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (e) {
    return e;
  }
  return undefined;
}

for (const [owner, typo, near] of cases) {
  const expected = `${owner}: options.${typo} is not an option of ${owner}()${near === undefined ? '' : `; did you mean options.${near}?`}`;
  test(`${owner}({ ${typo} }) → "${expected}"`, async () => {
    const error = await errorOf(() => owners[owner]!({ [typo]: 1 }));
    assert.ok(error instanceof TypeError, `${owner} threw ${String(error)}`);
    assert.equal(error.message, expected);
  });
}

test('a nested options object names its path: createFetch({ limits: { rmp } })', async () => {
  const error = await errorOf(() => root.createFetch({ limits: { rmp: 100 } } as never));
  assert.ok(error instanceof TypeError);
  assert.equal(error.message, 'createFetch: options.limits.rmp is not an option of createFetch(); did you mean options.limits.rpm?');
});

test('every owner is in the table', () => {
  assert.deepEqual(new Set(cases.map(([owner]) => owner)), new Set(Object.keys(owners)));
});

test('a key whose value is undefined changes nothing', async () => {
  for (const [owner, call] of Object.entries(owners)) {
    const error = await errorOf(() => call({ retires: undefined, timeoutMS: undefined }));
    assert.ok(!(error instanceof Error && /is not an option/.test(error.message)), `${owner}: ${String(error)}`);
  }
  // And the call goes on as if the key were absent.
  assert.equal(await root.retry(async () => 7, { retires: undefined } as never), 7);
  assert.equal(root.exponentialBackoff({ jitter: 0, intialDelayMs: undefined } as never).next().delayMs, 500);
});

test('a renamed key gets its rename message, not an unknown-key one', async () => {
  const renamed: [string, Record<string, unknown>, string][] = [
    ['retry', { timeout: 5 }, 'retry: options.timeout was renamed to options.attemptTimeoutMs (0.2.0)'],
    ['createFetch', { timeout: 5 }, 'createFetch: options.timeout was renamed to options.attemptTimeoutMs (0.2.0)'],
    ['createFetch', { errors: 'throw' }, "createFetch: options.errors was renamed to options.failure (0.2.0; 'response' is now 'return')"],
    ['RateLimiter', { pauseJitter: 0.1 }, 'RateLimiter: options.pauseJitter was renamed to options.spread (0.2.0)'],
    ['waitForResponse', { onAbort: 'cancel' }, 'waitForResponse: options.onAbort was renamed to options.abort (0.2.0)'],
    ['Journal', { now: () => 0 }, 'Journal: options.now was renamed to options.clock (0.2.0)'],
    ['signWebhook', { timestamp: 5 }, 'signWebhook: options.timestamp was renamed to options.sentAt (0.2.0; epoch milliseconds or a Date, no longer seconds)'],
    ['verifyWebhook', { toleranceSeconds: 5 }, 'verifyWebhook: options.toleranceSeconds was renamed to options.toleranceMs (0.2.0; milliseconds, no longer seconds)'],
    ['createWebhookHandler', { toleranceSeconds: 5 }, 'createWebhookHandler: options.toleranceSeconds was renamed to options.toleranceMs (0.2.0; milliseconds, no longer seconds)'],
  ];
  for (const [owner, options, message] of renamed) {
    const error = await errorOf(() => owners[owner]!(options));
    assert.ok(error instanceof TypeError, `${owner} threw ${String(error)}`);
    assert.equal(error.message, message);
  }
});
