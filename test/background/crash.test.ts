/**
 * Crash tests across real processes: the mock is served on 127.0.0.1 by this (parent) process on a
 * manual clock; children run the background layer with the SQLite journal. Every step waits for a
 * child's message, not for time.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { createManualClock, createMock, listen, type MockServerHandle } from '../../src/mock/index.ts';
import { openJournal } from '../../src/journal/index.ts';

const WORKER = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'faultline-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Line {
  proc: string;
  pid: number;
  ev: string;
  key?: string;
  status?: string;
  code?: string | null;
  prefix?: string;
  delivered?: number;
  unfinished?: string[];
  errors?: string[];
}

class Child {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: Line[] = [];
  readonly exited: Promise<number | null>;
  #waiters: (() => void)[] = [];

  constructor(args: string[]) {
    this.proc = spawn(process.execPath, [WORKER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d: Buffer) => process.stderr.write(`[child] ${d.toString()}`));
    createInterface({ input: this.proc.stdout }).on('line', (l) => {
      this.lines.push(JSON.parse(l) as Line);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code) => {
      resolve(code);
      for (const w of this.#waiters.splice(0)) w();
    }));
  }

  /** Resolves once `pred` holds for the lines seen so far (or rejects if the child exits first). */
  async until(pred: (lines: Line[]) => boolean, what: string): Promise<void> {
    while (!pred(this.lines)) {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) throw new Error(`child exited before: ${what}`);
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  delivered(): Line[] {
    return this.lines.filter((l) => l.ev === 'delivered');
  }
}

function outcomeRules() {
  // Every third create fails in the background with a rate limit; every fifth ends incomplete.
  return [
    { match: { path: '/v1/responses', method: 'POST', every: 3 }, fault: { type: 'outcome' as const, status: 'failed' as const, code: 'rate_limit_exceeded' } },
    { match: { path: '/v1/responses', method: 'POST', every: 5 }, fault: { type: 'outcome' as const, status: 'incomplete' as const, reason: 'max_output_tokens' } },
  ];
}

async function serve(): Promise<MockServerHandle> {
  const mock = createMock({ clock: createManualClock(), background: { queuedMs: 100, runMs: 60_000 }, scenario: outcomeRules() });
  return listen({ mock });
}

describe('crash: kill -9 mid-wait, resume on the same journal', { timeout: 90_000 }, () => {
  test('every job delivered exactly once across the crash; none lost', async () => {
    const server = await serve();
    const db = join(dir, 'crash.db');
    const N = 10;
    const first = new Child(['create', server.url, db, 'first', 'a', String(N / 2)]);
    try {
      await first.until((l) => l.some((x) => x.ev === 'ready' && x.prefix === 'a'), 'wave a ready');
      // Wave a finishes while the first process watches it: delivered there.
      await server.mock.advance(61_000);
      await first.until((l) => l.filter((x) => x.ev === 'delivered').length === N / 2, 'wave a delivered');
      first.proc.stdin.write(`more b ${N / 2}\n`);
      await first.until((l) => l.some((x) => x.ev === 'ready' && x.prefix === 'b'), 'wave b ready');
      // Mid-wait: every wave-b id is journaled, none finished. Kill without a chance to clean up.
      first.proc.kill('SIGKILL');
      await first.exited;
      assert.equal(first.delivered().length, N / 2);

      const j = openJournal(db);
      const pending = await j.unfinished();
      assert.deepEqual(pending.map((r) => r.key).sort(), ['b0', 'b1', 'b2', 'b3', 'b4']);
      assert.ok(pending.every((r) => r.state === 'pending' && r.objectId !== undefined));
      assert.ok(pending.some((r) => r.leaseOwner?.includes(`:${first.proc.pid}:`)), 'the dead process still holds leases');
      await j.close();

      // While nobody watches, half the time passes; then a new process takes over at once (the holder is dead).
      await server.mock.advance(30_000);
      const second = new Child(['resume', server.url, db, 'second']);
      try {
        await server.mock.advance(31_000);
        await second.until((l) => l.some((x) => x.ev === 'done'), 'resume done');
        const all = [...first.delivered(), ...second.delivered()];
        const keys = all.map((l) => l.key).sort();
        assert.deepEqual(keys, ['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2', 'b3', 'b4'], 'every job once, none lost');
        assert.equal(new Set(keys).size, N, 'none twice');
        // The outcomes are the right typed codes (creates 3, 6, 9 failed; 5, 10 incomplete).
        const codes = all.map((l) => l.code).filter((c) => c !== null).sort();
        assert.deepEqual(codes, ['max_output_tokens', 'max_output_tokens', 'rate_limit_exceeded', 'rate_limit_exceeded', 'rate_limit_exceeded']);
        const done = second.lines.find((l) => l.ev === 'done');
        assert.equal(done?.delivered, N / 2);
        assert.deepEqual(done?.unfinished, []);
        await second.exited;
      } finally {
        second.proc.kill('SIGKILL');
      }
      const j2 = openJournal(db);
      assert.deepEqual(await j2.unfinished(), []);
      await j2.close();
    } finally {
      first.proc.kill('SIGKILL');
      await server.close();
    }
  });

  test('two processes competing for one journal: each job delivered once, each id polled by one process', async () => {
    const server = await serve();
    const db = join(dir, 'compete.db');
    const M = 12;
    // Jobs created and journaled here, as if by a process that then went away cleanly.
    const client = new OpenAI({ apiKey: 'sk-test-crash-00000000', baseURL: server.url, maxRetries: 0 });
    const j = openJournal(db);
    for (let i = 0; i < M; i++) {
      const r = await client.responses.create({ model: 'gpt-4o-mini', input: `c${i}`, background: true, store: true });
      await j.store.insert({ key: `c${i}`, kind: 'response', stream: false, objectId: r.id }, Date.now());
    }
    await j.close();
    const a = new Child(['resume', server.url, db, 'pa']);
    const b = new Child(['resume', server.url, db, 'pb']);
    try {
      await server.mock.advance(61_000);
      await a.until((l) => l.some((x) => x.ev === 'done'), 'a done');
      await b.until((l) => l.some((x) => x.ev === 'done'), 'b done');
      const keys = [...a.delivered(), ...b.delivered()].map((l) => l.key).sort();
      assert.equal(keys.length, M);
      assert.equal(new Set(keys).size, M, 'no job delivered twice');
      const pollsBy = new Map<string, Set<string>>();
      for (const e of server.mock.log) {
        if (e.kind !== 'request' || e.method !== 'GET' || e.objectId === null || e.benchId === null) continue;
        const s = pollsBy.get(e.objectId) ?? new Set<string>();
        s.add(e.benchId);
        pollsBy.set(e.objectId, s);
      }
      assert.equal(pollsBy.size, M);
      for (const [id, procs] of pollsBy) assert.equal(procs.size, 1, `${id} polled by ${[...procs].join(' and ')}`);
    } finally {
      a.proc.kill('SIGKILL');
      b.proc.kill('SIGKILL');
      await server.close();
    }
  });

  test('kill -9 mid-wait, then the restarted process runs resumeAll and createAndWait again with the same keys at once: no create paid twice, each job delivered once', async () => {
    const server = await serve();
    const db = join(dir, 'adopt.db');
    const N = 6; // p0, p3 streamed; p1, p4 polled; p2, p5 flex (completion_window, never streamed)
    const first = new Child(['create', server.url, db, 'first', 'p', String(N)]);
    try {
      await first.until((l) => l.some((x) => x.ev === 'ready'), 'every id journaled');
      first.proc.kill('SIGKILL');
      await first.exited;
      const j = openJournal(db);
      const ids = new Map((await j.unfinished()).map((r) => [r.key, r.objectId]));
      await j.close();
      assert.equal(ids.size, N);
      // An hour passes (longer than orphanAfterMs and every lease): the flex jobs must still be held.
      await server.mock.advance(3_600_000 - 61_000);
      const second = new Child(['adopt', server.url, db, 'second', 'p', String(N)]);
      try {
        await server.mock.advance(61_000);
        await second.until((l) => l.some((x) => x.ev === 'done'), 'adopt done');
        const creates = server.mock.log.filter((e) => e.kind === 'request' && e.method === 'POST' && e.path === '/v1/responses');
        assert.equal(creates.length, N, 'no create paid twice');
        assert.ok(creates.every((e) => e.kind === 'request' && e.benchId === 'first'));
        const delivered = [...first.delivered(), ...second.delivered()];
        assert.deepEqual(delivered.map((l) => l.key).sort(), [...ids.keys()].sort(), 'each job delivered once, none lost');
        assert.ok(delivered.every((l) => (l as { attempt?: number }).attempt === 1), 'no second delivery attempt');
        assert.ok(delivered.every((l) => l.status !== 'lost'));
        assert.deepEqual(second.lines.filter((l) => l.ev === 'leaseLost'), [], 'no false lease-lost warning');
        // Every createAndWait call of the restarted process settled on the job the first one created.
        const results = second.lines.filter((l) => l.ev === 'result') as (Line & { id: string | null })[];
        assert.equal(results.length, N);
        for (const r of results) assert.equal(r.id, ids.get(r.key!), `${r.key} adopted its journaled id`);
        // The flex jobs were never streamed (neither by their create nor by a resume).
        for (const key of ['p2', 'p5']) {
          const streamed = server.mock.log.filter((e) => e.kind === 'request' && e.objectId === ids.get(key) && e.stream);
          assert.deepEqual(streamed, [], `${key} not streamed`);
        }
        await second.exited;
      } finally {
        second.proc.kill('SIGKILL');
      }
    } finally {
      first.proc.kill('SIGKILL');
      await server.close();
    }
  });
});
