/**
 * One chaos process. Every worker shares ONE SQLite journal file with the others.
 *
 *   worker.ts <config.json> <name> <incarnation> worker
 *     Runs createAndWait for its planned jobs (a restarted incarnation re-submits, with the same job
 *     keys, every job of its list that the deliveries file does not show delivered, as a program that
 *     re-runs its to-do list on start does), retries once with the same key a create that failed with a
 *     retryable error, and starts journal.resumeAll() every ~resumeEveryMs whether or not the last one
 *     ended (overlapping calls, at most two at once).
 *   worker.ts <config.json> <name> <incarnation> receiver
 *     Serves the webhook handler (src/webhooks) on 127.0.0.1:0 with its own journal handle; prints
 *     {"ev":"listening","port":N}.
 *
 * The outcome handler appends one line per delivery to the deliveries file (the side effect whose count
 * the harness checks). Planned worker-side kills (see plan.ts) SIGKILL this process at their point, once
 * across all processes (an exclusive-create marker file decides who fires). Prints JSON lines: `cpu`
 * (process.cpuUsage, every 100 ms and before a self-kill), `settled`, `resume`, `lease_lost`,
 * `handler_error`, and the receiver's `webhook` answers.
 * Exits on a `stop` line, when stdin closes (the harness died), or after `maxLifeMs`.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';
import { createAndWait } from '../../src/background/wait.ts';
import { toError } from '../../src/core/errors.ts';
import { Journal, SqliteJournalStore, type JobOutcome } from '../../src/journal/index.ts';
import { sleep } from '../../src/internal/timers.ts';
import { createWebhookHandler } from '../../src/webhooks/index.ts';
import type { ChaosConfig, DeliveryLine, ReceivedLine } from './types.ts';
import { claimKill } from './kills.ts';
import type { KillPoint } from './plan.ts';

const [configPath, name, incText, role] = process.argv.slice(2) as [string, string, string, 'worker' | 'receiver'];
const cfg = JSON.parse(readFileSync(configPath, 'utf8')) as ChaosConfig;
const inc = Number(incText);
const tag = `${name}#${inc}`;
const print = (o: Record<string, unknown>): void => void process.stdout.write(JSON.stringify({ tag, ...o }) + '\n');
const reportCpu = (): void => {
  const u = process.cpuUsage();
  print({ ev: 'cpu', us: u.user + u.system });
};
setInterval(reportCpu, 100).unref();
const stop = (): never => {
  reportCpu();
  process.exit(0);
};
createInterface({ input: process.stdin }).on('line', (l) => l.trim() === 'stop' && stop()).on('close', stop);
setTimeout(stop, cfg.maxLifeMs).unref();

const planned = new Map(cfg.jobs.map((j) => [j.key, j]));

/** SIGKILL this process if `point` is the job's planned kill and nobody fired it yet. */
function killPoint(point: KillPoint, key: string): void {
  if (planned.get(key)?.kill !== point || !claimKill(cfg.killsDir, key, point, tag)) return;
  reportCpu();
  process.kill(process.pid, 'SIGKILL');
}

/** The SQLite store, with the two "at completion" kill points around the terminal write. */
class KillingStore extends SqliteJournalStore {
  override async recordTerminal(key: string, result: unknown, failureCode: string | undefined, now: number): Promise<boolean> {
    killPoint('completion_before_record', key);
    const made = await super.recordTerminal(key, result, failureCode, now);
    killPoint('completion_after_record', key);
    return made;
  }
}

const journal: Journal = new Journal({
  store: new KillingStore(cfg.db),
  leaseMs: cfg.leaseMs,
  watchIntervalMs: cfg.watchIntervalMs,
  orphanAfterMs: cfg.orphanAfterMs,
  onResult: async (o: JobOutcome) => {
    killPoint('handler_before_effect', o.key);
    await sleep(cfg.handlerMs); // a real handler does I/O before its effect lands
    const lostReason = o.status === 'lost' ? (await journal.get(o.key))?.lostReason : undefined;
    const line: DeliveryLine = { key: o.key, status: o.status, attempt: o.attempt, tag, t: Date.now(), ...(o.id !== undefined ? { id: o.id } : {}), ...(lostReason !== undefined ? { lostReason } : {}) };
    appendFileSync(cfg.deliveries, JSON.stringify(line) + '\n');
    killPoint('handler_after_effect', o.key);
  },
  onLeaseLost: (key) => print({ ev: 'lease_lost', key }),
  onHandlerError: (error, o) => print({ ev: 'handler_error', key: o.key, message: String(error).slice(0, 200) }),
});

/** The job key of a create request, read from its body. */
function createKey(init: RequestInit | undefined): string | undefined {
  if (init?.method !== 'POST' || typeof init.body !== 'string') return undefined;
  try {
    const key = (JSON.parse(init.body) as { metadata?: Record<string, unknown> }).metadata?.['faultline_job'];
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The fetch under the SDK, noting (in the received file) when a create's answer carrying the id has
 * arrived here: the whole JSON body, or the first complete SSE event. From then on the process had
 * what it needed; a job lost after that is the library's doing, not the kill's.
 */
async function noting(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const res = await fetch(input, init);
  const key = createKey(init);
  if (key === undefined || !res.ok || res.body === null) return res;
  const note = (): void => appendFileSync(cfg.received, JSON.stringify({ key, tag, t: Date.now() } satisfies ReceivedLine) + '\n');
  const head = { status: res.status, statusText: res.statusText, headers: res.headers };
  if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const text = await res.text();
    note();
    return new Response(text, head);
  }
  let seen = '';
  const body = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, out) {
        if (seen !== 'done') {
          seen += Buffer.from(chunk).toString('utf8');
          if (seen.includes('\n\n')) {
            seen = 'done';
            note();
          }
        }
        out.enqueue(chunk);
      },
    }),
  );
  return new Response(body, head);
}

// The key is built at run time: no key-shaped literal in the repository.
const client = new OpenAI({ apiKey: ['sk', 'chaos', name].join('-'), baseURL: cfg.url, maxRetries: 0, defaultHeaders: { 'x-bench-id': tag }, fetch: noting });
const pace = cfg.pace;

function delivered(): Set<string> {
  let text = '';
  try {
    text = readFileSync(cfg.deliveries, 'utf8');
  } catch {
    return new Set();
  }
  return new Set(text.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as DeliveryLine).key));
}

async function run(job: ChaosConfig['jobs'][number], attempt: number): Promise<void> {
  try {
    const params = { model: 'gpt-4o-mini', input: `chaos job ${job.key}`, ...(job.flex ? { background_options: { completion_window: '2h' } } : {}) };
    await createAndWait(client, params, {
      ...pace,
      journal,
      jobKey: job.key,
      // A flex job leaves `stream` to the library (which must not stream it).
      ...(job.flex ? {} : { stream: job.stream }),
      timeoutMs: job.long ? cfg.longDeadlineMs : cfg.shortDeadlineMs,
    });
    print({ ev: 'settled', key: job.key, how: 'completed' });
  } catch (e) {
    const err = toError(e);
    print({ ev: 'settled', key: job.key, how: err.code, retryable: err.retryable });
    // A caller that trusts "retryable" retries once, with the same job key (the key names the job).
    if (err.retryable && attempt === 0 && !delivered().has(job.key)) {
      await sleep(cfg.retryAfterMs);
      await run(job, 1);
    }
  }
}

if (role === 'receiver') {
  const handle = createWebhookHandler({ secret: cfg.webhookSecret ?? '', client, journal });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle({ body: Buffer.concat(chunks), headers: req.headers as Record<string, string> }).then(
        (r) => {
          print({ ev: 'webhook', status: r.status, duplicate: r.duplicate === true, id: r.event?.id, key: r.event?.jobKey, body: r.status === 200 ? undefined : r.body.slice(0, 200) });
          res.writeHead(r.status, { 'content-type': 'application/json' }).end(r.body);
        },
        () => res.writeHead(500).end(),
      );
    });
  });
  server.listen(0, '127.0.0.1', () => print({ ev: 'listening', port: (server.address() as AddressInfo).port }));
} else {
  const done = delivered();
  const mine = cfg.jobs.filter((j) => j.worker === name && (inc === 0 || !done.has(j.key)));
  let resuming = 0;
  void (async () => {
    for (let i = 0; ; i++) {
      await sleep(cfg.resumeEveryMs * (0.5 + ((i * 0.618) % 1)));
      if (resuming >= 2) continue;
      resuming++;
      const long = i % 3 === 2;
      journal
        .resumeAll(client, { ...pace, timeoutMs: long ? cfg.longDeadlineMs : cfg.shortDeadlineMs, concurrency: 4 })
        .then(
          (r) => print({ ev: 'resume', delivered: r.delivered, lost: r.lost, elsewhere: r.deliveredElsewhere, unfinished: r.unfinished.length }),
          (e: unknown) => print({ ev: 'resume_error', message: String(e).slice(0, 200) }),
        )
        .finally(() => resuming--);
    }
  })();
  for (const job of mine) {
    void run(job, 0);
    await sleep(cfg.staggerMs);
  }
}
