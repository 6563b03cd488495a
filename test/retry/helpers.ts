/**
 * A virtual clock for the retry tests: `sleep()` never waits for real time. Whenever the process has
 * nothing else to do (a few event-loop turns pass with no progress), time jumps to the earliest
 * sleeper and wakes it. No timers, so nothing can keep the test process alive.
 */
export interface AutoClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Sleepers still waiting. */
  readonly pending: number;
  /** Every sleep requested, in ms, in order. */
  readonly slept: readonly number[];
}

interface Sleeper {
  due: number;
  order: number;
  wake: () => void;
}

const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};

export function autoClock(start = 1_767_225_600_000): AutoClock {
  let now = start;
  let order = 0;
  let sleepers: Sleeper[] = [];
  let scheduled = false;
  const slept: number[] = [];
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    void turns(20).then(() => {
      scheduled = false;
      if (sleepers.length === 0) return;
      sleepers.sort((a, b) => a.due - b.due || a.order - b.order);
      const next = sleepers.shift()!;
      now = Math.max(now, next.due);
      next.wake();
      schedule();
    });
  };
  return {
    now: () => now,
    get pending() {
      return sleepers.length;
    },
    slept,
    sleep(ms, signal) {
      slept.push(ms);
      return new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const s: Sleeper = {
          due: now + Math.max(0, ms),
          order: order++,
          wake: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = (): void => {
          sleepers = sleepers.filter((x) => x !== s);
          resolve();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        sleepers.push(s);
        schedule();
      });
    },
  };
}

/** A scripted `fetch`: each call takes the next step (a Response factory or an error to throw). */
export type Step = (() => Response) | Error;

export function scriptedFetch(steps: readonly Step[]) {
  const calls: { url: string; body: string | undefined }[] = [];
  let i = 0;
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    calls.push({ url: String(input instanceof Request ? input.url : input), body: typeof init?.body === 'string' ? init.body : undefined });
    const step = steps[Math.min(i++, steps.length - 1)];
    if (step === undefined) throw new Error('script is empty');
    if (step instanceof Error) throw step;
    return step();
  };
  return { fetch, calls };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): () => Response {
  return () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export function apiError(status: number, code: string | null, type: string, message = 'failure', headers: Record<string, string> = {}) {
  return json(status, { error: { message, type, param: null, code } }, headers);
}

export const OK = json(200, { id: 'resp_1', object: 'response', status: 'completed', output: [], usage: { input_tokens: 5, output_tokens: 7, total_tokens: 12 } });

/** A connection reset as undici reports it. */
export function reset(): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
}
