/**
 * One chaos run: a server on 127.0.0.1 (faultline's mock, or the hostile server), several worker
 * processes on ONE SQLite journal running createAndWait jobs and overlapping resumeAll calls, an optional
 * webhook receiver process, and the seeded kill schedule of plan.ts. Killed processes are restarted and
 * resume. The run ends when every job has a delivery (plus a short settle time, for late duplicates) or
 * at the hard timeout; every child is then stopped (SIGKILL if it does not stop), the server closed, the
 * figures computed and the temporary folder removed, on success and on failure alike.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateWebhookSecret } from '../../src/webhooks/index.ts';
import { SqliteJournalStore } from '../../src/journal/index.ts';
import { sleep } from '../../src/internal/timers.ts';
import { serveHostile } from './hostile.ts';
import { serveMock } from './mock-server.ts';
import { claimKill, firedKills } from './kills.ts';
import { LONG_DEADLINE_MS, makePlan, type KillPoint } from './plan.ts';
import { computeFigures, type ChaosFigures } from './report.ts';
import type { ChaosConfig, ChaosServer, DeliveryLine, ReceivedLine, ServerHooks } from './types.ts';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

export interface ChaosOptions {
  readonly seed: number;
  readonly mode: 'normal' | 'hostile';
  readonly webhooks: boolean;
  /** Worker processes on the one journal. @default 3 */
  readonly workers?: number;
  /** Jobs in all. @default 18 */
  readonly jobs?: number;
  /** Fraction of jobs whose process is killed somewhere in their life. @default 0.5 */
  readonly killRate?: number;
  /** Fraction of jobs waited for with a 25-day deadline. @default 0.3 */
  readonly longRate?: number;
  /** Fraction of jobs created with a 2-hour `completion_window` (flex). @default 0.2 */
  readonly flexRate?: number;
  /** The hard bound of the whole run, in ms: everything is killed and reported then. @default 60000 */
  readonly timeoutMs?: number;
  /** How long to keep watching once every job has a delivery (late duplicates). @default 600 */
  readonly settleMs?: number;
  /** Keep the temporary folder (journal, deliveries, kills, worker logs) and log its path, to debug a run. @default false */
  readonly keep?: boolean;
  /** Called with progress text (for the CLI). */
  readonly log?: (text: string) => void;
}

interface Proc {
  readonly name: string;
  readonly inc: number;
  readonly role: 'worker' | 'receiver';
  readonly tag: string;
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<void>;
  cpuUs: number;
  port?: number;
  stderr: string;
  /** The child's stdout, kept only with `keep`. */
  stdout: string;
}

/** Every child any run started and that has not exited, and every run's temporary folder: see {@link abortAll}. */
const everyChild = new Set<ChildProcessWithoutNullStreams>();
const everyDir = new Set<string>();

/** How many child processes of any run are still running (0 once every run has returned). */
export function runningChildren(): number {
  return everyChild.size;
}

/**
 * SIGKILL every child process still running and remove every run's temporary folder, synchronously (for
 * a CLI's `exit` handler, where a run's own `finally` does not get to run).
 */
export function abortAll(): void {
  for (const c of everyChild) c.kill('SIGKILL');
  for (const d of everyDir) rmSync(d, { recursive: true, force: true });
}

/** How long only hint-parked jobs may be left before a run ends (their jobs finished in 220 ms). */
const PARKED_AFTER_MS = 4000;

const MID_STREAM_EVENTS: ReadonlySet<string> = new Set(['response.in_progress', 'response.output_text.delta']);

function readLines<T = DeliveryLine>(path: string): T[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((l) => {
    try {
      return l === '' ? [] : [JSON.parse(l) as T];
    } catch {
      return []; // a line cut by a kill mid-write is not a delivery
    }
  });
}

export async function runChaos(o: ChaosOptions): Promise<ChaosFigures> {
  const workers = o.workers ?? 3;
  const plan = makePlan({ seed: o.seed, jobs: o.jobs ?? 18, workers, hostile: o.mode === 'hostile', killRate: o.killRate ?? 0.5, longRate: o.longRate ?? 0.3, flexRate: o.flexRate ?? 0.2 });
  const byKey = new Map(plan.map((j) => [j.key, j]));
  const timeoutMs = o.timeoutMs ?? 60_000;
  const settleMs = o.settleMs ?? 600;
  const log = o.log ?? (() => {});
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'faultline-chaos-'));
  everyDir.add(dir);
  const killsDir = join(dir, 'kills');
  mkdirSync(killsDir);
  const deliveries = join(dir, 'deliveries.jsonl');
  const received = join(dir, 'received.jsonl');
  const procs: Proc[] = [];
  const live = new Map<string, Proc>();
  /** When each process exited, by tag (epoch ms). */
  const deaths = new Map<string, number>();
  const killed = new Set<string>();
  const leaseLostBy = new Set<string>();
  let stopping = false;
  let restarts = 0;
  let crashes = 0;
  let leaseLost = 0;
  let handlerErrors = 0;
  let server: ChaosServer | undefined;
  const secret = o.webhooks ? generateWebhookSecret() : undefined;
  let receiver: Proc | undefined;
  let restartSeq = 0;
  // Each planned kill restarts one process; a process that keeps crashing is not restarted forever.
  const maxRestarts = plan.length + 20;

  /** Fire a server-side kill: SIGKILL the process that sent this request, if the plan says so. */
  async function serverKill(point: KillPoint, key: string, tag: string | null): Promise<boolean> {
    if (byKey.get(key)?.kill !== point || tag === null) return false;
    const p = live.get(tag);
    if (p === undefined || !claimKill(killsDir, key, point, 'harness')) return false;
    p.child.kill('SIGKILL');
    await p.exited;
    return true;
  }
  const hooks: ServerHooks = {
    beforeCreateReply: (key, tag) => serverKill('create_sent', key, tag),
    // Mid-stream: after the job started running (its id long journaled), before its terminal event.
    afterStreamEvent: async (key, tag, type) => void (MID_STREAM_EVENTS.has(type) && (await serverKill('mid_stream', key, tag))),
  };
  // The servers POST webhooks through this: to whichever receiver incarnation is up (none: a network
  // error, retried). It also notes each event a receiver processed, and each retry a receiver dropped as
  // a duplicate of an attempt that was never processed (the response id it named goes to `dropped`).
  const processed = new Set<string>();
  const dropped = new Set<string>();
  const forward = async (_input: string, init: RequestInit): Promise<Response> => {
    const port = receiver?.port;
    if (port === undefined || !live.has(receiver!.tag)) throw new TypeError('fetch failed: no webhook receiver is up');
    const res = await fetch(`http://127.0.0.1:${port}/`, init);
    const text = await res.text();
    const eventId = new Headers(init.headers).get('webhook-id') ?? '';
    if (res.ok && (JSON.parse(text) as { duplicate?: boolean }).duplicate === true) {
      if (!processed.has(eventId)) dropped.add((JSON.parse(String(init.body)) as { data: { id: string } }).data.id);
    } else if (res.ok) processed.add(eventId);
    return new Response(text, { status: res.status, headers: res.headers });
  };
  const webhooks = secret !== undefined ? { secret, fetch: forward } : undefined;

  function start(name: string, inc: number, role: 'worker' | 'receiver'): Proc {
    const child = spawn(process.execPath, [WORKER, join(dir, 'config.json'), name, String(inc), role], { stdio: ['pipe', 'pipe', 'pipe'] });
    everyChild.add(child);
    let resolveExit!: () => void;
    const p: Proc = { name, inc, role, tag: `${name}#${inc}`, child, exited: new Promise((r) => (resolveExit = r)), cpuUs: 0, stderr: '', stdout: '' };
    procs.push(p);
    live.set(p.tag, p);
    child.stdin.on('error', () => {});
    child.stderr.on('data', (d: Buffer) => (p.stderr = (p.stderr + d.toString()).slice(-4000)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (o.keep === true) p.stdout += line + '\n';
      let ev: { ev?: string; us?: number; port?: number; key?: string };
      try {
        ev = JSON.parse(line) as typeof ev;
      } catch {
        return;
      }
      if (ev.ev === 'cpu' && typeof ev.us === 'number') p.cpuUs = Math.max(p.cpuUs, ev.us);
      else if (ev.ev === 'listening' && typeof ev.port === 'number') p.port = ev.port;
      else if (ev.ev === 'lease_lost') {
        leaseLost++;
        leaseLostBy.add(`${p.tag} ${String(ev.key)}`);
      }
      else if (ev.ev === 'handler_error') handlerErrors++;
    });
    child.on('exit', (code, signal) => {
      deaths.set(p.tag, Date.now());
      everyChild.delete(child);
      live.delete(p.tag);
      resolveExit();
      if (stopping) return;
      if (signal === 'SIGKILL') killed.add(p.tag);
      if (restarts >= maxRestarts) {
        log(`${p.tag} not restarted: ${maxRestarts} restarts already`);
        return;
      }
      if (signal !== 'SIGKILL') {
        crashes++;
        log(`${p.tag} exited with ${String(code ?? signal)}: ${p.stderr.slice(-600)}`);
      }
      // Restart after a short, seeded pause; the new incarnation resumes through the journal.
      restarts++;
      const pause = 20 + ((o.seed * 7 + restartSeq++ * 13) % 60);
      setTimeout(() => {
        if (stopping) return;
        const next = start(name, inc + 1, role);
        if (role === 'receiver') receiver = next;
      }, pause);
    });
    return p;
  }

  let timedOut = false;
  const db = join(dir, 'journal.db');

  async function drive(): Promise<void> {
    server =
      o.mode === 'normal'
        ? await serveMock({ seed: o.seed, hooks, ...(webhooks !== undefined ? { webhooks } : {}) })
        : await serveHostile({ hostilityOf: (key) => byKey.get(key)?.hostility ?? 'plain', hooks, queuedMs: 20, runMs: 200, ...(webhooks !== undefined ? { webhooks } : {}) });
    const config: ChaosConfig = {
      url: server.url,
      db,
      deliveries,
      received,
      killsDir,
      jobs: plan,
      ...(secret !== undefined ? { webhookSecret: secret } : {}),
      // Jobs of ~220 ms: a stream silent for a second is dead (the default idle timeout is for real
      // jobs), and two silent ones in a row are enough to poll instead.
      pace: { minDelayMs: 25, maxDelayMs: 200, ageFactor: 0.1, requestTimeoutMs: 3000, streamIdleTimeoutMs: 1000, maxReconnects: 2 },
      shortDeadlineMs: 4000,
      longDeadlineMs: LONG_DEADLINE_MS,
      leaseMs: 1500,
      watchIntervalMs: 25,
      // Orphans wait for their webhook longer than the senders' retries take to reach a restarted receiver.
      orphanAfterMs: secret !== undefined ? 4000 : 1500,
      resumeEveryMs: 300,
      staggerMs: 15,
      retryAfterMs: 50,
      handlerMs: 30,
      maxLifeMs: timeoutMs + 10_000,
    };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    // The journal file exists (with its schema) before the workers race to create it.
    await new SqliteJournalStore(db).close();
    if (secret !== undefined) receiver = start('rx', 0, 'receiver');
    for (let w = 0; w < workers; w++) start(`w${w}`, 0, 'worker');
    let allSince: number | undefined;
    let parkedSince: number | undefined;
    const watch = new SqliteJournalStore(db);
    try {
      for (;;) {
        await sleep(50);
        const now = performance.now();
        const seen = new Set(readLines(deliveries).map((l) => l.key));
        // A flex orphan is held for its 2-hour window: settled here once it has waited out the orphan time.
        for (const j of plan) {
          if (!j.flex || seen.has(j.key)) continue;
          const row = await watch.get(j.key);
          if (row?.state === 'creating' && Date.now() - row.createdAt > config.orphanAfterMs + 1000) seen.add(j.key);
        }
        const rest = plan.filter((j) => !seen.has(j.key));
        if (rest.length === 0) {
          allSince ??= now;
          if (now - allSince >= settleMs) return;
        } else allSince = undefined;
        // Only jobs the server answered an absurd hint are left, for seconds, where a job takes 220 ms:
        // parked (the figures say so), not worth the rest of the hard timeout.
        if (rest.length > 0 && rest.every((j) => j.hostility === 'huge_poll_after' || j.hostility === 'huge_retry_after')) {
          parkedSince ??= now;
          if (now - parkedSince >= PARKED_AFTER_MS) {
            log(`${rest.map((j) => j.key).join(' ')} parked by an absurd hint for ${PARKED_AFTER_MS} ms: ending the run`);
            return;
          }
        } else parkedSince = undefined;
        if (now - started >= timeoutMs) {
          timedOut = true;
          log(`timeout after ${timeoutMs} ms: ${plan.filter((j) => !seen.has(j.key)).map((j) => j.key).join(' ')} not delivered`);
          return;
        }
      }
    } finally {
      await watch.close();
    }
  }

  /** Stop every child (a `stop` line, then SIGKILL), then the server; each step bounded. */
  async function shutdown(): Promise<void> {
    stopping = true;
    for (const p of live.values()) p.child.stdin.write('stop\n');
    await Promise.race([Promise.all([...live.values()].map((p) => p.exited)), sleep(2000)]);
    for (const p of live.values()) p.child.kill('SIGKILL');
    await Promise.race([Promise.all(procs.map((p) => p.exited)), sleep(2000)]);
    await Promise.race([server?.close(), sleep(2000)]);
  }

  async function collect(): Promise<ChaosFigures> {
    const rows = new Map<string, string>();
    const store = new SqliteJournalStore(db);
    for (const job of plan) {
      const row = await store.get(job.key);
      if (row !== undefined) rows.set(job.key, row.state);
    }
    await store.close();
    const kills = firedKills(killsDir);
    return computeFigures(
      { seed: o.seed, mode: o.mode, webhooks: o.webhooks, workers },
      {
        plan,
        creates: server?.creates() ?? [],
        deliveries: readLines(deliveries),
        received: readLines<ReceivedLine>(received),
        droppedWebhooks: [...dropped],
        deaths,
        killed,
        leaseLost: leaseLostBy,
        kills,
        rows,
        requests: server?.requests() ?? 0,
        streamedWindows: server?.streamedWindows() ?? 0,
        cpuUs: procs.reduce((a, p) => a + p.cpuUs, 0),
        wallMs: performance.now() - started,
        restarts,
        crashes,
        leaseLostWarnings: leaseLost,
        handlerErrors,
        timedOut,
      },
    );
  }

  try {
    try {
      await drive();
    } finally {
      await shutdown();
    }
    return await collect();
  } finally {
    if (o.keep === true) {
      writeFileSync(join(dir, 'workers.log'), procs.map((p) => `== ${p.tag}\n${p.stdout}\n${p.stderr}`).join('\n'));
      writeFileSync(join(dir, 'creates.jsonl'), (server?.creates() ?? []).map((c) => JSON.stringify(c) + '\n').join(''));
      log(`kept ${dir}`);
    } else rmSync(dir, { recursive: true, force: true });
    everyDir.delete(dir);
  }
}
