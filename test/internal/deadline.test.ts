/**
 * The per-attempt timeout (src/internal/deadline.ts), on a manual clock: no wall-clock time passes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { attemptDeadline, attemptTimeoutError } from '../../src/internal/deadline.ts';
import { createManualClock } from '../../src/mock/index.ts';

describe('attemptDeadline()', () => {
  test('fires at ms of clock time, not before, with the one TimeoutError', async () => {
    const clock = createManualClock();
    const d = attemptDeadline(clock, undefined, 5000);
    await clock.advance(4999);
    assert.equal(d.signal.aborted, false);
    assert.equal(d.timedOut(), false);
    await clock.advance(1);
    assert.equal(d.signal.aborted, true);
    assert.equal(d.timedOut(), true);
    const reason = d.signal.reason as DOMException;
    assert.equal(reason.name, 'TimeoutError');
    assert.equal(reason.message, 'The attempt took longer than 5000 ms');
    assert.equal(reason.message, attemptTimeoutError(5000).message);
    d.end();
  });

  test('end() leaves no timer, and a deadline ended early never fires', async () => {
    const clock = createManualClock();
    const parent = new AbortController();
    const d = attemptDeadline(clock, parent.signal, 5000);
    assert.equal(clock.pending, 1);
    d.end();
    d.end(); // twice is harmless
    await clock.advance(0);
    assert.equal(clock.pending, 0);
    await clock.advance(10_000);
    assert.equal(d.signal.aborted, false);
    parent.abort(new Error('after the end'));
    assert.equal(d.signal.aborted, false, 'the listener on the parent was removed');
  });

  test('a parent abort wins over the timeout: its reason, timedOut() false, the timer does not fire after', async () => {
    const clock = createManualClock();
    const parent = new AbortController();
    const d = attemptDeadline(clock, parent.signal, 5000);
    await clock.advance(1000);
    const reason = new Error('caller');
    parent.abort(reason);
    assert.equal(d.signal.reason, reason);
    await clock.advance(10_000);
    assert.equal(d.timedOut(), false);
    assert.equal(d.signal.reason, reason);
    d.end();

    const early = new AbortController();
    early.abort(new Error('before'));
    const e = attemptDeadline(clock, early.signal, 5000);
    assert.equal(e.signal.aborted, true, 'an aborted parent aborts it at once');
    assert.equal(clock.pending, 0, 'and no timer is started');
    e.end();
  });

  test('without ms it only follows the parent: no timer', async () => {
    const clock = createManualClock();
    const parent = new AbortController();
    const d = attemptDeadline(clock, parent.signal, undefined);
    assert.equal(clock.pending, 0);
    await clock.advance(1e9);
    assert.equal(d.signal.aborted, false);
    parent.abort();
    assert.equal((d.signal.reason as DOMException).name, 'AbortError');
    assert.equal(d.timedOut(), false);
    d.end();
  });
});
