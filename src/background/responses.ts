/**
 * The Responses {@link JobSource}: one background Response, read by polling `responses.retrieve` or by
 * following its event stream (`stream-follow.ts`), with webhook news from a hub and a journal link.
 *
 * Streams when it can, polls when it must. A Response created with `stream: true` is followed event by
 * event and resumed from the last `sequence_number` after a cut; on a stream error, "can no longer be
 * streamed", or too many reconnects, it falls back to polling, paced by `poll-backoff.ts`.
 */
import { isRetryableFailure } from '../core/catalog.ts';
import { classify, detectFailure } from '../core/classify/index.ts';
import type { FaultlineError } from '../core/errors.ts';
import type { CancellableSource } from './cancel.ts';
import type { FollowedSource } from './follow.ts';
import { NOW, Wakeup, type Step, type WaitOutcome } from './loop.ts';
import { makeError, type Resolved } from './options.ts';
import { errorDelay, pollDelay } from './poll-backoff.ts';
import { noteWait, telemetry } from '../internal/telemetry.ts';
import { followStream, openStream, type StreamAnswer, type StreamAttempt, type StreamCursor } from './stream-follow.ts';
import { serializeToken, type WaitToken } from './token.ts';
import { isResponseLike, isTerminal, withOutputText, type BackgroundResponse, type CallOptions, type ProgressSource, type ResponsesClient } from './types.ts';
import type { JournalLink } from '../internal/journal-port.ts';

/** Where a wait starts from. */
export interface Start {
  id: string | undefined;
  snapshot?: BackgroundResponse;
  streamCapable: boolean;
  cursor?: number;
  createdAtMs?: number;
  /** A stream already open (the create call's own stream), with the controller that aborts it. */
  initial?: { events: AsyncIterable<unknown>; controller: AbortController };
  /** The server answered `stream: true` with a plain body: it does not stream, so poll whatever `stream` says. */
  pollOnly?: boolean;
}

/** Read `openai-poll-after-ms`, the hint OpenAI's own pollers honour, from an SDK `withResponse()`. */
function pollAfterHint(headers: unknown): number | undefined {
  const get = typeof headers === 'object' && headers !== null ? (headers as { get?: unknown }).get : undefined;
  if (typeof get !== 'function') return undefined;
  const raw: unknown = get.call(headers, 'openai-poll-after-ms');
  const n = typeof raw === 'string' ? Number(raw) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * What a wake-up may be for: `'lease'` (following the job ourselves: the caller's abort, webhook news, a
 * lost lease), `'follow'` (reading another process's journal: abort, news), `'cancel'` (reading the job
 * after a cancel: news only).
 */
type Phase = 'lease' | 'follow' | 'cancel';

export class ResponsesSource implements CancellableSource<BackgroundResponse>, FollowedSource<BackgroundResponse> {
  readonly what = 'Background response';
  readonly wakeup: Wakeup;
  readonly #client: ResponsesClient;
  readonly #r: Resolved;
  readonly #link: JournalLink | null;
  #id: string | undefined;
  readonly #streamCapable: boolean;
  readonly #cursor: StreamCursor;
  #streamMode: boolean;
  #initial: Start['initial'];
  #createdAtMs: number | undefined;
  #status: string | undefined;
  #last: BackgroundResponse | undefined;
  #phase: Phase = 'lease';
  #polls = 0;
  #reconnects = 0;
  #seenOnServer = false;
  #news: { object: unknown } | undefined;
  #unsubscribe: (() => void) | undefined;
  readonly #ring = (): void => this.wakeup.ring();

  constructor(client: ResponsesClient, r: Resolved, start: Start, link: JournalLink | null) {
    this.#client = client;
    this.#r = r;
    this.#link = link;
    this.#id = start.id;
    this.#streamCapable = start.streamCapable;
    this.#cursor = { cursor: start.cursor ?? link?.cursor };
    this.#createdAtMs = start.createdAtMs;
    this.#status = start.snapshot?.status ?? undefined;
    this.#initial = start.initial;
    this.#streamMode = start.pollOnly !== true && (start.initial !== undefined || r.stream === true || (r.stream === 'auto' && start.streamCapable));
    this.wakeup = new Wakeup(
      () =>
        this.#news !== undefined ||
        (this.#phase !== 'cancel' && r.signal?.aborted === true) ||
        (this.#phase === 'lease' && this.#link?.leaseLost.aborted === true),
    );
  }

  get id(): string | undefined {
    return this.#id;
  }

  get seen(): boolean {
    return this.#seenOnServer;
  }

  get last(): BackgroundResponse | undefined {
    return this.#last;
  }

  get status(): string | undefined {
    return this.#status;
  }

  get token(): WaitToken {
    return {
      v: 1,
      id: this.#id ?? '',
      stream: this.#streamCapable,
      deadlineAt: this.#r.deadlineAt,
      ...(this.#cursor.cursor !== undefined ? { cursor: this.#cursor.cursor } : {}),
      ...(this.#createdAtMs !== undefined ? { createdAtMs: this.#createdAtMs } : {}),
    };
  }

  /** Start listening (abort, lost lease, hub); returns the function that stops. */
  listen(): () => void {
    this.#r.signal?.addEventListener('abort', this.#ring);
    this.#link?.leaseLost.addEventListener('abort', this.#ring);
    this.#subscribe();
    return () => {
      this.#r.signal?.removeEventListener('abort', this.#ring);
      this.#link?.leaseLost.removeEventListener('abort', this.#ring);
      this.#unsubscribe?.();
    };
  }

  #subscribe(): void {
    if (this.#id === undefined || this.#unsubscribe !== undefined || this.#r.options.hub === undefined) return;
    this.#unsubscribe = this.#r.options.hub.subscribe(this.#id, (object) => {
      this.#news = { object };
      this.wakeup.ring();
    });
  }

  #callOptions(signal: AbortSignal, bounded: boolean): CallOptions {
    const left = Math.max(1, this.#r.deadlineAt - this.#r.clock.now());
    return bounded ? { signal, maxRetries: 0, timeout: Math.min(this.#r.requestTimeoutMs, left) } : { signal, maxRetries: 0 };
  }

  #progress(source: ProgressSource, extra: { response?: BackgroundResponse; event?: Record<string, unknown> }): void {
    const cb = this.#r.options.onProgress;
    if (cb === undefined || this.#id === undefined) return;
    const token = this.token;
    const delta = extra.event?.['type'] === 'response.output_text.delta' && typeof extra.event['delta'] === 'string' ? extra.event['delta'] : undefined;
    cb({
      id: this.#id,
      status: this.#status,
      source,
      polls: this.#polls,
      reconnects: this.#reconnects,
      token,
      serialize: () => serializeToken(token),
      ...(extra.response !== undefined ? { response: extra.response } : {}),
      ...(extra.event !== undefined ? { event: extra.event } : {}),
      ...(delta !== undefined ? { delta } : {}),
    });
  }

  /** Take in a Response snapshot (from a poll, a stream event that embeds one, a webhook or create). */
  async see(response: BackgroundResponse, source: ProgressSource, event?: Record<string, unknown>): Promise<void> {
    if (this.#id === undefined) {
      this.#id = response.id;
      // Before anything else: the id goes to the journal.
      await this.#link?.attachId(response.id);
      this.#subscribe();
    }
    this.#seenOnServer = true;
    this.#last = response;
    if (typeof response.status === 'string') this.#status = response.status;
    if (telemetry.active) noteWait({ source, status: this.#status });
    if (this.#createdAtMs === undefined && typeof response.created_at === 'number') this.#createdAtMs = response.created_at * 1000;
    if (event !== undefined && this.#cursor.cursor !== undefined) await this.#link?.setCursor(this.#cursor.cursor);
    if (isTerminal(response)) await this.#link?.recordTerminal(withOutputText(response), detectFailure(response)?.code);
    this.#progress(source, event !== undefined ? { response, event } : { response });
  }

  takeNews(): BackgroundResponse | undefined {
    if (this.#news === undefined) return undefined;
    const { object } = this.#news;
    this.#news = undefined;
    return isTerminal(object) && object.id === this.#id ? object : undefined;
  }

  isFinal(value: unknown): value is BackgroundResponse {
    return isTerminal(value);
  }

  lostError(reason: string): FaultlineError {
    return makeError('expired', `Background response ${this.#id ?? ''} was marked lost in the journal by the wait that follows it (${reason}).`, { objectId: this.#id });
  }

  /** Webhook news of the end, or a lease lost to another process (unless this wait is cancelling). */
  async interrupt(): Promise<WaitOutcome<BackgroundResponse> | undefined> {
    const news = this.takeNews();
    if (news !== undefined) {
      await this.see(news, 'webhook');
      return { kind: 'result', value: news };
    }
    if (this.#phase === 'lease' && this.#link?.leaseLost.aborted === true) return { kind: 'leaseLost' };
    return undefined;
  }

  /** Another process holds the job now: from here on, wake-ups are for the abort and webhook news only. */
  startFollow(): Wakeup {
    this.#phase = 'follow';
    return this.wakeup;
  }

  startCancel(): Wakeup {
    this.#phase = 'cancel';
    this.#streamMode = false;
    return this.wakeup;
  }

  cancel(signal: AbortSignal): PromiseLike<unknown> {
    return this.#client.responses.cancel(this.#id as string, this.#callOptions(signal, true));
  }

  async step(wakeup: Wakeup): Promise<Step<BackgroundResponse>> {
    if (!this.#streamMode || (this.#id === undefined && this.#initial === undefined)) return this.#poll(wakeup);
    const attempt = await this.#streamAttempt(this.#initial, wakeup);
    this.#initial = undefined;
    if (attempt.kind === 'terminal') return { kind: 'terminal', value: attempt.response };
    if (attempt.kind === 'stopped') return NOW; // the loop decides why
    if (this.#id === undefined) {
      // The create stream broke before it named the id: nothing to resume or poll.
      const error = makeError('connection_error', 'The create stream ended before the response id was seen; the job may be running (an orphan: the journal recovers it by webhook or marks it lost).', {
        cause: attempt.error,
      });
      return { kind: 'end', outcome: { kind: 'failed', error } };
    }
    if (attempt.kind === 'unstreamable') {
      this.#streamMode = false;
      return NOW;
    }
    this.#reconnects++;
    if (this.#reconnects > this.#r.maxReconnects) {
      this.#streamMode = false;
      return NOW;
    }
    // The first reconnect is immediate; a stream that keeps dropping backs off.
    if (this.#reconnects > 1) return { kind: 'again', delayMs: errorDelay(this.#r.policy, this.#reconnects - 1, this.#r.random()), healthy: false };
    return NOW;
  }

  /** One poll, or (after a cancel) one read that only looks for the final state. */
  async #poll(wakeup: Wakeup): Promise<Step<BackgroundResponse>> {
    const id = this.#id as string;
    const wake = wakeup.next();
    if (wake.aborted) return NOW;
    this.#polls++;
    let result: unknown;
    let hint: number | undefined;
    try {
      const promise = this.#client.responses.retrieve(id, undefined, this.#callOptions(wake, true)) as PromiseLike<unknown> & { withResponse?: () => Promise<{ data: unknown; response: { headers?: unknown } }> };
      if (typeof promise.withResponse === 'function') {
        const { data, response } = await promise.withResponse();
        result = data;
        hint = pollAfterHint(response.headers);
      } else {
        result = await promise;
      }
    } catch (error) {
      if (wake.aborted) return NOW;
      return { kind: 'error', error };
    }
    if (!isResponseLike(result) || typeof result.status !== 'string') {
      // Bad data from the wire is a transient failure, never a crash.
      return { kind: 'error', error: makeError('unknown', 'A poll returned something that is not a Response object.', { objectId: id }) };
    }
    // After a cancel, only the final state counts, read every minDelayMs (a cancel takes effect quickly).
    if (this.#phase === 'cancel' && !isTerminal(result)) return { kind: 'again', delayMs: this.#r.policy.minDelayMs, healthy: false };
    await this.see(result, 'poll');
    if (isTerminal(result)) return { kind: 'terminal', value: result };
    const age = this.#createdAtMs !== undefined ? this.#r.clock.now() - this.#createdAtMs : this.#r.clock.now() - this.#r.startedAt;
    return { kind: 'again', delayMs: pollDelay(this.#r.policy, age, this.#r.random(), hint), healthy: true };
  }

  /** One stream attempt: the create's own stream, or a resume with `starting_after`. */
  async #streamAttempt(initial: Start['initial'], wakeup: Wakeup): Promise<StreamAttempt> {
    const controller = initial?.controller ?? new AbortController();
    wakeup.next(controller);
    if (controller.signal.aborted) return { kind: 'stopped' };
    // The deadline bounds the whole stream; the idle timeout, each silence in it (keep-alives are no events).
    const deadlineTimer = this.#r.clock.sleep(Math.max(0, this.#r.deadlineAt - this.#r.clock.now()), controller.signal).then(() => controller.abort());
    const idle = this.#watchIdle(controller);
    // Stopped by the idle timeout: a dropped stream (resumed, and counted as a reconnect).
    const stopped = (): StreamAttempt =>
      idle.fired ? { kind: 'dropped', error: makeError('timeout', `No stream event for ${this.#r.streamIdleTimeoutMs} ms (streamIdleTimeoutMs).`, { objectId: this.#id }) } : { kind: 'stopped' };
    try {
      let events: AsyncIterable<unknown>;
      if (initial !== undefined) {
        events = initial.events;
      } else {
        const query: Record<string, unknown> = { stream: true };
        if (this.#cursor.cursor !== undefined) query['starting_after'] = this.#cursor.cursor;
        let answer: StreamAnswer;
        try {
          answer = await openStream(this.#client.responses.retrieve(this.#id as string, query, this.#callOptions(controller.signal, false)));
        } catch (error) {
          if (controller.signal.aborted) return stopped();
          const f = classify(error);
          if (isRetryableFailure(f)) return { kind: 'dropped', error };
          return { kind: 'unstreamable', error };
        }
        if (answer.kind === 'body') {
          // The server ignored stream=true and sent the Response itself: a snapshot; poll from here on.
          if (isResponseLike(answer.body) && typeof answer.body.status === 'string') {
            await this.see(answer.body, 'poll');
            if (isTerminal(answer.body)) return { kind: 'terminal', response: answer.body };
          }
          return { kind: 'unstreamable', error: makeError('unknown', 'A stream request did not return a stream.', { objectId: this.#id, response: answer.body }) };
        }
        events = answer.events;
      }
      const attempt = await followStream(events, this.#cursor, controller.signal, async (event) => {
        idle.seen();
        const response = event['response'];
        if (isResponseLike(response)) {
          await this.see(response, 'stream', event);
        } else {
          if (this.#cursor.cursor !== undefined) await this.#link?.setCursor(this.#cursor.cursor);
          this.#progress('stream', { event });
        }
      });
      return attempt.kind === 'stopped' ? stopped() : attempt;
    } finally {
      controller.abort();
      await Promise.all([deadlineTimer, idle.done]);
    }
  }

  /** Abort `controller` once no event came for `streamIdleTimeoutMs`; `seen()` marks an event. */
  #watchIdle(controller: AbortController): { fired: boolean; seen: () => void; done: Promise<void> } {
    const clock = this.#r.clock;
    const state = { fired: false, seen: () => void (last = clock.now()), done: Promise.resolve() };
    let last = clock.now();
    state.done = (async () => {
      while (!controller.signal.aborted) {
        const left = last + this.#r.streamIdleTimeoutMs - clock.now();
        if (left <= 0) {
          state.fired = true;
          controller.abort();
          return;
        }
        await clock.sleep(left, controller.signal);
      }
    })();
    return state;
  }
}
