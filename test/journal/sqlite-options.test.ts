import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteJournalStore } from '../../src/journal/sqlite.ts';

test('SqliteJournalStore: options.busyTimeoutMs is a whole number of milliseconds, checked before the file is opened', async () => {
  for (const bad of [-1, 1.5, 2 ** 31]) {
    assert.throws(() => new SqliteJournalStore(':memory:', { busyTimeoutMs: bad }), {
      name: 'RangeError',
      message: `SqliteJournalStore: options.busyTimeoutMs must be an integer from 0 to 2147483647, got ${bad}`,
    });
  }
  assert.throws(() => new SqliteJournalStore(':memory:', { busyTimeoutMs: '5' as never }), { name: 'TypeError', message: /options\.busyTimeoutMs must be an integer/ });
  await new SqliteJournalStore(':memory:', { busyTimeoutMs: 0 }).close();
});
