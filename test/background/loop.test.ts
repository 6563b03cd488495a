/**
 * The one wait loop (src/background/loop.ts), driven by a scripted JobSource on a virtual clock: no
 * server, no SDK call. Each outcome kind, the order of the reasons to stop, the sleep capped at the
 * deadline, the transient count, and cancel-on-abort and journal-follow beside the loop.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cancelOnAbort, type CancellableSource } from '../../src/background/cancel.ts';
import { followJournal, type FollowedSource } from '../../src/background/follow.ts';
import { NOW, runLoop, Wakeup, type LoopRules, type Step, type WaitOutcome } from '../../src/background/loop.ts';
import { DEFAULT_POLL_POLICY } from '../../src/background/poll-backoff.ts';
import type { JournalLink } from '../../src/internal/journal-port.ts';
import { ExpiredError, FaultlineError } from '../../src/core/errors.ts';
import { connectionReset, serverError } from './fake-client.ts';
import { createManualClock, type ManualClock } from '../../src/mock/index.ts';

interface Job {
  readonly id: string;
  readonly status: string;
}

/** A source that answers each step from `script` in order (the last answer repeats). */
class Scripted implements CancellableSource<Job>, FollowedSource<Job> {
  readonly what = 'Job';
  readonly id = 'job_1';
  seen = false;
  last: Job | undefined;
  steps = 0;
  cancels = 0;
  interruptWith: WaitOutcome<Job> | undefined;
  news: Job | undefined;
  readonly wakeup: Wakeup;
  readonly #script: ((wake: AbortSignal) => Step<Job> | Promise<Step<Job>>)[];
  #afterCancel: ((wake: AbortSignal) => Step<Job>)[] = [];

  constructor(script: ((wake: AbortSignal) => Step<Job> | Promise<Step<Job>>)[], due: () => boolean = () => false) {
    this.#script = script;
    this.wakeup = new Wakeup(due);
  }

  async interrupt(): Promise<WaitOutcome<Job> | undefined> {
    return this.interruptWith;
  }

  async step(wakeup: Wakeup): Promise<Step<Job>> {
    const wake = wakeup.next();
    const script = this.cancels > 0 && this.#afterCancel.length > 0 ? this.#afterCancel : this.#script;
    const answer = await (script[Math.min(this.steps++, script.length - 1)] as (w: AbortSignal) => Step<Job> | Promise<Step<Job>>)(wake);
    if (answer.kind === 'terminal' || answer.kind === 'again') {
      this.seen = true;
      if (answer.kind === 'terminal') this.last = answer.value;
    }
    return answer;
  }

  thenAfterCancel(script: ((wake: AbortSignal) => Step<Job>)[]): this {
    this.#afterCancel = script;
    return this;
  }

  startCancel(): Wakeup {
    this.steps = 0;
    return new Wakeup(() => false);
  }

  async cancel(): Promise<unknown> {
    this.cancels++;
    return { status: 'cancelling' };
  }

  takeNews(): Job | undefined {
    const n = this.news;
    this.news = undefined;
    return n;
  }

  isFinal(value: unknown): value is Job {
    return typeof value === 'object' && value !== null && ['completed', 'cancelled'].includes((value as Job).status);
  }

  lostError(reason: string): FaultlineError {
    return new ExpiredError(`lost: ${reason}`);
  }
}

const again = (delayMs: number, healthy = true) => (): Step<Job> => ({ kind: 'again', delayMs, healthy });
const done = (status = 'completed') => (): Step<Job> => ({ kind: 'terminal', value: { id: 'job_1', status } });
const fail = (error: unknown) => (): Step<Job> => ({ kind: 'error', error });

function rules(clock: ManualClock, extra: Partial<LoopRules> = {}): LoopRules {
  return { clock, random: () => 0.5, policy: DEFAULT_POLL_POLICY, deadlineAt: clock.now() + 60_000, maxTransient: 2, signal: undefined, ...extra };
}

describe('runLoop: each outcome is a value', () => {
  test('result: steps until the source is terminal, sleeping each asked delay', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const t0 = clock.now();
    const source = new Scripted([again(1000), again(2500), done()]);
    const outcome = await clock.run(runLoop(source, rules(clock), source.wakeup));
    assert.deepEqual(outcome, { kind: 'result', value: { id: 'job_1', status: 'completed' } });
    assert.deepEqual(clock.sleeps, [1000, 2500]);
    assert.equal(clock.now() - t0, 3500);
    assert.equal(clock.pending, 0, 'no timer left behind');
  });

  test('deadline: the last sleep is cut to the deadline, then the loop ends with the last object', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const t0 = clock.now();
    const source = new Scripted([again(1000)]);
    source.last = { id: 'job_1', status: 'in_progress' };
    const outcome = await clock.run(runLoop(source, rules(clock, { deadlineAt: t0 + 2500 }), source.wakeup));
    assert.deepEqual(outcome, { kind: 'deadline', last: { id: 'job_1', status: 'in_progress' } });
    assert.deepEqual(clock.sleeps, [1000, 1000, 500]);
    assert.equal(clock.now(), t0 + 2500);
  });

  test('a deadline already passed ends the loop before any step', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const source = new Scripted([done()]);
    const outcome = await clock.run(runLoop(source, rules(clock, { deadlineAt: clock.now() }), source.wakeup));
    assert.equal(outcome.kind, 'deadline');
    assert.equal(source.steps, 0);
  });

  test('aborted: the abort wakes the sleep at once and is returned with its reason; it comes before the deadline', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const t0 = clock.now();
    const ac = new AbortController();
    const source = new Scripted([again(30_000)], () => ac.signal.aborted);
    ac.signal.addEventListener('abort', () => source.wakeup.ring());
    const p = runLoop(source, rules(clock, { signal: ac.signal, deadlineAt: t0 + 10_000 }), source.wakeup);
    await clock.advance(4000);
    const reason = new Error('shutdown');
    ac.abort(reason);
    const outcome = await clock.run(p);
    assert.equal(outcome.kind, 'aborted');
    assert.ok(outcome.kind === 'aborted');
    assert.equal(outcome.reason, reason);
    assert.equal(clock.now(), t0 + 4000, 'woken at the abort, not at the end of the 30 s sleep');
    assert.equal(clock.pending, 0);
  });

  test('transient: maxTransientErrors errors in a row are retried with backoff, the next one ends the wait', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const source = new Scripted([fail(serverError())]);
    const outcome = await clock.run(runLoop(source, rules(clock, { maxTransient: 2 }), source.wakeup));
    assert.equal(outcome.kind, 'transient');
    assert.ok(outcome.kind === 'transient' && outcome.error instanceof FaultlineError);
    assert.equal(outcome.error.code, 'server_error');
    assert.equal(source.steps, 3, 'two retried, the third ends it');
    // Equal jitter at random 0.5 on a 1 s base: 750 ms, then 1500 ms.
    assert.deepEqual(clock.sleeps, [750, 1500]);
  });

  test('a healthy step resets the transient count; an unhealthy one (a stream reconnect) does not', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const reset = fail(connectionReset());
    const healthy = new Scripted([reset, reset, again(1000), reset, reset, done()]);
    assert.equal((await clock.run(runLoop(healthy, rules(clock, { maxTransient: 2 }), healthy.wakeup))).kind, 'result');
    const unhealthy = new Scripted([reset, reset, again(1000, false), reset, done()]);
    assert.equal((await clock.run(runLoop(unhealthy, rules(clock, { maxTransient: 2 }), unhealthy.wakeup))).kind, 'transient');
  });

  test('failed: an error that is not transient ends the wait at once; a 404 after the job was seen is expired', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const bad = new Scripted([fail(Object.assign(new Error('Incorrect API key provided'), { status: 401, error: { code: 'invalid_api_key', type: 'invalid_request_error' } }))]);
    const o1 = await clock.run(runLoop(bad, rules(clock), bad.wakeup));
    assert.ok(o1.kind === 'failed');
    assert.equal(bad.steps, 1);
    const gone = new Scripted([again(1000), fail(Object.assign(new Error('No response found'), { status: 404 }))]);
    const o2 = await clock.run(runLoop(gone, rules(clock), gone.wakeup));
    assert.ok(o2.kind === 'failed');
    assert.ok(o2.error instanceof ExpiredError, String(o2.error));
    assert.equal(o2.error.failure.objectId, 'job_1');
  });

  test("the source's interrupt (a lost lease) and its own end are returned as they are", async () => {
    const clock = createManualClock(1_700_000_000_000);
    const lease = new Scripted([again(1000)]);
    lease.interruptWith = { kind: 'leaseLost' };
    assert.deepEqual(await clock.run(runLoop(lease, rules(clock), lease.wakeup)), { kind: 'leaseLost' });
    assert.equal(lease.steps, 0);
    const error = new ExpiredError('the create stream broke');
    const ended = new Scripted([(): Step<Job> => ({ kind: 'end', outcome: { kind: 'failed', error } })]);
    assert.deepEqual(await clock.run(runLoop(ended, rules(clock), ended.wakeup)), { kind: 'failed', error });
  });

  test("'now' re-checks the reasons to stop without sleeping", async () => {
    const clock = createManualClock(1_700_000_000_000);
    const source = new Scripted([() => NOW, () => NOW, done()]);
    assert.equal((await clock.run(runLoop(source, rules(clock), source.wakeup))).kind, 'result');
    assert.deepEqual(clock.sleeps, []);
  });
});

describe('beside the loop', () => {
  test('cancelOnAbort: cancels once, then reads on without the fired signal until the final state', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const ac = new AbortController();
    ac.abort();
    const source = new Scripted([again(1000)]).thenAfterCancel([again(1000), done('cancelled')]);
    const r = rules(clock, { signal: ac.signal });
    assert.equal((await clock.run(runLoop(source, r, source.wakeup))).kind, 'aborted');
    const outcome = await clock.run(cancelOnAbort(source, r));
    assert.deepEqual(outcome, { kind: 'result', value: { id: 'job_1', status: 'cancelled' } });
    assert.equal(source.cancels, 1);
    assert.equal(clock.pending, 0, 'the cancel bound is cleared');
  });

  test('cancelOnAbort is bounded by the deadline', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const source = new Scripted([again(1000)]).thenAfterCancel([again(1000)]);
    const outcome = await clock.run(cancelOnAbort(source, rules(clock, { deadlineAt: clock.now() + 2500 })));
    assert.equal(outcome.kind, 'deadline');
  });

  test('followJournal: the result the holder records is followed; a lost mark fails; news and the deadline end it', async () => {
    const clock = createManualClock(1_700_000_000_000);
    type Recorded = { result: unknown } | { lost: string } | undefined;
    const recorded: Recorded = { result: { id: 'job_1', status: 'completed' } } as Recorded;
    const link = (answer: Recorded, afterMs = 5000): JournalLink =>
      ({
        awaitRecorded: async (signal: AbortSignal) => {
          await clock.sleep(afterMs, signal);
          return signal.aborted ? undefined : answer;
        },
      }) as unknown as JournalLink;
    const source = new Scripted([]);
    assert.deepEqual(await clock.run(followJournal(link(recorded), source, rules(clock), source.wakeup)), { kind: 'followed', value: { id: 'job_1', status: 'completed' } });
    const lost = await clock.run(followJournal(link({ lost: 'orphan' }), source, rules(clock), source.wakeup));
    assert.ok(lost.kind === 'failed' && lost.error instanceof ExpiredError);
    source.news = { id: 'job_1', status: 'completed' };
    assert.deepEqual(await clock.run(followJournal(link(recorded), source, rules(clock), source.wakeup)), { kind: 'result', value: { id: 'job_1', status: 'completed' } });
    const t0 = clock.now();
    const late = await clock.run(followJournal(link(recorded, 120_000), source, rules(clock, { deadlineAt: t0 + 10_000 }), source.wakeup));
    assert.equal(late.kind, 'deadline');
    assert.equal(clock.now(), t0 + 10_000);
    assert.equal(clock.pending, 0);
  });
});
