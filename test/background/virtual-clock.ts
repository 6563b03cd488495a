/**
 * Virtual time for tests: `sleep()` registers a timer; `run(promise)` lets all pending work settle, then
 * jumps the clock to the earliest timer, again and again, until the promise settles. No wall-clock wait.
 */
import { setImmediate as tick } from 'node:timers/promises';

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

export class VirtualClock {
  #now: number;
  #seq = 0;
  readonly #timers: Timer[] = [];
  /** Every sleep duration requested, in order (for assertions on pacing). */
  readonly sleeps: number[] = [];

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now = (): number => this.#now;

  sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
    this.sleeps.push(ms);
    return new Promise<void>((resolve) => {
      if (signal?.aborted === true || ms <= 0) {
        resolve();
        return;
      }
      const timer: Timer = {
        at: this.#now + ms,
        seq: this.#seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const i = this.#timers.indexOf(timer);
        if (i >= 0) this.#timers.splice(i, 1);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#timers.push(timer);
    });
  };

  get pending(): number {
    return this.#timers.length;
  }

  /** Let queued microtasks and immediates run. */
  async flush(rounds = 20): Promise<void> {
    for (let i = 0; i < rounds; i++) await tick();
  }

  /** Fire the earliest timer (moving time to it). False when no timer is pending. */
  fireNext(): boolean {
    if (this.#timers.length === 0) return false;
    this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const t = this.#timers.shift() as Timer;
    if (t.at > this.#now) this.#now = t.at;
    t.resolve();
    return true;
  }

  /** Move time forward by `ms`, firing due timers in order. */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    for (;;) {
      await this.flush();
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#timers[0];
      if (next === undefined || next.at > until) break;
      this.fireNext();
    }
    this.#now = until;
    await this.flush();
  }

  /** Drive time until `promise` settles (or `maxSteps` timers fired: a test bug). */
  async run<T>(promise: Promise<T>, maxSteps = 100_000): Promise<T> {
    let settled = false;
    const watched = promise.then(
      (v) => {
        settled = true;
        return v;
      },
      (e: unknown) => {
        settled = true;
        throw e;
      },
    );
    watched.catch(() => {});
    for (let steps = 0; ; steps++) {
      await this.flush();
      if (settled) return watched;
      if (steps >= maxSteps) throw new Error('VirtualClock.run: too many steps');
      if (!this.fireNext()) {
        await this.flush(50);
        if (settled) return watched;
        throw new Error('VirtualClock.run: deadlock (no timer pending and the promise is not settled)');
      }
    }
  }
}
