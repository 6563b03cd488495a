import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelledError,
  ExpiredError,
  FaultlineError,
  InternalServerError,
  MaxOutputTokensError,
  NotFoundError,
  RateLimitError,
  TimeoutError,
  UnknownFailureError,
  UserAbortError,
  ContentFilteredError,
  QuotaExceededError,
} from '../../src/core/errors.ts';
import { createAndWait, waitForResponse, type WaitOptions, type WaitProgress } from '../../src/background/wait.ts';
import { createResultHub } from '../../src/background/hub.ts';
import { parseToken } from '../../src/background/token.ts';
import { FakeResponses, connectionReset, rateLimited, serverError, type JobScript } from './fake-client.ts';
import { createManualClock, type ManualClock } from '../../src/mock/index.ts';

function setup(): { clock: ManualClock; fake: FakeResponses; opts: (extra?: Partial<WaitOptions>) => WaitOptions } {
  const clock = createManualClock(1_700_000_000_000);
  const fake = new FakeResponses(clock);
  const opts = (extra: Partial<WaitOptions> = {}): WaitOptions => ({ timeoutMs: 600_000, clock, random: () => 0.5, ...extra });
  return { clock, fake, opts };
}

describe('waitForResponse: polling', () => {
  test('polls to completion, paced by the job age within [min, max], SDK retries off', async () => {
    const { clock, fake, opts } = setup();
    const id = fake.add({ durationMs: 120_000 });
    const progress: WaitProgress[] = [];
    const res = await clock.run(waitForResponse(fake, id, opts({ onProgress: (p) => progress.push(p) })));
    assert.equal(res.status, 'completed');
    assert.equal(res.id, id);
    // 1 s polls for the first 10 s, then ~10 % of the age: about 10 + 10·ln(12)/0.9 polls.
    assert.ok(fake.calls.retrieve >= 25 && fake.calls.retrieve <= 45, `polls: ${fake.calls.retrieve}`);
    for (const ms of clock.sleeps) assert.ok(ms >= 1000 && ms <= 30_000, `sleep ${ms}`);
    // Latency bound: the poll that saw the end came at most max(1 s, 10 % of age) after it.
    const end = fake.jobs.get(id)!.createdAt + 120_000;
    assert.ok(clock.now() - end <= Math.max(1000, 0.1 * 120_000), `latency ${clock.now() - end}`);
    assert.ok(fake.options.every((o) => o?.maxRetries === 0 && o.signal instanceof AbortSignal && typeof o.timeout === 'number'));
    assert.deepEqual(
      progress.map((p) => p.source),
      progress.map(() => 'poll'),
    );
    assert.equal(progress.at(-1)?.status, 'completed');
  });

  test('a Response object as input is used as the first snapshot', async () => {
    const { clock, fake, opts } = setup();
    const created = await fake.responses.create({ model: 'm' });
    const res = await clock.run(waitForResponse(fake, created as { id: string }, opts()));
    assert.equal(res.status, 'completed');
  });

  const outcomes: [string, JobScript, new (...a: never[]) => FaultlineError, string][] = [
    ['failed rate_limit_exceeded', { final: 'failed', error: { code: 'rate_limit_exceeded', message: 'Rate limit reached' } }, RateLimitError, 'rate_limit_exceeded'],
    ['failed insufficient_quota', { final: 'failed', error: { code: 'insufficient_quota', message: 'You exceeded your current quota' } }, QuotaExceededError, 'insufficient_quota'],
    ['failed server_error', { final: 'failed', error: { code: 'server_error', message: 'boom' } }, InternalServerError, 'server_error'],
    ['failed error null', { final: 'failed', error: null }, UnknownFailureError, 'unknown'],
    ['cancelled', { final: 'cancelled' }, CancelledError, 'cancelled'],
    ['incomplete max_output_tokens', { final: 'incomplete', incompleteReason: 'max_output_tokens' }, MaxOutputTokensError, 'max_output_tokens'],
    ['incomplete content_filter', { final: 'incomplete', incompleteReason: 'content_filter' }, ContentFilteredError, 'content_filtered'],
  ];
  for (const [name, script, Cls, code] of outcomes) {
    for (const mode of ['poll', 'stream'] as const) {
      test(`${name} → ${Cls.name} via ${mode}, partial output on error.response`, async () => {
        const { clock, fake, opts } = setup();
        fake.defaults = script;
        const p = mode === 'poll' ? waitForResponse(fake, fake.add(), opts()) : createAndWait(fake, { model: 'm', input: 'hi' }, opts());
        const err = await clock.run(p).then(
          () => assert.fail('should reject'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof Cls, `got ${String(err)}`);
        assert.ok(FaultlineError.isInstance(err));
        assert.equal(err.code, code);
        assert.equal((err.response as { output: unknown[] }).output.length, 1);
        if (mode === 'poll') assert.equal(fake.calls.stream, 0);
        else assert.equal(fake.calls.retrieve, 0);
      });
    }
  }

  test("incomplete: 'return' resolves with the Response and reports the typed error", async () => {
    const { clock, fake, opts } = setup();
    const seen: FaultlineError[] = [];
    const res = await clock.run(waitForResponse(fake, fake.add({ final: 'incomplete' }), opts({ incomplete: 'return', onIncomplete: (e) => seen.push(e) })));
    assert.equal(res.status, 'incomplete');
    assert.equal(seen[0]?.code, 'max_output_tokens');
  });

  test('transient poll errors are retried with backoff honouring retry-after; the budget is separate', async () => {
    const { clock, fake, opts } = setup();
    const id = fake.add({ durationMs: 5000 });
    fake.pollFaults.push(rateLimited(7000), serverError(), connectionReset());
    const res = await clock.run(waitForResponse(fake, id, opts()));
    assert.equal(res.status, 'completed');
    assert.ok(clock.sleeps[0]! >= 7000, `first sleep ${clock.sleeps[0]} honours retry-after-ms`);
  });

  test('more transient errors in a row than maxTransientErrors → the last typed error', async () => {
    const { clock, fake, opts } = setup();
    const id = fake.add();
    fake.pollFaults.push(serverError(), serverError(), serverError());
    const err = await clock.run(waitForResponse(fake, id, opts({ maxTransientErrors: 2 }))).catch((e: unknown) => e);
    assert.ok(err instanceof InternalServerError);
    assert.equal(fake.calls.retrieve, 3);
  });

  test('a non-retryable poll error (quota on the poll itself) fails at once', async () => {
    const { clock, fake, opts } = setup();
    const { RateLimitError: SdkRateLimit } = await import('openai');
    fake.pollFaults.push(new SdkRateLimit(429, { message: 'You exceeded your current quota', code: 'insufficient_quota', type: 'insufficient_quota' }, undefined, new Headers()));
    const err = await clock.run(waitForResponse(fake, fake.add(), opts())).catch((e: unknown) => e);
    assert.ok(err instanceof QuotaExceededError);
    assert.equal(fake.calls.retrieve, 1);
  });

  test('the deadline is never overslept: TimeoutError at the deadline, job left running', async () => {
    const { clock, fake, opts } = setup();
    const t0 = clock.now();
    const err = await clock.run(waitForResponse(fake, fake.add({ durationMs: 3_600_000 }), opts({ timeoutMs: 95_000 }))).catch((e: unknown) => e);
    assert.ok(err instanceof TimeoutError, String(err));
    assert.equal(clock.now() - t0, 95_000);
    assert.equal(fake.calls.cancel, 0);
    assert.match((err as Error).message, /in_progress/);
  });

  test('deadline as a Date, and a deadline in the past fails before any request', async () => {
    const { clock, fake, opts } = setup();
    const err = await clock.run(waitForResponse(fake, fake.add(), { clock, deadline: new Date(clock.now() - 1) })).catch((e: unknown) => e);
    assert.ok(err instanceof TimeoutError);
    assert.equal(fake.calls.retrieve, 0);
  });

  test('404 after retention → ExpiredError; an id never seen → NotFoundError', async () => {
    const { clock, fake, opts } = setup();
    const id = fake.add({ durationMs: 5000, retentionMs: 0 });
    // First poll sees it queued, the next one comes after it ended and is gone.
    const err = await clock.run(waitForResponse(fake, id, opts({ minDelayMs: 6000 }))).catch((e: unknown) => e);
    assert.ok(err instanceof ExpiredError, String(err));
    assert.equal((err as ExpiredError).failure.objectId, id);
    const err2 = await clock.run(waitForResponse(fake, 'resp_nope', opts())).catch((e: unknown) => e);
    assert.ok(err2 instanceof NotFoundError, String(err2));
  });

  test('bad data from the wire is a transient failure, then a typed error, never a crash', async () => {
    const { clock, opts } = setup();
    const weird = { responses: { retrieve: async () => 'not a response', cancel: async () => ({}), create: async () => ({}) } };
    const err = await clock.run(waitForResponse(weird, 'resp_x', opts({ maxTransientErrors: 1 }))).catch((e: unknown) => e);
    assert.ok(err instanceof UnknownFailureError, String(err));
  });
});

describe('waitForResponse: abort', () => {
  test("default 'detach': UserAbortError, no cancel, the job keeps running", async () => {
    const { clock, fake, opts } = setup();
    const ac = new AbortController();
    const p = waitForResponse(fake, fake.add({ durationMs: 60_000 }), opts({ signal: ac.signal }));
    await clock.advance(5000);
    ac.abort(new Error('shutdown'));
    const err = await clock.run(p).catch((e: unknown) => e);
    assert.ok(err instanceof UserAbortError);
    assert.equal(fake.calls.cancel, 0);
    assert.equal(clock.pending, 0, 'no timer left behind');
  });

  test("'cancel': cancels remotely and rejects with CancelledError", async () => {
    const { clock, fake, opts } = setup();
    const ac = new AbortController();
    const p = waitForResponse(fake, fake.add({ durationMs: 60_000 }), opts({ signal: ac.signal, abort: 'cancel' }));
    await clock.advance(5000);
    ac.abort();
    const err = await clock.run(p).catch((e: unknown) => e);
    assert.ok(err instanceof CancelledError, String(err));
    assert.equal(fake.calls.cancel, 1);
  });

  test("'cancel' that loses the race to completion resolves with the completed Response", async () => {
    const { clock, fake, opts } = setup();
    const ac = new AbortController();
    const p = waitForResponse(fake, fake.add({ durationMs: 8000, cancelLosesRace: true }), opts({ signal: ac.signal, abort: 'cancel' }));
    await clock.advance(7000);
    ac.abort();
    const res = await clock.run(p);
    assert.equal(res.status, 'completed');
    assert.equal(fake.calls.cancel, 1);
  });

  test('an already-aborted signal detaches before any request', async () => {
    const { clock, fake, opts } = setup();
    const err = await clock.run(waitForResponse(fake, fake.add(), opts({ signal: AbortSignal.abort() }))).catch((e: unknown) => e);
    assert.ok(err instanceof UserAbortError);
    assert.equal(fake.calls.retrieve, 0);
  });
});

describe('streaming', () => {
  test('createAndWait streams: every event once, in order, with deltas; no polls', async () => {
    const { clock, fake, opts } = setup();
    const progress: WaitProgress[] = [];
    const res = await clock.run(createAndWait(fake, { model: 'm', input: 'hi' }, opts({ onProgress: (p) => progress.push(p) })));
    assert.equal(res.status, 'completed');
    const seqs = progress.map((p) => p.event?.['sequence_number']);
    assert.deepEqual(seqs, [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(progress.flatMap((p) => (p.delta !== undefined ? [p.delta] : [])), ['d0', 'd1', 'd2']);
    assert.equal(fake.calls.retrieve, 0);
    const body = [...fake.jobs.values()][0]!.body;
    assert.equal(body['background'], true);
    assert.equal(body['store'], true);
    assert.equal(body['stream'], true);
  });

  test('a dropped stream resumes from the last sequence_number: no missing, no duplicated events', async () => {
    const { clock, fake, opts } = setup();
    fake.defaults = { dropAfter: [0, 2, 3], deltas: 5 };
    const progress: WaitProgress[] = [];
    const res = await clock.run(createAndWait(fake, { model: 'm' }, opts({ onProgress: (p) => progress.push(p) })));
    assert.equal(res.status, 'completed');
    assert.deepEqual(
      progress.map((p) => p.event?.['sequence_number']),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    assert.equal(fake.calls.stream, 3);
    assert.equal(progress.at(-1)?.reconnects, 3);
  });

  test("Azure's cause-less response.failed cut before its error event: the resumed stream supplies the cause", async () => {
    const { clock, fake, opts } = setup();
    // Events: created 0, in_progress 1, deltas 2-3, response.failed 4 (error: null), error 5.
    fake.defaults = { final: 'failed', error: null, deltas: 2, azureCause: { code: 'rate_limit_exceeded', message: 'Rate limit reached. Please try again in 2s.' } };
    const uncut = await clock.run(createAndWait(fake, { model: 'm' }, opts())).then(() => assert.fail('should reject'), (e: unknown) => e);
    assert.ok(uncut instanceof RateLimitError, `got ${String(uncut)}`);
    fake.defaults = { ...fake.defaults, dropAfter: [4] };
    const cut = await clock.run(createAndWait(fake, { model: 'm' }, opts())).then(() => assert.fail('should reject'), (e: unknown) => e);
    assert.ok(cut instanceof RateLimitError, `got ${String(cut)}`);
    assert.ok(FaultlineError.isInstance(cut));
    assert.equal(cut.retryAfterMs, 2000);
    assert.equal(fake.calls.stream, 1, 'one resume (the create stream was the first connection)');
  });

  test('after maxReconnects drops it falls back to polling', async () => {
    const { clock, fake, opts } = setup();
    fake.defaults = { dropAfter: [0, 1, 2, 3], deltas: 5 };
    const res = await clock.run(createAndWait(fake, { model: 'm' }, opts({ maxReconnects: 2 })));
    assert.equal(res.status, 'completed');
    assert.equal(fake.calls.stream, 2);
    assert.ok(fake.calls.retrieve >= 1);
  });

  test('"can no longer be streamed" falls back to polling', async () => {
    const { clock, fake, opts } = setup();
    const id = fake.add({ unstreamable: true });
    const res = await clock.run(waitForResponse(fake, id, opts({ stream: true })));
    assert.equal(res.status, 'completed');
    assert.equal(fake.calls.stream, 1);
    assert.ok(fake.calls.retrieve >= 1);
  });

  test('stream: false creates without streaming and polls', async () => {
    const { clock, fake, opts } = setup();
    const res = await clock.run(createAndWait(fake, { model: 'm' }, opts({ stream: false })));
    assert.equal(res.status, 'completed');
    assert.equal(fake.calls.stream, 0);
    assert.equal([...fake.jobs.values()][0]!.body['stream'], false);
  });

  test('the deadline bounds a stream too', async () => {
    const { clock, fake, opts } = setup();
    fake.defaults = { durationMs: 3_600_000 };
    const t0 = clock.now();
    const err = await clock.run(createAndWait(fake, { model: 'm' }, opts({ timeoutMs: 30_000 }))).catch((e: unknown) => e);
    assert.ok(err instanceof TimeoutError, String(err));
    assert.equal(clock.now() - t0, 30_000);
    assert.equal(clock.pending, 0);
  });
});

describe('resume tokens', () => {
  test('serialize() from progress resumes elsewhere from the cursor, keeping the deadline', async () => {
    const { clock, fake, opts } = setup();
    fake.defaults = { deltas: 5 };
    const ac = new AbortController();
    let text = '';
    const first = createAndWait(fake, { model: 'm' }, opts({ signal: ac.signal, timeoutMs: 100_000, onProgress: (p) => {
      text = p.serialize();
      if (p.event?.['sequence_number'] === 3) ac.abort();
    } }));
    const err = await clock.run(first).catch((e: unknown) => e);
    assert.ok(err instanceof UserAbortError);
    const token = parseToken(text);
    assert.equal(token.cursor, 3);
    assert.equal(token.stream, true);
    const seen: unknown[] = [];
    const res = await clock.run(waitForResponse(fake, token, { clock, onProgress: (p) => seen.push(p.event?.['sequence_number']) }));
    assert.equal(res.status, 'completed');
    assert.deepEqual(seen, [4, 5, 6, 7]);
  });

  test('parseToken rejects garbage with a TypeError', () => {
    assert.throws(() => parseToken('nope'), TypeError);
    assert.throws(() => parseToken('flt1.!!!!'), TypeError);
  });
});

describe('webhook hub', () => {
  test('a hub notification wakes a polling waiter at once', async () => {
    const { clock, fake, opts } = setup();
    const hub = createResultHub();
    const id = fake.add({ durationMs: 300_000 });
    const p = waitForResponse(fake, id, opts({ hub, minDelayMs: 20_000 }));
    await clock.advance(1000);
    fake.jobs.get(id)!.script.durationMs = 1000; // it finished early
    hub.notify(id, fake.snapshot(id));
    const res = await clock.run(p);
    assert.equal(res.status, 'completed');
    assert.ok(clock.now() < fake.jobs.get(id)!.createdAt + 20_000);
    assert.equal(hub.size, 0);
  });
});

describe('misuse', () => {
  test('no deadline → TypeError naming the options', async () => {
    const { fake } = setup();
    await assert.rejects(waitForResponse(fake, 'resp_1', {} as WaitOptions), /timeoutMs.*deadline/);
  });
  test('bad options → RangeError/TypeError naming the option', async () => {
    const { fake, opts } = setup();
    await assert.rejects(waitForResponse(fake, 'resp_1', opts({ minDelayMs: -1 })), /minDelayMs/);
    await assert.rejects(waitForResponse(fake, 'resp_1', opts({ minDelayMs: 10, maxDelayMs: 5 })), /maxDelayMs/);
    await assert.rejects(waitForResponse(fake, 'resp_1', opts({ abort: 'explode' as 'cancel' })), /^RangeError: waitForResponse: options\.abort must be one of "detach", "cancel", got "explode"$/);
    await assert.rejects(waitForResponse({} as never, 'resp_1', opts()), /client/);
    // Renamed before 1.0: the old key fails at once, naming the new one.
    await assert.rejects(waitForResponse(fake, 'resp_1', opts({ onAbort: 'cancel' } as never)), /^TypeError: waitForResponse: options\.onAbort was renamed to options\.abort \(0\.2\.0\)$/);
    await assert.rejects(createAndWait(fake, { model: 'm' }, opts({ now: () => 0 } as never)), /^TypeError: createAndWait: options\.now was renamed to options\.clock \(0\.2\.0\)$/);
    await assert.rejects(waitForResponse(fake, 'resp_1', opts({ sleep: async () => {} } as never)), /^TypeError: waitForResponse: options\.sleep was renamed to options\.clock/);
    await assert.rejects(waitForResponse(fake, 'resp_1', opts({ jitter: 1.5 })), /^RangeError: waitForResponse: options\.jitter must be a number in \[0, 1\], got 1\.5$/);
    await assert.rejects(waitForResponse(fake, 'resp_1', opts({ clock: Date } as never)), /^TypeError: waitForResponse: options\.clock/);
    await assert.rejects(waitForResponse(fake, '', opts()), /id/);
    await assert.rejects(createAndWait(fake, { model: 'm', background: false }, opts()), /background/);
  });
});
