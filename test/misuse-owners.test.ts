/**
 * Misuse names its owner (CONTRIBUTING.md rule 10): every public function or class that takes options,
 * given one bad option, throws (or rejects) with a message that starts with its own name and the option's
 * path in the caller's terms, never the name of a helper it delegates to (a `createFetch` whose
 * `limits.rpm` is bad says `createFetch: options.limits.rpm`, not `RateLimiter: options.rpm`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as root from '../src/index.ts';
import * as journal from '../src/journal/index.ts';
import * as mock from '../src/mock/index.ts';
import * as webhooks from '../src/webhooks/index.ts';
import * as redis from '../src/redis/index.ts';
import * as otel from '../src/otel/index.ts';

const client = { responses: { retrieve: async () => ({}), cancel: async () => ({}), create: async () => ({}) }, batches: { retrieve: async () => ({}) }, files: { content: async () => ({}) } } as never;
const secret = (): string => webhooks.generateWebhookSecret();

/** A journal store that is never reached: the options are checked first. */
const store = () => new journal.SqliteJournalStore(':memory:');

/** [owner, the bad call, the message's start after `owner: `, a known divergence being fixed elsewhere] */
const cases: [string, () => unknown, string, string?][] = [
  ['retry', () => root.retry(async () => 1, { retries: -1 }), 'options.retries must be'],
  ['createFetch', () => root.createFetch({ limits: { rpm: -1 } }), 'options.limits.rpm must be'],
  ['createFetch', () => root.createFetch({ limits: { tpm: 0 } }), 'options.limits.tpm must be'],
  ['createFetch', () => root.createFetch({ limits: { burstWindowMs: 120_000 } }), 'options.limits.burstWindowMs must be'],
  ['createFetch', () => root.createFetch({ headroom: 2 }), 'options.headroom must be'],
  ['createFetch', () => root.createFetch({ maxRetryTimeMs: -1 }), 'options.maxRetryTimeMs must be'],
  ['RateLimiter', () => new root.RateLimiter({ rpm: -1 }), 'options.rpm must be'],
  ['RateLimiter', () => new root.RateLimiter({ headroom: 2 }), 'options.headroom must be'],
  ['exponentialBackoff', () => root.exponentialBackoff({ initialDelayMs: -1 }), 'options.initialDelayMs must be'],
  ['constantBackoff', () => root.constantBackoff(-1), 'delayMs must be'],
  ['waitForResponse', () => root.waitForResponse(client, 'resp_1', { timeoutMs: -1 }), 'options.timeoutMs must be'],
  ['createAndWait', () => root.createAndWait(client, { model: 'm' }, { timeoutMs: -1 }), 'options.timeoutMs must be'],
  ['waitForBatch', () => root.waitForBatch(client, 'batch_1', { timeoutMs: -1 }), 'options.timeoutMs must be'],
  ['Journal', () => new journal.Journal({ store: store(), orphanAfterMs: -1 }), 'options.orphanAfterMs must be'],
  ['openJournal', () => journal.openJournal(':memory:', { orphanAfterMs: -1 }), 'options.orphanAfterMs must be'],
  ['SqliteJournalStore', () => new journal.SqliteJournalStore(':memory:', { busyTimeoutMs: -1 }), 'options.busyTimeoutMs must be'],
  ['SqliteJournalStore', () => new journal.SqliteJournalStore(''), 'path must be'],
  ['createMock', () => mock.createMock({ seed: 'x' as never }), 'options.seed must be'],
  ['createManualClock', () => mock.createManualClock({ autoAdvance: 'yes' as never }), 'options.autoAdvance must be'],
  ['createWebhookHandler', () => webhooks.createWebhookHandler({ client, secret: secret(), toleranceMs: -1 }), 'options.toleranceMs must be'],
  ['verifyWebhook', () => webhooks.verifyWebhook({ body: '', headers: {}, secret: secret(), toleranceMs: -1 }), 'options.toleranceMs must be'],
  ['signWebhook', () => webhooks.signWebhook({ id: 'msg_1', body: '', secret: secret(), sentAt: 'soon' as never }), 'options.sentAt must be'],
  ['redisBudget', () => redis.redisBudget({ client: { call: async () => null }, key: 'k', rpm: -1 } as never), 'options.rpm must be'],
  ['instrument', () => otel.instrument({ tracerProvider: 5 as never }), 'options.tracerProvider must be'],
];

for (const [owner, call, start, todo] of cases) {
  test(`${owner}: ${start.replace(' must be', '')} → "${owner}: ${start} …"`, { todo }, async () => {
    let error: unknown;
    try {
      await call();
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof TypeError || error instanceof RangeError, `${owner} threw ${String(error)}`);
    assert.ok(error.message.startsWith(`${owner}: ${start}`), `message: ${error.message}`);
  });
}
