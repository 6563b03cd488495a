/**
 * The seeded schedule of a chaos run: which worker creates which job, streamed or polled, with a short or
 * a 25-day deadline, where in its life the job's process is SIGKILLed, and (hostile mode) how the server
 * misbehaves for it. Same seed, same plan.
 */
import { createPrng } from '../../src/mock/prng.ts';

/**
 * Every point of a job's life where a process is killed (`kill -9`, no cleanup):
 * - `create_sent`: the server has the create (and made the job) but has not sent a byte back;
 * - `mid_stream`: after the job's stream said it is running (`response.in_progress` or a text delta),
 *   on the create stream or a resumed one;
 * - `completion_before_record` / `completion_after_record`: the terminal object was seen, just before /
 *   just after the journal stored it;
 * - `handler_before_effect` / `handler_after_effect`: inside the `onResult` handler, before / after its
 *   side effect (appending the delivery to the deliveries file). Only the last may deliver twice.
 */
export const KILL_POINTS = [
  'create_sent',
  'mid_stream',
  'completion_before_record',
  'completion_after_record',
  'handler_before_effect',
  'handler_after_effect',
] as const;
export type KillPoint = (typeof KILL_POINTS)[number];

/** Points the server side (the harness process) fires; the others fire inside the worker. */
export const SERVER_KILL_POINTS: ReadonlySet<KillPoint> = new Set(['create_sent', 'mid_stream']);

/**
 * How the hostile server treats one job:
 * - `plain`: answers as the API does;
 * - `json_for_stream`: answers a `stream: true` create with a plain `application/json` Response;
 * - `keepalive_forever`: the job's streams send `: keep-alive` comments forever after the first events
 *   (polls tell the truth);
 * - `huge_poll_after`: every poll carries `openai-poll-after-ms: 1e12`;
 * - `huge_retry_after`: the first poll is a 429 with `retry-after: 999999` and `retry-after-ms: 1e12`;
 * - `cut_mid_body`: the create answer, every other poll and every other resumed stream are cut mid-body.
 */
export const HOSTILITIES = ['plain', 'json_for_stream', 'keepalive_forever', 'huge_poll_after', 'huge_retry_after', 'cut_mid_body'] as const;
export type Hostility = (typeof HOSTILITIES)[number];

/** 25 days: a deadline above 2^31 - 1 ms, which a bare `setTimeout` fires after 1 ms. */
export const LONG_DEADLINE_MS = 25 * 24 * 3_600_000;

export interface PlannedJob {
  readonly key: string;
  /** The worker (by name) that creates it. */
  readonly worker: string;
  /** createAndWait's `stream` option. */
  readonly stream: boolean;
  /** A 25-day deadline instead of the short one. */
  readonly long: boolean;
  /**
   * Created with `background_options.completion_window: '2h'` (a flex job: never streamed, its orphan
   * held by the journal for the whole window). The worker leaves `stream` unset for it.
   */
  readonly flex: boolean;
  /** Where its process is killed, if anywhere. */
  readonly kill: KillPoint | null;
  /** Hostile mode only. */
  readonly hostility: Hostility;
}

export interface PlanOptions {
  readonly seed: number;
  readonly jobs: number;
  readonly workers: number;
  readonly hostile: boolean;
  /** Fraction of jobs with a kill point, in [0, 1]. Every point gets at least one job when jobs allow. */
  readonly killRate: number;
  /** Fraction of jobs with the 25-day deadline. */
  readonly longRate: number;
  /** Fraction of (non-streaming-hostility) jobs created as flex jobs with a 2-hour completion window. */
  readonly flexRate: number;
}

function shuffled<T>(items: readonly T[], next: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Whether a job can reach `point` at all (a polled job has no stream to be killed in). */
function reachable(point: KillPoint, stream: boolean, hostility: Hostility): boolean {
  return point !== 'mid_stream' || (stream && (hostility === 'plain' || hostility === 'cut_mid_body'));
}

/** Workers are named `w0`, `w1`, ...; jobs `j000`, `j001`, ... */
export function makePlan(o: PlanOptions): PlannedJob[] {
  const rng = createPrng(o.seed);
  const next = (): number => rng.next();
  const hostilities = shuffled(HOSTILITIES, next);
  const base = Array.from({ length: o.jobs }, (_, i) => {
    const hostility: Hostility = o.hostile ? hostilities[i % hostilities.length]! : 'plain';
    // Poll-hint hostilities only bite a polled job; a non-streaming answer only a streamed one.
    const polled = hostility === 'huge_poll_after' || hostility === 'huge_retry_after';
    const streamed = hostility === 'json_for_stream' || hostility === 'keepalive_forever';
    const flex = !streamed && next() < o.flexRate;
    const stream = polled || flex ? false : streamed ? true : next() < 0.6;
    return { key: `j${String(i).padStart(3, '0')}`, worker: `w${i % o.workers}`, stream, long: next() < o.longRate, flex, hostility };
  });
  // Kill points cycle in a shuffled order; each goes to the next job (in a shuffled order) that can
  // reach it, so each point is used when there are enough jobs.
  const count = Math.min(o.jobs, Math.max(Math.min(o.jobs, KILL_POINTS.length), Math.round(o.jobs * o.killRate)));
  const order = shuffled([...Array(o.jobs).keys()], next);
  const points = shuffled(KILL_POINTS, next);
  const kills = new Map<number, KillPoint>();
  for (let n = 0; kills.size < count && n < count * points.length; n++) {
    const point = points[n % points.length]!;
    const at = order.findIndex((i) => reachable(point, base[i]!.stream, base[i]!.hostility));
    if (at < 0) continue; // no job left that can reach this point
    kills.set(order[at]!, point);
    order.splice(at, 1);
  }
  return base.map((job, i) => ({ ...job, kill: kills.get(i) ?? null }));
}
