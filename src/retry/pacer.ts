/**
 * The executor of a {@link RateLimiter}'s decisions: requests wait in one FIFO queue (a retry keeps its
 * original place), the head waits until the limiter says "now", and any news (an answer's headers, a
 * 429, a limit learned) wakes the queue to decide again.
 */
import { sleepFor, type Clock } from '../internal/clock.ts';
import { abortReason } from '../internal/abort.ts';
import type { Grant, RateLimiter } from './limiter.ts';
import type { BudgetDecision, BudgetGrant, SharedBudget } from './budget.ts';
import type { RateLimitHeaders } from './headers.ts';
import { RetryTimeSpent } from '../core/retry-error.ts';

interface Waiter {
  readonly order: number;
  readonly tokens: number;
  /** The latest time this request may be sent (its `maxRetryTimeMs` ends then), epoch ms. */
  readonly deadlineAt: number;
  readonly resolve: (grant: Grant) => void;
  readonly reject: (reason: unknown) => void;
}

/** @internal */
export class Pacer {
  readonly limiter: RateLimiter;
  readonly #clock: Clock;
  readonly #line = new Line<Waiter>(() => void this.#pump(), true);

  constructor(limiter: RateLimiter, clock: Clock) {
    this.limiter = limiter;
    this.#clock = clock;
  }

  /**
   * Waits for this request's turn and returns its grant. `order` is its first arrival (retries keep it).
   * Rejects with a {@link RetryTimeSpent} as soon as the turn is known to come after `deadlineAt`.
   */
  turn(tokens: number, order: number, signal?: AbortSignal, deadlineAt = Infinity): Promise<Grant> {
    const now = this.now(tokens, signal);
    if (now !== undefined) return Promise.resolve(now);
    return this.#line.enter<Grant>(signal, (resolve, reject) => ({ order, tokens, deadlineAt, resolve, reject }));
  }

  /**
   * The grant at once when nobody is waiting and a token is free (the turn is now, as the queue would
   * decide it, without a waiter or a promise); `undefined` otherwise (then call {@link Pacer.turn}).
   */
  now(tokens: number, signal?: AbortSignal): Grant | undefined {
    return this.#line.idle && signal?.aborted !== true && this.limiter.when(tokens) <= this.#clock.now() ? this.limiter.acquire(tokens) : undefined;
  }

  /** Something changed: let the queue decide again. */
  poke(): void {
    this.#line.poke();
  }

  /** How many requests are waiting. */
  get waiting(): number {
    return this.#line.queue.length;
  }

  #pump(): Promise<void> {
    return this.#line.drain(async (head, wake) => {
      const now = this.#clock.now();
      const at = this.limiter.when(head.tokens);
      if (at <= now) {
        this.#line.queue.shift();
        head.resolve(this.limiter.acquire(head.tokens));
        return;
      }
      if (this.#line.dropLate(at)) return;
      await sleepFor(this.#clock, at - now, undefined, wake);
    });
  }
}

interface InLine {
  readonly order: number;
  /** The latest time this request may be sent (its `maxRetryTimeMs` ends then), epoch ms. */
  readonly deadlineAt: number;
  readonly reject: (reason: unknown) => void;
}

/** The reason a wake signal aborts with (nobody reads it; the default would capture a stack per poke). */
const WAKE = Symbol('faultline.pacer.wake');

/**
 * The FIFO line both pacers keep: a retry keeps its first place (`order`), an abort takes a waiter out,
 * and `poke()` wakes the head's sleep so it decides again.
 */
class Line<W extends InLine> {
  queue: W[] = [];
  #wake = new AbortController();
  #running = false;
  readonly #pump: () => void;
  readonly #pokeOnEnter: boolean;

  constructor(pump: () => void, pokeOnEnter: boolean) {
    this.#pump = pump;
    this.#pokeOnEnter = pokeOnEnter;
  }

  /** Runs `step` on the head until the line is empty (one drain at a time; `wake` aborts on a poke). */
  async drain(step: (head: W, wake: AbortSignal) => Promise<void>): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.queue.length > 0) await step(this.queue[0]!, this.rearm());
    } finally {
      this.#running = false;
    }
  }

  /** Puts the waiter `make` builds in line; settles when it is resolved, rejected or `signal` aborts. */
  enter<T>(signal: AbortSignal | undefined, make: (resolve: (v: T) => void, reject: (e: unknown) => void) => W): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted === true) return reject(abortReason(signal));
      const onAbort = (): void => {
        this.queue = this.queue.filter((x) => x !== waiter);
        reject(abortReason(signal!));
        this.poke();
      };
      const waiter = make(
        (v) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      let i = this.queue.length;
      while (i > 0 && this.queue[i - 1]!.order > waiter.order) i--;
      this.queue.splice(i, 0, waiter);
      if (this.#pokeOnEnter) this.poke();
      this.#pump();
    });
  }

  poke(): void {
    // Aborting an aborted controller is a no-op that still builds its default DOMException (a stack trace).
    if (!this.#wake.signal.aborted) this.#wake.abort(WAKE);
  }

  /** Nobody waits and no drain runs. */
  get idle(): boolean {
    return this.queue.length === 0 && !this.#running;
  }

  /** A fresh wake signal for the next sleep (the last one may have fired). */
  rearm(): AbortSignal {
    if (this.#wake.signal.aborted) this.#wake = new AbortController();
    return this.#wake.signal;
  }

  /**
   * The queue is FIFO, nobody goes before its head: every waiter whose budget ends before `at` gives up
   * now (a {@link RetryTimeSpent}). Returns whether any did.
   */
  dropLate(at: number): boolean {
    const late = this.queue.filter((w) => w.deadlineAt < at);
    if (late.length === 0) return false;
    this.queue = this.queue.filter((w) => w.deadlineAt >= at);
    for (const w of late) w.reject(pacedPast(at));
    return true;
  }
}

/** The end of a request whose turn comes at `at`, after its `maxRetryTimeMs`. */
function pacedPast(at: number): RetryTimeSpent {
  const until = Math.abs(at) <= 8.64e15 ? new Date(at).toISOString() : `${at} ms`;
  return new RetryTimeSpent(`The model is paced (a rate-limit pause or an empty bucket) until ${until}, after this request's maxRetryTimeMs.`, 'rate_limit_exceeded');
}

interface BudgetWaiter {
  readonly order: number;
  readonly tokens: number;
  readonly minTokens: number;
  readonly deadlineAt: number;
  readonly resolve: (decision: BudgetDecision & { kind: 'grant' }) => void;
  readonly reject: (reason: unknown) => void;
}

/** How late a request may wake for its booked slot before it books another, in ms. */
const LATE_MS = 20;

/**
 * What the answer to a request paced by a {@link SharedBudget} tells the budget.
 * - `charged`: the tokens the server charged (from `usage`); `'nothing'` when it charged nothing (a 429,
 *   or the request was never sent); `'unknown'` keeps the reservation as it is (a transport failure
 *   after the send: the server may have counted it, so this errs toward sending less).
 * - `pauseMs`: a 429's `retry-after`, held by every process.
 */
export interface BudgetOutcome {
  readonly headers?: RateLimitHeaders | undefined;
  readonly charged: number | 'nothing' | 'unknown';
  readonly pauseMs?: number | undefined;
}

/**
 * @internal The executor of a {@link SharedBudget}'s decisions for one model in one process: requests
 * line up in one FIFO queue (a retry keeps its place) and only the head asks the budget, so a process
 * sends one acquire at a time, not one per waiting request. A grant's slot may lie ahead (`sendAt`):
 * the head moves on at once and the granted request sleeps until its slot. An abort before the send, a
 * slot after the request's `maxRetryTimeMs`, or a failure to reach the slot gives the reservation back.
 */
export class BudgetPacer {
  readonly budget: SharedBudget;
  readonly model: string;
  readonly #clock: Clock;
  // An arrival does not wake the head: it would cost one more round trip to the budget per request.
  readonly #line = new Line<BudgetWaiter>(() => void this.#pump(), false);

  constructor(budget: SharedBudget, model: string, clock: Clock) {
    this.budget = budget;
    this.model = model;
    this.#clock = clock;
  }

  /** Waits until this request may be sent and returns its grant (see {@link Pacer.turn}). */
  async turn(tokens: number, minTokens: number, order: number, signal?: AbortSignal, deadlineAt = Infinity): Promise<BudgetGrant> {
    for (let rebooked = 0; ; rebooked++) {
      const decision = await this.#line.enter<BudgetDecision & { kind: 'grant' }>(signal, (resolve, reject) => ({ order, tokens, minTokens, deadlineAt, resolve, reject }));
      try {
        if (decision.sendAt > deadlineAt) throw pacedPast(decision.sendAt);
        await sleepFor(this.#clock, decision.sendAt - this.#clock.now(), signal);
      } catch (e) {
        this.settle(decision.grant, { charged: 'nothing' });
        throw e;
      }
      // A process that stalled (a busy event loop, a descheduled VM) wakes late for every slot it booked
      // and would send them all at once, a burst nobody granted. A slot missed by more than LATE_MS goes
      // back and the request books a new one (twice at most, so a process that is always late still sends).
      if (rebooked >= 2 || this.#clock.now() - decision.sendAt <= LATE_MS) return decision.grant;
      this.settle(decision.grant, { charged: 'nothing' });
    }
  }

  /** Hands `grant` back with what its answer said; never throws (the budget copes with its own failures). */
  settle(grant: BudgetGrant, outcome: BudgetOutcome): void {
    const b = this.budget;
    const { headers, charged, pauseMs } = outcome;
    // The correction goes first: the server's reading already leaves out a refused request and counts
    // the true cost, so syncing to it before refunding would refund twice.
    const calls = [charged === 'nothing' ? b.release(grant) : b.reconcile(grant, charged === 'unknown' ? grant.tokens : charged)];
    if (headers !== undefined) calls.push(b.observe(this.model, headers, grant));
    if (pauseMs !== undefined && pauseMs > 0) calls.push(b.pause(this.model, pauseMs));
    void Promise.allSettled(calls).then(() => this.poke());
  }

  /** Something changed (an answer, a pause): the head asks again. */
  poke(): void {
    this.#line.poke();
  }

  #pump(): Promise<void> {
    const line = this.#line;
    return line.drain(async (head, wake) => {
      let d: BudgetDecision;
      try {
        d = await this.budget.acquire(this.model, head.tokens, { minTokens: head.minTokens });
      } catch (e) {
        // request_too_large (or a budget that broke its contract): this request fails, the queue goes on.
        line.queue = line.queue.filter((w) => w !== head);
        head.reject(e);
        return;
      }
      if (line.queue[0] !== head) {
        // The head was aborted (or overtaken by a retry) while it asked: its reservation goes back.
        if (d.kind === 'grant') this.settle(d.grant, { charged: 'nothing' });
        return;
      }
      if (d.kind === 'grant') {
        line.queue.shift();
        head.resolve(d);
        return;
      }
      if (line.dropLate(d.retryAt) && line.queue[0] !== head) return;
      await sleepFor(this.#clock, d.retryAt - this.#clock.now(), undefined, wake);
    });
  }
}
