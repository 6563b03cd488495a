/**
 * Crash test across "machines": three processes, each in its own working directory with its own owner
 * name, share one Redis journal and one mock (served here, on the real clock). Processes are SIGKILLed
 * at seeded random moments and restarted (as resumers); a last process runs resumeAll until nothing is
 * unfinished. From the mock's ground-truth log (every create it answered, tagged with its job key):
 * every job created is delivered, or delivered as lost with a reason; none is delivered twice, except a
 * redelivery (attempt 2) after its first deliverer was killed inside the handler, which the journal's
 * contract allows ("the handler must tolerate a repeat") and which is counted.
 *
 * The schedule is driven by counts, not by the clock: the first kill waits until the mock has answered
 * enough creates, and a restarted machine is killed again only once it has said it is running (its first
 * resumeAll pass done), so a busy machine (slow process start-up) changes when the kills land, never
 * whether there is work for them to interrupt. Wall-clock bounds are only there to stop a hang.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createMock, listen, type MockServerHandle } from '../../src/mock/index.ts';
import { createPrng } from '../../src/mock/prng.ts';
import { RedisJournalStore } from '../../src/redis/journal-store.ts';
import { anyRedis, redisSkip, uniqueKey } from './harness.ts';

const WORKER = fileURLToPath(new URL('./fixtures/journal-worker.ts', import.meta.url));

interface Line {
  machine: string;
  pid: number;
  ev: string;
  key?: string;
  id?: string | null;
  status?: string;
  attempt?: number;
}

class Machine {
  proc!: ChildProcess;
  readonly name: string;
  readonly dir: string;
  readonly lines: Line[];
  #exited!: Promise<void>;
  constructor(name: string, root: string, lines: Line[]) {
    this.name = name;
    this.dir = mkdtempSync(join(root, `${name}-`));
    this.lines = lines;
  }
  start(args: string[]): void {
    this.proc = spawn(process.execPath, [WORKER, ...args], { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${this.name}] ${d.toString()}`));
    createInterface({ input: this.proc.stdout! }).on('line', (l) => this.lines.push(JSON.parse(l) as Line));
    this.#exited = new Promise((r) => this.proc.once('exit', () => r()));
  }
  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.#exited;
  }
  get exited(): Promise<void> {
    return this.#exited;
  }
}

/** Polls until `ok()`; fails after `ms`, which catches a hang, not a slow machine. */
async function until(ok: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`${what}: not reached in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

type LogEntry = MockServerHandle['mock']['log'][number];

/** A create the mock answered (200 with an id), tagged with its job key. */
function isCreate(e: LogEntry): e is LogEntry & { benchId: string; objectId: string } {
  return e.kind === 'request' && e.method === 'POST' && e.path === '/v1/responses' && e.status === 200 && e.benchId !== null && e.objectId !== null;
}

const createsOf = (server: MockServerHandle): number => server.mock.log.filter(isCreate).length;

/** The counts the assertions need: so many creates before the first kill (of the 45 the machines make). */
const CREATED_BEFORE_KILLS = 10;

describe('Redis journal across machines, with kill -9', { skip: redisSkip(), timeout: 120_000 }, () => {
  let url = '';
  let stop: () => Promise<void> = async () => {};
  let server: MockServerHandle;
  const root = mkdtempSync(join(tmpdir(), 'faultline-machines-'));
  before(async () => {
    ({ url, stop } = await anyRedis());
    server = await listen({ mock: createMock({ background: { queuedMs: 50, runMs: 400 } }) });
  });
  after(async () => {
    await server.close();
    await stop();
    rmSync(root, { recursive: true, force: true });
  });

  test('every created job delivered once (or lost with a reason); none delivered twice', async () => {
    const seed = Number(process.env['FAULTLINE_CRASH_SEED'] ?? 12);
    const rng = createPrng(seed);
    const random = (): number => rng.next();
    const name = uniqueKey('machines');
    const lines: Line[] = [];
    const machines = [0, 1, 2].map((i) => new Machine(`machine-${i}`, root, lines));
    const common = (m: Machine): string[] => [server.url, url, name, m.name];
    machines.forEach((m, i) => m.start(['create', ...common(m), `m${i}-`, '15']));
    const kills: { machine: string; pid: number; at: number }[] = [];
    const ready = (m: Machine): boolean => lines.some((l) => l.pid === m.proc.pid && (l.ev === 'ready' || l.ev === 'delivered'));
    try {
      // Readiness, by count: the kills start once enough jobs exist for them to interrupt.
      await until(() => createsOf(server) >= CREATED_BEFORE_KILLS, `${CREATED_BEFORE_KILLS} creates answered by the mock`);
      // Chaos: six kills at random moments, each machine restarted as a resumer shortly after; a machine
      // is killed only once its current process is running (said so, or delivered something).
      for (let k = 0; k < 6; k++) {
        await new Promise((r) => setTimeout(r, 200 + random() * 400));
        const m = machines[Math.floor(random() * machines.length)]!;
        await until(() => ready(m), `${m.name} (pid ${m.proc.pid}) running`);
        kills.push({ machine: m.name, pid: m.proc.pid!, at: Date.now() });
        await m.kill();
        await new Promise((r) => setTimeout(r, random() * 300));
        m.start(['resume', ...common(m)]);
      }
      await new Promise((r) => setTimeout(r, 500));
      // Everyone down at once, then one last machine finishes the work.
      for (const m of machines) {
        kills.push({ machine: m.name, pid: m.proc.pid!, at: Date.now() });
        await m.kill();
      }
      const last = new Machine('machine-final', root, lines);
      last.start(['final', server.url, url, name, last.name]);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([last.exited, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('final resume did not finish in 60 s')), 60_000)))]).finally(() => {
        clearTimeout(timer);
        return last.kill();
      });
      assert.ok(lines.some((l) => l.ev === 'done'), 'the last machine finished');
    } finally {
      for (const m of machines) await m.kill();
    }

    // Ground truth: every create the mock answered, by the job key its client sent.
    const created = new Map<string, string>();
    for (const e of server.mock.log) {
      if (isCreate(e)) {
        assert.ok(!created.has(e.benchId), `${e.benchId} created twice`);
        created.set(e.benchId, e.objectId);
      }
    }
    assert.ok(created.size >= CREATED_BEFORE_KILLS, `enough jobs were created before the kills: ${created.size}`);
    const store = new RedisJournalStore({ url, name });
    try {
      assert.deepEqual(await store.listUnfinished(), [], 'nothing left unfinished');
      const deliveries = new Map<string, Line[]>();
      for (const l of lines) if (l.ev === 'delivered') deliveries.set(l.key!, [...(deliveries.get(l.key!) ?? []), l]);
      let redelivered = 0;
      for (const [key, id] of created) {
        const row = await store.get(key);
        assert.equal(row?.state, 'delivered', `${key} ends delivered`);
        const got = deliveries.get(key) ?? [];
        assert.ok(got.length >= 1, `${key} (${id}) was delivered`);
        const first = got[0]!;
        if (first.status === 'lost') assert.ok(row?.lostReason, `${key} lost with a reason`);
        else assert.equal(first.id, id, `${key} delivered with the id the mock created`);
        // A second delivery only as a new attempt, after the first deliverer was killed.
        const attempt1 = got.filter((l) => l.attempt === 1);
        assert.ok(attempt1.length <= 1, `${key} delivered twice as attempt 1: ${JSON.stringify(got)}`);
        for (const again of got.slice(1)) {
          assert.ok((again.attempt ?? 0) > 1 && kills.some((k) => k.pid === got[0]!.pid), `${key} delivered again without a crash: ${JSON.stringify(got)}`);
          redelivered++;
        }
      }
      // Jobs in the journal whose create never reached the mock are delivered as lost (orphans).
      for (const [key, got] of deliveries) if (!created.has(key)) assert.ok(got.every((l) => l.status === 'lost'), `${key} never created, delivered as lost`);
      process.stdout.write(`# seed ${seed}: ${created.size} jobs created, ${kills.length} kills, ${redelivered} redelivered after a kill in the handler, ${[...deliveries.values()].filter((g) => g[0]!.status === 'lost').length} lost\n`);
    } finally {
      await store.close();
    }
  });
});
