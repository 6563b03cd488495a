/**
 * From the server's ground truth (its creates), the deliveries file, the fired kills and the journal's
 * final rows: the figures of one chaos run, and the table that prints them.
 */
import { KILL_POINTS, type KillPoint, type PlannedJob } from './plan.ts';
import type { CreateRecord, DeliveryLine, ReceivedLine } from './types.ts';

export interface RunFacts {
  readonly plan: readonly PlannedJob[];
  readonly creates: readonly CreateRecord[];
  readonly deliveries: readonly DeliveryLine[];
  readonly kills: readonly { readonly key: string; readonly point: KillPoint }[];
  /** Response ids whose webhook a receiver answered "duplicate" though no attempt of it was processed. */
  readonly droppedWebhooks: readonly string[];
  /** When each process (by tag) exited, epoch ms. */
  readonly deaths: ReadonlyMap<string, number>;
  /** Processes (by tag) SIGKILLed while the run went on, by any planned kill (not the final stop). */
  readonly killed: ReadonlySet<string>;
  /** `<tag> <key>` for every lease-lost warning: that process found the job taken over after its handler ran. */
  readonly leaseLost: ReadonlySet<string>;
  /** Create answers (with the id) that reached a worker's fetch. */
  readonly received: readonly ReceivedLine[];
  /** Journal state of every row at the end, by key. */
  readonly rows: ReadonlyMap<string, string>;
  readonly requests: number;
  readonly streamedWindows: number;
  readonly cpuUs: number;
  readonly wallMs: number;
  readonly restarts: number;
  readonly crashes: number;
  readonly leaseLostWarnings: number;
  readonly handlerErrors: number;
  readonly timedOut: boolean;
}

export interface ChaosFigures {
  readonly seed: number;
  readonly mode: 'normal' | 'hostile';
  readonly webhooks: boolean;
  readonly workers: number;
  readonly jobs: number;
  /** Jobs the server created at least once. */
  readonly created: number;
  /** Create requests the server made a job for. */
  readonly creates: number;
  readonly deliveredOnce: number;
  /** Delivered twice after a kill inside the handler after its side effect: allowed, counted. */
  readonly deliveredTwiceAfterHandlerKill: number;
  /** Delivered more than once otherwise: must be 0. */
  readonly deliveredTwiceOther: number;
  /** Delivered as lost, the journal saying why (see `lostReasons`). */
  readonly lostWithReason: number;
  readonly lostReasons: Readonly<Record<string, number>>;
  /**
   * Of those, jobs whose create answer, with its id, reached a worker that lived on for
   * {@link ID_READ_MARGIN_MS} (it had what it needed): must be 0.
   */
  readonly lostThoughIdReceived: number;
  /**
   * Of the lost, jobs whose webhook reached a receiver whose journal then dropped it as a duplicate
   * (a receiver died after remembering the webhook id, before recording the job): must be 0.
   */
  readonly lostToDroppedWebhook: number;
  /** Never delivered, and the journal does not hold them unfinished either: must be 0. */
  readonly lostSilently: number;
  /** Never delivered, still unfinished in the journal when the run ended (a wait that did not end): must be 0. */
  readonly unfinished: number;
  /**
   * Never delivered, still unfinished, and the server had answered them an absurd hint
   * (`openai-poll-after-ms: 1e12`, `retry-after-ms: 1e12`): a wait parked until its deadline: must be 0.
   */
  readonly parkedByHint: number;
  /** Flex orphans the journal still holds (`creating`) inside their 2-hour window: expected, not lost. */
  readonly heldForWindow: number;
  /** Flex jobs delivered as orphans although their 2-hour window was still open: must be 0. */
  readonly lostInsideWindow: number;
  /** Creates sent with `stream: true` for a flex job: must be 0. */
  readonly streamedWindows: number;
  /** Job keys the server created more than once (a second paid create): must be 0. */
  readonly paidTwice: number;
  readonly kills: Readonly<Record<KillPoint, number>>;
  readonly restarts: number;
  /** Workers that exited on their own with an error: must be 0. */
  readonly crashes: number;
  /** FAULTLINE_JOURNAL_LEASE_LOST warnings (false ones show a job followed twice in one process). */
  readonly leaseLostWarnings: number;
  readonly handlerErrors: number;
  readonly requests: number;
  readonly requestsPerJob: number;
  /** CPU time of every worker process (all incarnations) per job: a busy loop shows up here. */
  readonly cpuMsPerJob: number;
  readonly wallMs: number;
  readonly timedOut: boolean;
  /** The first few keys behind each broken invariant, to start debugging from. */
  readonly examples: Readonly<Record<string, readonly string[]>>;
}

/**
 * A process killed within this long of receiving a create's answer may have died before the library,
 * a few callbacks later, journaled the id (longer than the few ms it takes: a SQLite write can wait for
 * another process's lock). One that lived on had what it needed.
 */
export const ID_READ_MARGIN_MS = 1000;

/** `orphan: the create never…` → `orphan`; `create_rejected:rate_limit_exceeded` stays whole. */
function reasonOf(reason: string | undefined): string {
  return /^[a-z_]+(?::[a-z_]+)?/.exec(reason ?? '')?.[0] ?? 'unknown';
}

export function computeFigures(run: { seed: number; mode: 'normal' | 'hostile'; webhooks: boolean; workers: number }, f: RunFacts): ChaosFigures {
  const byKey = new Map<string, DeliveryLine[]>();
  for (const d of f.deliveries) byKey.set(d.key, [...(byKey.get(d.key) ?? []), d]);
  const createsByKey = new Map<string, CreateRecord[]>();
  for (const c of f.creates) createsByKey.set(c.key, [...(createsByKey.get(c.key) ?? []), c]);
  // An answer counts as received by a process that lived on for ID_READ_MARGIN_MS after it.
  const receivedKeys = new Set(f.received.filter((r) => !((f.deaths.get(r.tag) ?? Infinity) - r.t < ID_READ_MARGIN_MS)).map((r) => r.key));
  const droppedIds = new Set(f.droppedWebhooks);
  let lostToDroppedWebhook = 0;
  const afterEffectKills = new Set(f.kills.filter((k) => k.point === 'handler_after_effect').map((k) => k.key));
  /**
   * A second delivery whose first deliverer was killed between its side effect and its journal write.
   * Planned for the job (its handler_after_effect point), or caused by a kill planned for ANOTHER job of
   * the same process (a server-side kill lands wherever the process is; on a busy machine, more often in
   * that window): a deliverer that lived on would have marked the job delivered (no redelivery possible)
   * or warned that its lease was lost, so killed during the run and no warning for this job means it died
   * inside the handler, after the effect. The journal's contract allows that repeat.
   */
  const killedInHandler = (key: string, lines: readonly DeliveryLine[]): boolean =>
    lines.length === 2 && lines[1]!.attempt > lines[0]!.attempt && (afterEffectKills.has(key) || (f.killed.has(lines[0]!.tag) && !f.leaseLost.has(`${lines[0]!.tag} ${key}`)));
  const examples: Record<string, string[]> = {};
  const note = (what: string, key: string): void => {
    const list = (examples[what] ??= []);
    if (list.length < 5) list.push(key);
  };
  let deliveredOnce = 0;
  let twiceAllowed = 0;
  let twiceOther = 0;
  let lost = 0;
  let lostThoughIdReceived = 0;
  let lostSilently = 0;
  let unfinished = 0;
  let heldForWindow = 0;
  let parkedByHint = 0;
  let lostInsideWindow = 0;
  const lostReasons: Record<string, number> = {};
  for (const job of f.plan) {
    const lines = byKey.get(job.key) ?? [];
    const creates = createsByKey.get(job.key) ?? [];
    if (lines.length === 0) {
      const state = f.rows.get(job.key);
      if (job.flex && state === 'creating') heldForWindow++;
      else if (state !== undefined && state !== 'delivered' && (job.hostility === 'huge_poll_after' || job.hostility === 'huge_retry_after')) {
        parkedByHint++;
        note(`parkedByHint (${state})`, job.key);
      } else if (state !== undefined && state !== 'delivered') {
        unfinished++;
        note(`unfinished (${state})`, job.key);
      } else if (state === 'delivered' || creates.length > 0) {
        lostSilently++;
        note('lostSilently', job.key);
      } else {
        unfinished++; // never started before the run ended
        note('unfinished (not started)', job.key);
      }
      continue;
    }
    if (lines.length > 1) {
      if (killedInHandler(job.key, lines)) twiceAllowed++;
      else {
        twiceOther++;
        note('deliveredTwiceOther', `${job.key}×${lines.length}(${lines.map((l) => `${l.tag}@${l.attempt}`).join(',')})`);
      }
    } else deliveredOnce++;
    const first = lines[0]!;
    if (first.status === 'lost') {
      lost++;
      const r = reasonOf(first.lostReason);
      lostReasons[r] = (lostReasons[r] ?? 0) + 1;
      // Every run lasts far less than the two hours of a flex job's window.
      if (job.flex && r === 'orphan') {
        lostInsideWindow++;
        note('lostInsideWindow', job.key);
      }
      if (creates.some((c) => droppedIds.has(c.id))) {
        lostToDroppedWebhook++;
        note('lostToDroppedWebhook', `${job.key}(${r})`);
      }
      if (receivedKeys.has(job.key)) {
        lostThoughIdReceived++;
        note('lostThoughIdReceived', `${job.key}(${r})`);
      }
    }
  }
  let paidTwice = 0;
  for (const [key, list] of createsByKey) {
    if (list.length > 1) {
      paidTwice++;
      note('paidTwice', `${key}×${list.length}`);
    }
  }
  const kills = Object.fromEntries(KILL_POINTS.map((p) => [p, f.kills.filter((k) => k.point === p).length])) as Record<KillPoint, number>;
  const jobs = f.plan.length;
  return {
    seed: run.seed,
    mode: run.mode,
    webhooks: run.webhooks,
    workers: run.workers,
    jobs,
    created: createsByKey.size,
    creates: f.creates.length,
    deliveredOnce,
    deliveredTwiceAfterHandlerKill: twiceAllowed,
    deliveredTwiceOther: twiceOther,
    lostWithReason: lost,
    lostReasons,
    lostThoughIdReceived,
    lostToDroppedWebhook,
    lostSilently,
    unfinished,
    parkedByHint,
    heldForWindow,
    lostInsideWindow,
    streamedWindows: f.streamedWindows,
    paidTwice,
    kills,
    restarts: f.restarts,
    crashes: f.crashes,
    leaseLostWarnings: f.leaseLostWarnings,
    handlerErrors: f.handlerErrors,
    requests: f.requests,
    requestsPerJob: round(f.requests / Math.max(1, jobs), 1),
    cpuMsPerJob: round(f.cpuUs / 1000 / Math.max(1, jobs), 1),
    wallMs: Math.round(f.wallMs),
    timedOut: f.timedOut,
    examples,
  };
}

function round(x: number, digits: number): number {
  const p = 10 ** digits;
  return Math.round(x * p) / p;
}

const COLUMNS: readonly (readonly [string, (x: ChaosFigures) => string])[] = [
  ['mode', (x) => `${x.mode}${x.webhooks ? ' + webhooks' : ''}`],
  ['jobs', (x) => String(x.jobs)],
  ['created', (x) => String(x.created)],
  ['once', (x) => String(x.deliveredOnce)],
  ['twice (handler kill)', (x) => String(x.deliveredTwiceAfterHandlerKill)],
  ['twice (other)', (x) => String(x.deliveredTwiceOther)],
  ['lost with reason', (x) => (x.lostWithReason === 0 ? '0' : `${x.lostWithReason} (${Object.entries(x.lostReasons).map(([r, n]) => `${r} ${n}`).join(', ')})`)],
  ['lost though id received', (x) => String(x.lostThoughIdReceived)],
  ['lost to a dropped webhook', (x) => String(x.lostToDroppedWebhook)],
  ['lost silently', (x) => String(x.lostSilently)],
  ['unfinished', (x) => String(x.unfinished)],
  ['parked by a hint', (x) => String(x.parkedByHint)],
  ['flex: held / lost in window / streamed', (x) => `${x.heldForWindow} / ${x.lostInsideWindow} / ${x.streamedWindows}`],
  ['paid twice', (x) => String(x.paidTwice)],
  ['kills', (x) => String(Object.values(x.kills).reduce((a, b) => a + b, 0))],
  ['lease-lost warnings', (x) => String(x.leaseLostWarnings)],
  ['requests / job', (x) => String(x.requestsPerJob)],
  ['CPU ms / job', (x) => String(x.cpuMsPerJob)],
  ['wall s', (x) => (x.wallMs / 1000).toFixed(1) + (x.timedOut ? ' (timeout)' : '')],
];

/** A markdown table, one row per run. */
export function table(runs: readonly ChaosFigures[]): string {
  const head = `| ${COLUMNS.map(([h]) => h).join(' | ')} |`;
  const rule = `|${COLUMNS.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`;
  const rows = runs.map((x) => `| ${COLUMNS.map(([, f]) => f(x)).join(' | ')} |`);
  return [head, rule, ...rows].join('\n');
}

/** The invariants of every run: what the test asserts and the CLI's exit code reflects. */
export const INVARIANTS: readonly { readonly name: string; readonly holds: (x: ChaosFigures) => boolean }[] = [
  { name: 'no job lost silently', holds: (x) => x.lostSilently === 0 },
  { name: 'no create paid twice', holds: (x) => x.paidTwice === 0 },
  { name: 'no job delivered twice except after a kill inside the handler', holds: (x) => x.deliveredTwiceOther === 0 },
  { name: 'no job lost whose id had reached its process', holds: (x) => x.lostThoughIdReceived === 0 },
  { name: 'no orphan lost whose webhook reached a receiver', holds: (x) => x.lostToDroppedWebhook === 0 },
  { name: 'every wait ended (no job unfinished)', holds: (x) => x.unfinished === 0 && (!x.timedOut || x.parkedByHint > 0) },
  { name: 'no wait parked by an absurd server hint', holds: (x) => x.parkedByHint === 0 },
  { name: 'no flex job streamed, nor declared lost inside its window', holds: (x) => x.streamedWindows === 0 && x.lostInsideWindow === 0 },
  { name: 'no worker crashed', holds: (x) => x.crashes === 0 },
];

/** Each invariant's name and whether it held in `x`. */
export function invariants(x: ChaosFigures): readonly (readonly [string, boolean])[] {
  return INVARIANTS.map((i) => [i.name, i.holds(x)] as const);
}
