/**
 * `faultline demo`: the README's main job. Starts the mock in-process with a lively scenario (rate
 * limits, 5xx, overload, resets, an empty-wallet key, background runs that fail on a 200 poll) and
 * runs a realistic workload through the real `openai` SDK and faultline, then prints what happened per
 * stable code. Every figure about the server side is read from the mock's ground-truth log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createAndWait } from '../background/index.ts';
import { toError } from '../core/errors.ts';
import { openJournal, type JobOutcome } from '../journal/index.ts';
import { createMock, type Mock } from '../mock/index.ts';
import { createFetch } from '../retry/index.ts';
import type { Rule } from '../mock/scenario.ts';
import { integerFlag } from './args.ts';
import type { CliIO } from './commands.ts';

/**
 * The API keys the demo's work items use. Faults that end a request for good (an empty wallet, a prompt
 * too long, a background run that fails) are tied to a key, and each work item's key is fixed by its
 * index, so the same seed gives the same outcome counts however the requests interleave. Faults that a
 * retry or a resume gets past (5xx, overload, resets, a 429 incident, dropped streams) are drawn by
 * chance and change only the attempt counts.
 */
export const DEMO_KEYS = {
  team: 'sk-demo-team-key',
  emptyWallet: 'sk-demo-empty-wallet',
  longPrompts: 'sk-demo-long-prompts',
  bgRateLimited: 'sk-demo-bg-rate-limited',
  bgServerError: 'sk-demo-bg-server-error',
  bgNullError: 'sk-demo-bg-null-error',
  bgTruncated: 'sk-demo-bg-truncated',
} as const;

/** The demo's default scenario: a bad day at the API, deterministic under the seed. */
export const DEMO_SCENARIO: readonly Rule[] = [
  { id: 'empty-wallet', match: { key: DEMO_KEYS.emptyWallet }, fault: { type: 'http', preset: 'insufficient_quota' } },
  { id: 'too-long', match: { key: DEMO_KEYS.longPrompts, path: '/v1/chat/completions' }, fault: { type: 'http', preset: 'context_length_exceeded' } },
  { id: 'incident-429', match: { path: '/v1/chat/completions', from: 150, to: 165 }, fault: { type: 'http', preset: 'rate_limit_requests' } },
  { id: 'overload', match: { path: '/v1/chat/completions', probability: 0.03 }, fault: { type: 'http', preset: 'overloaded' } },
  { id: 'server', match: { path: '/v1/chat/completions', probability: 0.03 }, fault: { type: 'http', preset: 'server_error' } },
  { id: 'gateway', match: { path: '/v1/chat/completions', probability: 0.01 }, fault: { type: 'http', preset: 'bad_gateway' } },
  { id: 'reset', match: { path: '/v1/chat/completions', probability: 0.02 }, fault: { type: 'reset', when: 'before_headers' } },
  { id: 'bg-rate-limit', match: { key: DEMO_KEYS.bgRateLimited, path: '/v1/responses', background: true }, fault: { type: 'outcome', status: 'failed', code: 'rate_limit_exceeded', message: 'Rate limit reached while processing. Please try again in 2s.' } },
  { id: 'bg-server', match: { key: DEMO_KEYS.bgServerError, path: '/v1/responses', background: true }, fault: { type: 'outcome', status: 'failed', code: 'server_error' } },
  { id: 'bg-null-error', match: { key: DEMO_KEYS.bgNullError, path: '/v1/responses', background: true }, fault: { type: 'outcome', status: 'failed', code: null } },
  { id: 'bg-truncated', match: { key: DEMO_KEYS.bgTruncated, path: '/v1/responses', background: true }, fault: { type: 'outcome', status: 'incomplete', reason: 'max_output_tokens' } },
  { id: 'bg-stream-drop', match: { path: '/v1/responses', background: true, stream: true, probability: 0.3 }, fault: { type: 'stream', action: 'reset', afterEvents: 3 } },
];

/** The key chat request `i` uses: every 50th an empty wallet, every 97th a prompt too long. */
export function chatKeyOf(i: number): string {
  if (i % 50 === 49) return DEMO_KEYS.emptyWallet;
  if (i % 97 === 96) return DEMO_KEYS.longPrompts;
  return DEMO_KEYS.team;
}

/** The key background job `i` uses: one in ten is rate limited while it runs, a few fail otherwise. */
export function jobKeyOf(i: number): string {
  if (i % 10 === 3) return DEMO_KEYS.bgRateLimited;
  if (i % 20 === 7) return DEMO_KEYS.bgServerError;
  if (i % 40 === 15) return DEMO_KEYS.bgNullError;
  if (i % 20 === 11) return DEMO_KEYS.bgTruncated;
  return DEMO_KEYS.team;
}

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Seed of the mock (faults, ids). @default 7 */
  readonly seed?: number;
  /** Chat completion requests. @default 400 */
  readonly requests?: number;
  /** Background responses. @default 40 */
  readonly jobs?: number;
  /** Requests in flight at once. @default 24 */
  readonly concurrency?: number;
  /** Called as work completes. */
  readonly onProgress?: (done: number, total: number) => void;
  /** The mock's fault rules. @default DEMO_SCENARIO */
  readonly scenario?: readonly Rule[];
}

/** What the demo saw. Server-side figures come from the mock's log. */
export interface DemoReport {
  readonly seed: number;
  readonly durationMs: number;
  readonly chat: { readonly requests: number; readonly ok: number; readonly failed: Readonly<Record<string, number>>; readonly attempts: number };
  readonly background: { readonly jobs: number; readonly ok: number; readonly failed: Readonly<Record<string, number>>; readonly lost: number; readonly delivered: number };
  readonly server: { readonly attempts: number; readonly rateLimited: number; readonly faults: number };
  /** Outcomes per stable code, both workloads together (`ok` for success). */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly retries: number;
}

/** The record with its keys in order (`ok` first), so `--json` prints the same text for the same counts. */
function sorted(map: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a === 'ok' ? -1 : b === 'ok' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
}

function count(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** Run the demo workload; resolves with the report. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const seed = options.seed ?? 7;
  const requests = options.requests ?? 400;
  const jobs = options.jobs ?? 40;
  const concurrency = options.concurrency ?? 24;
  for (const [name, v] of [['seed', seed], ['requests', requests], ['jobs', jobs], ['concurrency', concurrency]] as const) {
    if (!Number.isInteger(v) || v < (name === 'concurrency' ? 1 : 0)) throw new RangeError(`demo: ${name} must be a whole number${name === 'concurrency' ? ' >= 1' : ' >= 0'}, got ${String(v)}`);
  }
  const { default: OpenAI } = await import('openai');
  const started = performance.now();
  const mock: Mock = createMock({
    seed,
    scenario: options.scenario ?? DEMO_SCENARIO,
    rateLimit: { rpm: 3000, tpm: 1_000_000, burstWindowMs: 2000 },
    background: { queuedMs: 50, runMs: 400 },
  });
  const dir = mkdtempSync(join(tmpdir(), 'faultline-demo-'));
  const total = requests + jobs;
  let done = 0;
  const tick = (): void => {
    done++;
    options.onProgress?.(done, total);
  };
  const outcomes: Record<string, number> = {};
  const chatFailed: Record<string, number> = {};
  const bgFailed: Record<string, number> = {};
  let chatOk = 0;
  let bgOk = 0;
  let retries = 0;
  const delivered = new Map<string, JobOutcome>();
  const journal = openJournal(join(dir, 'journal.sqlite'), { onResult: (o) => void delivered.set(o.key, o) });
  try {
    // One paced, retrying fetch for the whole process: it learns the limits from the first answers'
    // x-ratelimit-* headers and shares one budget between both keys' clients. The SDK's own retries
    // are off so that only faultline decides.
    // Every attempt and every request's retries are bounded, so the demo always ends.
    const transport = createFetch({ fetch: mock.fetch, attemptTimeoutMs: 15_000, maxRetryTimeMs: 30_000, onRetry: () => void retries++ });
    const make = (apiKey: string) => new OpenAI({ apiKey, baseURL: 'http://mock.faultline.local/v1', fetch: transport, maxRetries: 0 });
    const clients = new Map<string, ReturnType<typeof make>>(Object.values(DEMO_KEYS).map((key) => [key, make(key)]));
    const clientOf = (key: string) => clients.get(key) as ReturnType<typeof make>;
    const chatWork = Array.from({ length: requests }, (_, i) => i);
    const bgWork = Array.from({ length: jobs }, (_, i) => i);
    // Runs one unit of work and files its outcome under `ok` or its stable code.
    const settle = async (failed: Record<string, number>, work: () => Promise<unknown>): Promise<boolean> => {
      let code = 'ok';
      try {
        await work();
      } catch (e) {
        code = toError(e).code;
        count(failed, code);
      }
      count(outcomes, code);
      tick();
      return code === 'ok';
    };
    const chat = pool(chatWork, concurrency, async (i) => {
      const c = clientOf(chatKeyOf(i));
      const content = `Question ${i}: what is ${i} + ${i}?`;
      if (await settle(chatFailed, () => c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], max_tokens: 64 }))) chatOk++;
    });
    const background = pool(bgWork, Math.max(1, Math.floor(concurrency / 2)), async (i) => {
      const params = { model: 'gpt-4.1-mini', input: `Background report ${i}`, max_output_tokens: 256 };
      const wait = { journal, jobKey: `demo-job-${i}`, timeoutMs: 45_000, stream: i % 2 === 0, minDelayMs: 100, maxDelayMs: 1000 };
      if (await settle(bgFailed, () => createAndWait(clientOf(jobKeyOf(i)), params, wait))) bgOk++;
    });
    await Promise.all([chat, background]);
  } finally {
    journal.close();
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const log = mock.log.filter((e) => e.kind === 'request');
  const chatAttempts = log.filter((e) => e.path === '/v1/chat/completions').length;
  // Lost: never delivered by the journal, or delivered as lost (its result can never be read).
  const lost = [...Array(jobs).keys()].filter((i) => {
    const outcome = delivered.get(`demo-job-${i}`);
    return outcome === undefined || outcome.status === 'lost';
  }).length;
  return {
    seed,
    durationMs: Math.round(performance.now() - started),
    chat: { requests, ok: chatOk, failed: sorted(chatFailed), attempts: chatAttempts },
    background: { jobs, ok: bgOk, failed: sorted(bgFailed), lost, delivered: delivered.size },
    server: {
      attempts: log.length,
      rateLimited: log.filter((e) => e.status === 429).length,
      faults: log.filter((e) => e.fault !== null).length,
    },
    outcomes: sorted(outcomes),
    retries,
  };
}

/** The report as the table the CLI prints. */
export function renderDemoReport(r: DemoReport): string {
  const codes = Object.keys(r.outcomes).sort((a, b) => (a === 'ok' ? -1 : b === 'ok' ? 1 : (r.outcomes[b] ?? 0) - (r.outcomes[a] ?? 0)));
  const rows = codes.map((c) => [c, String(r.chat.failed[c] ?? (c === 'ok' ? r.chat.ok : 0)), String(r.background.failed[c] ?? (c === 'ok' ? r.background.ok : 0)), String(r.outcomes[c] ?? 0)]);
  const head = ['outcome', 'chat', 'background', 'total'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [
    `faultline demo (seed ${r.seed}) finished in ${(r.durationMs / 1000).toFixed(1)} s`,
    '',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `chat requests ${r.chat.requests}, attempts ${r.chat.attempts}; retries by faultline ${r.retries}`,
    `429s seen by the server ${r.server.rateLimited}, faults injected ${r.server.faults}, server attempts ${r.server.attempts}`,
    `background jobs ${r.background.jobs}, delivered by the journal ${r.background.delivered}, lost ${r.background.lost}`,
    '',
  ].join('\n');
}

/** `faultline demo [--json] [--seed N] [--requests N] [--jobs N] [--concurrency N]` */
export async function runDemoCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, seed: { type: 'string' }, requests: { type: 'string' }, jobs: { type: 'string' }, concurrency: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const int = (name: string, v: string | undefined): number | undefined => integerFlag(name, v, name === 'concurrency' ? 1 : 0, Number.MAX_SAFE_INTEGER, 'demo');
  const tty = io.stdout.isTTY === true && !values.json;
  let lastPlain = -1;
  const opts: DemoOptions = {
    ...(int('seed', values.seed) !== undefined ? { seed: int('seed', values.seed) as number } : {}),
    ...(int('requests', values.requests) !== undefined ? { requests: int('requests', values.requests) as number } : {}),
    ...(int('jobs', values.jobs) !== undefined ? { jobs: int('jobs', values.jobs) as number } : {}),
    ...(int('concurrency', values.concurrency) !== undefined ? { concurrency: int('concurrency', values.concurrency) as number } : {}),
    onProgress: (done, total) => {
      if (values.json) return;
      if (tty) {
        const width = 30;
        const filled = Math.round((done / total) * width);
        io.stdout.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
        if (done === total) io.stdout.write('\n');
      } else {
        const decile = Math.floor((done / total) * 10);
        if (decile !== lastPlain) {
          lastPlain = decile;
          io.stdout.write(`progress ${done}/${total}\n`);
        }
      }
    },
  };
  const report = await runDemo(opts);
  io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderDemoReport(report));
  return report.background.lost === 0 ? 0 : 4;
}
