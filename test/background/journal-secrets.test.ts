/**
 * Secrets and the journal: the default handler-error warning is redacted, and a `scrub` hook runs on every
 * terminal object before it is stored (from a waiter and from a webhook).
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type JobOutcome } from '../../src/journal/index.ts';
import { createAndWait } from '../../src/background/wait.ts';
import { FakeResponses } from './fake-client.ts';
import { createManualClock } from '../../src/mock/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'faultline-secrets-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const dbPath = (): string => join(dir, `s${++n}.db`);
/** A key-shaped string built at run time (no key literal in the repository). */
const fakeKey = (): string => ['sk', 'proj', 'Zq7'.repeat(8)].join('-');

describe('journal secrets', () => {
  test('the default handler-error warning is redacted', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const fake = new FakeResponses(clock);
    const key = fakeKey();
    const journal = openJournal(dbPath(), {
      clock,
      onResult: () => {
        throw new Error(`upstream said: Incorrect API key provided: ${key}; Authorization: Bearer ${key}`);
      },
    });
    const id = fake.add({ durationMs: 1000 });
    await journal.store.insert({ key: 'h', kind: 'response', stream: false, objectId: id }, clock.now());
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      await clock.run(journal.resumeAll(fake, { timeoutMs: 60_000 }));
      await new Promise((resolve) => process.nextTick(resolve));
      await clock.settle();
    } finally {
      process.off('warning', onWarning);
    }
    const mine = warnings.filter((w) => (w as { code?: string }).code === 'FAULTLINE_JOURNAL_HANDLER');
    assert.equal(mine.length, 1);
    assert.ok(!mine[0]!.message.includes(key), mine[0]!.message);
    assert.match(mine[0]!.message, /\[REDACTED\]/);
    assert.match(mine[0]!.message, /job h/);
    await journal.close();
  });

  test('scrub runs on every terminal object before it is stored; the caller still gets what the server sent', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const fake = new FakeResponses(clock);
    const outcomes: JobOutcome[] = [];
    const seen: unknown[] = [];
    const scrub = (result: unknown): unknown => {
      seen.push(result);
      const r = result as Record<string, unknown>;
      return { ...r, output: [], metadata: { scrubbed: 'yes' } };
    };
    const journal = openJournal(dbPath(), { clock, scrub, onResult: (o) => void outcomes.push(o) });
    const opts = { timeoutMs: 600_000, clock, journal };
    for (const stream of [true, false]) {
      const res = await clock.run(createAndWait(fake, { model: 'm', input: 'secret input' }, { ...opts, jobKey: `s-${stream}`, stream }));
      assert.notDeepEqual((res as { output?: unknown }).output, [], 'the caller gets the Response as received');
      const row = await journal.get(`s-${stream}`);
      assert.deepEqual((row?.result as { output: unknown }).output, []);
      assert.equal((row?.result as { output_text?: unknown }).output_text, '', 'output_text follows the scrubbed output');
      assert.deepEqual((row?.result as { metadata: unknown }).metadata, { scrubbed: 'yes' });
      assert.equal((row?.result as { status: string }).status, 'completed');
    }
    // A webhook's object (an orphan recovered by metadata) goes through it too.
    await journal.store.insert({ key: 'orph', kind: 'response', stream: true }, clock.now());
    const id = fake.add({ durationMs: 1000 }, { metadata: { faultline_job: 'orph' } });
    await clock.advance(2000);
    assert.equal(await journal.recordObject(fake.snapshot(id)), 'orph');
    assert.deepEqual(((await journal.get('orph'))?.result as { metadata: unknown }).metadata, { scrubbed: 'yes' });
    assert.equal(outcomes.length, 3);
    for (const o of outcomes) assert.deepEqual((o.result as { output: unknown }).output, []);
    assert.equal(seen.length, 3);
    assert.throws(() => openJournal(dbPath(), { scrub: 'yes' as never }), (e: unknown) => e instanceof TypeError && /options\.scrub must be a function/.test(e.message));
    await journal.close();
  });
});
