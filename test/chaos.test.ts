/**
 * The short chaos run (the long one is `npm run bench:chaos`): three worker processes on one SQLite
 * journal, seeded SIGKILLs at every point of a job's life, overlapping resumeAll calls, against
 * faultline's mock with webhooks and against the hostile server (bench/chaos/hostile.ts, written from
 * the wire protocol) without them. Loopback only, bounded by each run's hard timeout; every child is
 * stopped and the temporary folder removed by the harness.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { runChaos, runningChildren, type ChaosOptions } from '../bench/chaos/harness.ts';
import { KILL_POINTS, makePlan } from '../bench/chaos/plan.ts';
import { computeFigures, ID_READ_MARGIN_MS, INVARIANTS, invariants, type ChaosFigures, type RunFacts } from '../bench/chaos/report.ts';

/** A busy loop (a timer overflowing to 1 ms, a reconnect storm) costs thousands of requests per job. */
const MAX_REQUESTS_PER_JOB = 50;

/**
 * Invariants whose fix has not landed on this branch yet, with the bug that breaks them (node:test
 * reports these as todo instead of failing).
 */
const TODO: Readonly<Record<string, string>> = {};

/**
 * A run ends when every job has settled (a count); `timeoutMs` only stops a hang. It is generous: on a
 * loaded 2-core machine (load 25) runs hit the former 20 s, and a run cut short fails the count-based
 * checks (kills fired, nothing unfinished) for no fault of the library.
 */
const RUN_TIMEOUT_MS = 60_000;

const RUNS: readonly (ChaosOptions & { readonly name: string })[] = [
  { name: 'mock + webhooks', seed: 7, mode: 'normal', webhooks: true, workers: 3, jobs: 12, timeoutMs: RUN_TIMEOUT_MS },
  { name: 'hostile, no webhooks', seed: 7, mode: 'hostile', webhooks: false, workers: 3, jobs: 12, timeoutMs: RUN_TIMEOUT_MS },
];

describe('chaos: kill -9 anywhere, several processes on one journal, hostile servers', { timeout: RUNS.length * (RUN_TIMEOUT_MS + 15_000) }, () => {
  const figures = new Map<string, ChaosFigures>();
  before(async () => {
    for (const run of RUNS) figures.set(run.name, await runChaos(run));
  });
  const of = (name: string): ChaosFigures => {
    const f = figures.get(name);
    assert.ok(f !== undefined, `run ${name} did not report`);
    return f;
  };
  const explain = (f: ChaosFigures): string => JSON.stringify({ ...f, kills: undefined });

  test('no process outlives its run', () => {
    assert.equal(figures.size, RUNS.length);
    assert.equal(runningChildren(), 0);
  });

  for (const run of RUNS) {
    describe(run.name, () => {
      test('the harness did its job: jobs created, kills fired, killed processes restarted', () => {
        const f = of(run.name);
        // A job tracked by a process killed before its create went out is never created (and is
        // delivered as an orphan): a few, not most.
        assert.ok(f.created >= f.jobs * 0.75, explain(f));
        const fired = Object.values(f.kills).reduce((a, b) => a + b, 0);
        assert.ok(fired >= 4, `only ${fired} kills fired: ${explain(f)}`);
        // A kill that lands after the last job settled needs no restart (the run is over): one may lack it.
        assert.ok(f.restarts >= fired - 1, explain(f));
        // The plan gives every point a job (tested below); a job can still lose its point to an earlier
        // kill of its process (say, it ended while its worker was down), so one may be missed.
        const points = KILL_POINTS.filter((p) => f.kills[p] >= 1);
        if (run.mode === 'normal') assert.ok(points.length >= KILL_POINTS.length - 1, `only ${points.join(', ')} fired: ${explain(f)}`);
      });
      for (const { name, holds } of INVARIANTS) {
        test(name, TODO[name] !== undefined ? { todo: TODO[name] } : {}, () => {
          const f = of(run.name);
          assert.ok(holds(f), `${name}: ${explain(f)}`);
        });
      }
      test(`no busy loop: at most ${MAX_REQUESTS_PER_JOB} requests per job`, () => {
        const f = of(run.name);
        assert.ok(f.requestsPerJob <= MAX_REQUESTS_PER_JOB, explain(f));
      });
    });
  }
});

describe('chaos figures: what counts as what', () => {
  const plan = makePlan({ seed: 3, jobs: 6, workers: 2, hostile: false, killRate: 0, longRate: 0, flexRate: 0 });
  const [a, b, c, d, e, f] = plan.map((j) => j.key) as [string, string, string, string, string, string];
  const facts = (over: Partial<RunFacts>): RunFacts => ({
    plan,
    creates: plan.map((j) => ({ key: j.key, id: `resp_${j.key}`, tag: 'w0#0' })),
    received: plan.map((j) => ({ key: j.key, tag: 'w0#0', t: 0 })),
    droppedWebhooks: [],
    deaths: new Map(),
    killed: new Set(),
    leaseLost: new Set(),
    deliveries: plan.map((j) => ({ key: j.key, status: 'completed', attempt: 1, tag: 'w0#0', t: 0 })),
    kills: [],
    rows: new Map(plan.map((j) => [j.key, 'delivered'])),
    requests: 12,
    streamedWindows: 0,
    cpuUs: 6_000,
    wallMs: 1000,
    restarts: 0,
    crashes: 0,
    leaseLostWarnings: 0,
    handlerErrors: 0,
    timedOut: false,
    ...over,
  });
  const run = { seed: 3, mode: 'normal' as const, webhooks: false, workers: 2 };

  test('a clean run holds every invariant', () => {
    const x = computeFigures(run, facts({}));
    assert.equal(x.deliveredOnce, 6);
    assert.ok(invariants(x).every(([, ok]) => ok));
    assert.equal(x.cpuMsPerJob, 1);
    assert.equal(x.requestsPerJob, 2);
  });

  test('a second delivery is allowed only after a kill inside the handler after its effect', () => {
    const base = facts({});
    const twice = [...base.deliveries, { key: a, status: 'completed', attempt: 2, tag: 'w1#0', t: 1 }, { key: b, status: 'completed', attempt: 2, tag: 'w1#0', t: 1 }];
    const x = computeFigures(run, facts({ deliveries: twice, kills: [{ key: a, point: 'handler_after_effect' }, { key: b, point: 'handler_before_effect' }] }));
    assert.equal(x.deliveredTwiceAfterHandlerKill, 1);
    assert.equal(x.deliveredTwiceOther, 1);
    assert.deepEqual(x.examples['deliveredTwiceOther'], [`${b}×2(w0#0@1,w1#0@2)`]);
  });

  test("a kill planned for another job counts when it killed the first deliverer inside the handler (no lease-lost warning from it); a stalled deliverer's repeat does not", () => {
    const base = facts({});
    const twice = [...base.deliveries, { key: a, status: 'completed', attempt: 2, tag: 'w1#0', t: 1 }, { key: b, status: 'completed', attempt: 2, tag: 'w1#0', t: 1 }];
    const kills = [{ key: c, point: 'create_sent' as const }];
    // w0#0 was killed (for c's create); it had warned that b's lease was taken over: b's repeat is a stall's.
    const x = computeFigures(run, facts({ deliveries: twice, kills, killed: new Set(['w0#0']), leaseLost: new Set([`w0#0 ${b}`]) }));
    assert.equal(x.deliveredTwiceAfterHandlerKill, 1);
    assert.equal(x.deliveredTwiceOther, 1);
    assert.deepEqual(x.examples['deliveredTwiceOther'], [`${b}×2(w0#0@1,w1#0@2)`]);
    // Nobody killed: both repeats are unexplained.
    assert.equal(computeFigures(run, facts({ deliveries: twice, kills })).deliveredTwiceOther, 2);
  });

  test('paid twice, lost with a reason, lost though the id was sent, silently lost, unfinished', () => {
    const base = facts({});
    const x = computeFigures(
      run,
      facts({
        creates: [...base.creates, { key: a, id: 'resp_again', tag: 'w1#1' }],
        // d: its create answer never reached its process; b: it did, but the process died at once
        // (both legitimate orphans); c: it did, and the process lived on.
        received: base.received.map((r) => (r.key === b ? { ...r, tag: 'w1#0' } : r)).filter((r) => r.key !== d),
        deaths: new Map([['w1#0', ID_READ_MARGIN_MS - 1]]),
        droppedWebhooks: [`resp_${b}`],
        deliveries: [
          ...base.deliveries.filter((l) => l.key !== b && l.key !== c && l.key !== d && l.key !== e && l.key !== f),
          { key: c, status: 'lost', attempt: 1, tag: 'w0#0', t: 0, lostReason: 'orphan: the create never returned an id and no webhook recovered it' },
          { key: b, status: 'lost', attempt: 1, tag: 'w0#0', t: 0, lostReason: 'orphan: the create never returned an id and no webhook recovered it' },
          { key: d, status: 'lost', attempt: 1, tag: 'w0#0', t: 0, lostReason: 'create_rejected:rate_limit_exceeded' },
        ],
        rows: new Map([...base.rows, [f, 'pending']]),
      }),
    );
    assert.equal(x.paidTwice, 1);
    assert.equal(x.lostWithReason, 3);
    assert.deepEqual(x.lostReasons, { orphan: 2, 'create_rejected:rate_limit_exceeded': 1 });
    assert.equal(x.lostThoughIdReceived, 1, 'c: its process had received its id');
    assert.equal(x.lostToDroppedWebhook, 1, 'b: a receiver dropped its webhook as a duplicate');
    assert.equal(x.lostSilently, 1, 'e: the journal says delivered, the handler never saw it');
    assert.equal(x.unfinished, 1, 'f: still pending');
    assert.deepEqual(
      invariants(x).filter(([, ok]) => !ok).map(([name]) => name),
      ['no job lost silently', 'no create paid twice', 'no job lost whose id had reached its process', 'no orphan lost whose webhook reached a receiver', 'every wait ended (no job unfinished)'],
    );
  });

  test('flex jobs: an orphan held in its window is expected; one declared lost, or a streamed create, is not', () => {
    const flex = makePlan({ seed: 3, jobs: 3, workers: 1, hostile: false, killRate: 0, longRate: 0, flexRate: 1 });
    assert.ok(flex.every((j) => j.flex && !j.stream));
    const [h, l, ok] = flex.map((j) => j.key) as [string, string, string];
    const x = computeFigures(run, {
      ...facts({}),
      plan: flex,
      creates: flex.map((j) => ({ key: j.key, id: `resp_${j.key}`, tag: 'w0#0' })),
      received: [],
      deliveries: [
        { key: l, status: 'lost', attempt: 1, tag: 'w0#0', t: 0, lostReason: 'orphan: the create never returned an id and no webhook recovered it' },
        { key: ok, status: 'completed', attempt: 1, tag: 'w0#0', t: 0 },
      ],
      rows: new Map([[h, 'creating'], [l, 'delivered'], [ok, 'delivered']]),
      streamedWindows: 2,
    });
    assert.equal(x.heldForWindow, 1);
    assert.equal(x.unfinished, 0);
    assert.equal(x.lostInsideWindow, 1);
    assert.deepEqual(invariants(x).filter(([, holds]) => !holds).map(([name]) => name), ['no flex job streamed, nor declared lost inside its window']);
  });

  test('the plan is seeded, and covers every kill point', () => {
    const p1 = makePlan({ seed: 11, jobs: 12, workers: 3, hostile: true, killRate: 0.5, longRate: 0.3, flexRate: 0.2 });
    assert.deepEqual(p1, makePlan({ seed: 11, jobs: 12, workers: 3, hostile: true, killRate: 0.5, longRate: 0.3, flexRate: 0.2 }));
    assert.notDeepEqual(p1, makePlan({ seed: 12, jobs: 12, workers: 3, hostile: true, killRate: 0.5, longRate: 0.3, flexRate: 0.2 }));
    assert.deepEqual(new Set(p1.map((j) => j.kill).filter((k) => k !== null)), new Set(KILL_POINTS));
    for (const j of p1) if (j.kill === 'mid_stream') assert.ok(j.stream, `${j.key} is killed mid-stream but never streams`);
  });
});
