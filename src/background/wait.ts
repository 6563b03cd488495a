/**
 * Waiting for background Responses: `waitForResponse` and `createAndWait`.
 *
 * Each wait runs the one loop (`loop.ts`) on a Responses source (`responses.ts`), then, beside it,
 * follows another process's journal when the lease was lost (`follow.ts`) and cancels the job when the
 * caller aborted with `abort: 'cancel'` (`cancel.ts`). {@link settle} turns the outcome into the
 * Response or the typed error: exceptions carry failures at this edge only. Everything is bounded by one
 * overall deadline, cancellable by an `AbortSignal`, and driven by an injectable clock.
 */
import { detectFailure, classify } from '../core/classify/index.ts';
import { assertSucceeded, toError, type FaultlineError } from '../core/errors.ts';
import type { HeldElsewhere } from '../internal/journal-port.ts';
import { misuse } from '../internal/options.ts';
import { observeWait } from '../internal/telemetry.ts';
import { cancelOnAbort } from './cancel.ts';
import { followJournal } from './follow.ts';
import { pollErrorOutcome, runLoop, type LoopRules, type WaitOutcome } from './loop.ts';
import { completionWindowMs, makeError, resolveOptions, windowedPace, type Resolved, type WaitOptions } from './options.ts';
import { pollPolicyOf } from './poll-backoff.ts';
import { ResponsesSource, type Start } from './responses.ts';
import { openStream, type StreamAnswer } from './stream-follow.ts';
import { isWaitToken, type WaitToken } from './token.ts';
import type { JournalLink } from '../internal/journal-port.ts';
import { isResponseLike, isTerminal, withOutputText, type BackgroundResponse, type ResponsesClient } from './types.ts';

export { completionWindowMs, makeError, resolveOptions, windowedPace, WINDOW_MAX_DELAY_MS } from './options.ts';
export type { Resolved, WaitOptions, WaitProgress } from './options.ts';

/** Create params for {@link createAndWait}: anything `client.responses.create` accepts. */
export type CreateParams = Record<string, unknown> & { readonly metadata?: Readonly<Record<string, string>> | null };

/** The metadata key faultline adds so an orphaned create can be matched to its journal row. */
export const JOB_METADATA_KEY = 'faultline_job';

function assertClient(client: unknown, fn: string): asserts client is ResponsesClient {
  const r = typeof client === 'object' && client !== null ? (client as { responses?: unknown }).responses : undefined;
  if (typeof r !== 'object' || r === null || typeof (r as { retrieve?: unknown }).retrieve !== 'function') {
    throw misuse('type', fn, '#client', 'an OpenAI client (with client.responses.retrieve)', client);
  }
}

/** The holder of a lease as `host:pid` (an owner name of the default form), never more. */
function holderOf(held: HeldElsewhere): string {
  return held.heldBy === undefined ? 'unknown holder' : held.heldBy.split(':').slice(0, 2).join(':');
}

/**
 * The delay before retrying a failed poll, or throws the typed error that ends the wait (the
 * rule is {@link pollErrorOutcome}; this form is for callers that want a number or a throw).
 */
export function afterPollError(error: unknown, r: LoopRules, s: { seen: boolean; id: string | undefined; what: string; attempt: number }): number {
  const next = pollErrorOutcome(error, r, s);
  if (typeof next === 'number') return next;
  throw (next as { error: FaultlineError }).error;
}

function startFrom(idOrResponse: unknown, fn: string): Start {
  if (typeof idOrResponse === 'string') {
    if (idOrResponse === '') throw misuse('type', fn, '#idOrResponse', 'a non-empty response id', idOrResponse);
    return { id: idOrResponse, streamCapable: false };
  }
  if (isWaitToken(idOrResponse)) {
    return {
      id: idOrResponse.id,
      streamCapable: idOrResponse.stream,
      ...(idOrResponse.cursor !== undefined ? { cursor: idOrResponse.cursor } : {}),
      ...(idOrResponse.createdAtMs !== undefined ? { createdAtMs: idOrResponse.createdAtMs } : {}),
    };
  }
  if (isResponseLike(idOrResponse)) {
    const created = idOrResponse.created_at;
    return {
      id: idOrResponse.id,
      snapshot: idOrResponse,
      streamCapable: false,
      ...(typeof created === 'number' ? { createdAtMs: created * 1000 } : {}),
    };
  }
  throw misuse('type', fn, '#idOrResponse', 'a response id, a Response object, or a resume token (parseToken(text))', idOrResponse);
}

/**
 * Run the loop on `source`, then follow the journal if the lease went elsewhere, then cancel if the
 * caller aborted with `abort: 'cancel'`. Returns the outcome and whether a cancel was sent.
 */
async function outcomeOf(source: ResponsesSource, start: Start, r: Resolved, link: JournalLink | null): Promise<{ outcome: WaitOutcome<BackgroundResponse>; cancelled: boolean }> {
  const stop = source.listen();
  try {
    let outcome: WaitOutcome<BackgroundResponse>;
    if (start.snapshot !== undefined) await source.see(start.snapshot, 'create');
    if (start.snapshot !== undefined && isTerminal(start.snapshot)) outcome = { kind: 'result', value: start.snapshot };
    else outcome = await runLoop(source, r, source.wakeup);
    if (outcome.kind === 'leaseLost' && link !== null) outcome = await followJournal(link, source, r, source.startFollow());
    if (outcome.kind !== 'aborted' || r.abort !== 'cancel' || source.id === undefined) return { outcome, cancelled: false };
    return { outcome: await cancelOnAbort(source, r), cancelled: true };
  } finally {
    stop();
  }
}

/** The terminal Response of an outcome, or the typed error that ends the wait. */
function resultOf(o: { outcome: WaitOutcome<BackgroundResponse>; cancelled: boolean }, source: ResponsesSource, r: Resolved): BackgroundResponse {
  const { outcome } = o;
  const id = source.id;
  if (outcome.kind === 'result' || outcome.kind === 'followed') return outcome.value;
  // After a cancel, anything but the final state means it could not be read in time.
  if (o.cancelled) throw makeError('aborted', `Asked to cancel background response ${id ?? ''}, but its final state could not be read before the deadline.`, { cause: r.signal?.reason, objectId: id });
  if (outcome.kind === 'aborted') {
    throw makeError('aborted', `Stopped waiting for background response ${id ?? '(id not yet known)'}: the job was detached and keeps running on the server.`, { cause: outcome.reason, objectId: id });
  }
  // leaseLost is not reached (a lease is only lost through a link, and then the journal is followed).
  if (outcome.kind === 'deadline' || outcome.kind === 'leaseLost') {
    const waited = r.clock.now() - r.startedAt;
    throw makeError('timeout', `Gave up waiting for background response ${id ?? '(id not yet known)'} after ${waited} ms (deadline reached); it was still ${source.status ?? 'unknown'} and keeps running on the server.`, { objectId: id });
  }
  throw outcome.error;
}

/** Wait on `start`, record the end in the journal, and return the asserted Response (or throw its error). */
async function settle(client: ResponsesClient, start: Start, r: Resolved, link: JournalLink | null): Promise<BackgroundResponse> {
  const source = new ResponsesSource(client, r, start, link);
  let final: BackgroundResponse;
  try {
    // The one place a Responses wait's outcome is known (a value: see loop.ts WaitOutcome).
    const ended = await outcomeOf(source, start, r, link);
    final = resultOf(ended, source, r);
  } catch (error) {
    if (link !== null) {
      const code = (error as { code?: unknown }).code;
      if (code === 'expired' || code === 'not_found') await link.finish({ kind: 'lost', reason: String(code) });
      else await link.finish({ kind: 'detached' });
    }
    throw error;
  }
  await link?.finish({ kind: 'result' });
  const opts = r.options;
  return assertSucceeded(withOutputText(final), {
    now: r.clock.now(),
    ...(opts.incomplete !== undefined ? { incomplete: opts.incomplete } : {}),
    ...(opts.onIncomplete !== undefined ? { onIncomplete: opts.onIncomplete } : {}),
  });
}

/**
 * Wait for a background Response to finish.
 *
 * Resolves with the completed Response. A `failed`, `cancelled` or `incomplete` Response rejects with
 * the catalog's typed error (`RateLimitError`, `CancelledError`, `MaxOutputTokensError`, ...), the
 * Response with its partial output on `error.response`. A deadline rejects with `TimeoutError`, an abort
 * with `UserAbortError` (the job keeps running unless `abort: 'cancel'`), a Response gone after its
 * retention with `ExpiredError`.
 *
 * @param idOrResponse a `resp_…` id, the Response returned by `create`, or a resume token from
 *   `parseToken(progress.serialize())`.
 * @example
 * const response = await waitForResponse(client, created, { timeoutMs: 10 * 60_000 });
 */
export function waitForResponse<R extends BackgroundResponse = BackgroundResponse>(
  client: ResponsesClient,
  idOrResponse: string | BackgroundResponse | WaitToken,
  options: WaitOptions,
): Promise<R> {
  return observeWait({ operation: 'waitForResponse', kind: 'response', target: idOrResponse }, () => waitForResponseNow<R>(client, idOrResponse, options));
}

async function waitForResponseNow<R extends BackgroundResponse>(client: ResponsesClient, idOrResponse: string | BackgroundResponse | WaitToken, options: WaitOptions): Promise<R> {
  const fn = 'waitForResponse';
  assertClient(client, fn);
  const start = startFrom(idOrResponse, fn);
  const r = resolveOptions(options, isWaitToken(idOrResponse) ? idOrResponse.deadlineAt : undefined, fn);
  let link: JournalLink | null = null;
  if (r.journal !== undefined) {
    const tracked = await r.journal.track({
      key: r.options.jobKey ?? (start.id as string),
      kind: 'response',
      objectId: start.id as string,
      stream: start.streamCapable,
      deadlineAt: r.deadlineAt,
      ...(r.signal !== undefined ? { signal: r.signal } : {}),
    });
    // Another live process follows this job: an operational condition, not misuse (a ConflictError).
    if ('heldBy' in tracked) {
      throw makeError('conflict', `${fn}: the journal lease of ${start.id as string} is held by another live process (${holderOf(tracked)}), which follows it; use journal.resumeAll() to share the work.`, { objectId: start.id });
    }
    link = tracked;
  }
  return (await settle(client, start, r, link)) as R;
}

/**
 * For the journal's `resumeAll`, which has already taken the lease and resolved the options
 * once for all its jobs (one deadline): wait on `link`. `windowed`: the job has a completion window, so
 * healthy polls are paced for hours.
 */
export async function waitLinked(client: ResponsesClient, token: WaitToken, r: Resolved, link: JournalLink, windowed = false): Promise<BackgroundResponse> {
  assertClient(client, 'resumeAll');
  const start = startFrom(token, 'resumeAll');
  const job: Resolved = { ...r, startedAt: r.clock.now(), ...(windowed ? { policy: pollPolicyOf('resumeAll', windowedPace(r.options)) } : {}) };
  return observeWait({ operation: 'resumeAll', kind: 'response', target: token }, () => settle(client, start, job, link));
}

/**
 * A job key the journal already knows names that job: wait for it (or read its recorded outcome), never
 * create it again. An orphan (its create was sent, its id never seen) cannot be waited for by id: refused.
 */
async function adopt(client: ResponsesClient, r: Resolved, link: JournalLink, fn: string): Promise<BackgroundResponse> {
  const lease = (link.mode ?? 'lease') === 'lease';
  if (lease && (link.state === 'terminal' || link.state === 'delivering' || link.state === 'lost')) {
    // The outcome is in the journal already (a process died before delivering it): deliver it from there,
    // no request (the server may no longer hold it).
    const bound = new AbortController();
    const timer = r.clock.sleep(Math.max(0, r.deadlineAt - r.clock.now()), bound.signal).then(() => bound.abort());
    const recorded = await link.awaitRecorded(bound.signal);
    bound.abort();
    await timer;
    if (recorded !== undefined && 'result' in recorded && isResponseLike(recorded.result)) {
      const start: Start = { id: recorded.result.id, snapshot: recorded.result, streamCapable: false };
      return settle(client, start, r, link);
    }
    const reason = recorded !== undefined && 'lost' in recorded ? recorded.lost : 'no result was recorded';
    await link.finish({ kind: 'lost', reason });
    throw makeError('expired', `${fn}: job key ${link.key} names a job that was lost (${reason}); it is not created again.`, { objectId: link.objectId });
  }
  if (link.objectId === undefined && lease) {
    await link.finish({ kind: 'detached' });
    throw makeError(
      'conflict',
      `${fn}: job key ${link.key} names a job whose create was sent but whose id was never seen (an orphan, left by a process that stopped). It is not created again: its webhook (metadata.${JOB_METADATA_KEY}) recovers it, or journal.resumeAll() delivers it as lost after orphanAfterMs. Pass a new jobKey to create a new job.`,
      {},
    );
  }
  const start: Start = { id: link.objectId, streamCapable: link.stream ?? false, ...(link.cursor !== undefined ? { cursor: link.cursor } : {}) };
  return settle(client, start, r, link);
}

/**
 * Create a Response with `background: true` (and `store: true` unless `params.store` says otherwise),
 * journal its id before anything else, and wait for it like {@link waitForResponse}.
 *
 * With `stream` `'auto'` (the default) or `true` the Response is created with `stream: true` and followed
 * on that stream, resumed from the last `sequence_number` if it drops.
 *
 * With a `journal`, a `jobKey` names one job, and a job is paid for once: when the key is already in the
 * journal, no create is sent. A job with a known id (say, left `pending` by a process that died) is
 * adopted: this call waits for that id and resolves with its result (or, when the outcome is journaled
 * but was never delivered, delivers it and settles with it, without a request). A job already delivered settles with
 * its recorded outcome, without a request (a lost one rejects with `ExpiredError`). A job another wait of
 * this process follows is joined: this call settles with the outcome that one records, or takes the job
 * over if that one ends without it (aborted, or its deadline passed). A job whose create was sent
 * but whose id was never seen (an orphan) rejects with a `ConflictError` (code `conflict`): its webhook or
 * the journal's orphan rule settles it; pass a new `jobKey` for a new job. A key leased by another live
 * process also rejects with `ConflictError`. The `params` of such a call are not compared with the
 * original's: the key decides.
 *
 * A create with `background_options.completion_window` (flex and hours-long windows: `'soonest'`, `'2h'`,
 * `'8h'`) is never streamed, since the API streams none of those (`stream: true` is refused with a
 * `TypeError` before anything is sent): it is created with `stream: false` and polled, healthy polls up to
 * 5 minutes apart unless `maxDelayMs` is given. The journal keeps its row for the whole window: an orphan
 * of it (create sent, id never seen) is declared lost only `orphanAfterMs` after the window ends
 * (`'soonest'` and values not of the form `<n>h` count as 8 hours), so its webhook can still recover it.
 *
 * The key goes to the journal (state `creating`) and into `metadata.faultline_job` before the create is
 * sent, and the id is journaled from the first thing the server answers (the first stream event, or the
 * JSON body); no earlier byte carries it. A process killed between those two points leaves an orphan
 * that only its webhook can name.
 */
export function createAndWait<R extends BackgroundResponse = BackgroundResponse>(
  client: ResponsesClient,
  params: CreateParams,
  options: WaitOptions,
): Promise<R> {
  return observeWait({ operation: 'createAndWait', kind: 'response', target: params }, () => createAndWaitNow<R>(client, params, options));
}

async function createAndWaitNow<R extends BackgroundResponse>(client: ResponsesClient, params: CreateParams, options: WaitOptions): Promise<R> {
  const fn = 'createAndWait';
  assertClient(client, fn);
  if (typeof params !== 'object' || params === null) throw misuse('type', fn, '#params', 'the create request body (an object)', params);
  if (params['background'] === false) throw misuse('range', fn, '#params.background', 'true or absent (createAndWait creates background responses)', false);
  // A flex / long-window job is background only and cannot be streamed: poll it at a pace that fits hours.
  const windowMs = completionWindowMs(params);
  if (windowMs !== undefined && (params['stream'] === true || (options as WaitOptions | undefined)?.stream === true)) {
    throw misuse('type', fn, params['stream'] === true ? '#params.stream' : 'stream', 'false or absent for a job with background_options.completion_window (the API streams none of those)', true);
  }
  const r = resolveOptions(windowMs !== undefined && typeof options === 'object' && options !== null ? windowedPace(options) : options, undefined, fn);
  const stream = windowMs === undefined && params['stream'] !== false && r.stream !== false;
  const journal = r.journal;
  const key = r.options.jobKey ?? (journal !== undefined ? crypto.randomUUID() : undefined);
  const body: Record<string, unknown> = { ...params, background: true, store: params['store'] ?? true, stream };
  if (key !== undefined) body['metadata'] = { ...(params.metadata ?? {}), [JOB_METADATA_KEY]: key };

  let link: JournalLink | null = null;
  if (journal !== undefined) {
    const tracked = await journal.track({
      key: key as string,
      kind: 'response',
      stream,
      deadlineAt: r.deadlineAt,
      ...(windowMs !== undefined ? { windowMs } : {}),
      ...(r.signal !== undefined ? { signal: r.signal } : {}),
    });
    if ('heldBy' in tracked) {
      throw makeError('conflict', `${fn}: job key ${key as string} is followed by another live process (${holderOf(tracked)}, it holds the journal lease); no second create was sent. Its outcome reaches the journal's handler; retry after its lease lapses to adopt it.`, {});
    }
    link = tracked;
    if (link.isNew === false) return (await adopt(client, r, link, fn)) as R;
  }
  const controller = new AbortController();
  const onAbort = (): void => controller.abort();
  r.signal?.addEventListener('abort', onAbort);
  let answer: StreamAnswer;
  try {
    const call = client.responses.create(body, { signal: controller.signal, maxRetries: 0, timeout: Math.max(1, Math.min(r.requestTimeoutMs, r.deadlineAt - r.clock.now())) });
    answer = stream ? await openStream(call) : { kind: 'body', body: await call };
  } catch (error) {
    r.signal?.removeEventListener('abort', onAbort);
    const failure = classify(error, { now: r.clock.now() });
    // A definite rejection (an HTTP status below 500) created nothing. A timeout, reset or 5xx may have
    // created the job: the row stays `creating` so a webhook can recover it (or resumeAll marks it lost).
    if (link !== null) {
      if (failure.status !== undefined && failure.status < 500) await link.finish({ kind: 'lost', reason: `create_rejected:${failure.code}` });
      else await link.finish({ kind: 'detached' });
    }
    throw r.signal?.aborted === true ? makeError('aborted', 'Aborted while creating the background response; it may have been created (the journal keeps it as an orphan).', { cause: error }) : toError(error);
  }
  r.signal?.removeEventListener('abort', onAbort);
  let start: Start;
  if (answer.kind === 'body' && isResponseLike(answer.body)) {
    await link?.attachId(answer.body.id);
    // Asked to stream, answered with the Response as plain JSON: a server that does not stream. Poll.
    start = { ...startFrom(answer.body, fn), streamCapable: false, ...(stream ? { pollOnly: true } : {}) };
  } else if (answer.kind === 'stream') {
    start = { id: undefined, streamCapable: true, initial: { events: answer.events, controller } };
  } else {
    // No id to follow: the row stays `creating` (an orphan a webhook can still recover).
    if (link !== null) await link.finish({ kind: 'detached' });
    if (typeof answer.body === 'object' && answer.body !== null && detectFailure(answer.body) !== null) throw toError(answer.body, { response: answer.body });
    throw makeError('unknown', 'responses.create answered neither a Response nor a stream.', { response: answer.body });
  }
  return (await settle(client, start, r, link)) as R;
}
