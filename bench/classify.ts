/**
 * `npm run bench:classify`: classify() throughput on real openai v7 SDK error instances, Responses API
 * objects and strings, one core, no I/O. Prints a markdown table and one JSON line; the target is
 * ≥ 1 M ops/s for SDK errors. `runClassifyBench()` returns the same figures for bench/run.ts.
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai-v7';
import { classify } from '../src/classify.ts';

/** Options for {@link runClassifyBench}. */
export interface ClassifyBenchOptions {
  /**
   * How long to measure each kind of input, in milliseconds (after the warm-up).
   * @default 1000
   */
  readonly durationMs?: number;
  /**
   * How long to run each kind before measuring, in milliseconds, so the JIT has settled.
   * @default 300
   */
  readonly warmupMs?: number;
}

/** One row of the results. */
export interface ClassifyBenchResult {
  /** The kind of input: `sdk-error`, `response` or `string`. */
  readonly kind: string;
  /** How many distinct inputs of this kind were cycled through. */
  readonly inputs: number;
  /** Calls made while measuring. */
  readonly ops: number;
  /** Calls per second. */
  readonly opsPerSec: number;
  /** Mean nanoseconds per call. */
  readonly nsPerOp: number;
}

/** The results and whether the SDK-error target (≥ 1 M ops/s) was met. */
export interface ClassifyBenchReport {
  readonly node: string;
  readonly results: readonly ClassifyBenchResult[];
  readonly targetOpsPerSec: number;
  readonly targetMet: boolean;
}

const TARGET = 1_000_000;

function sdkErrors(): unknown[] {
  const h = (o: Record<string, string>) => new Headers(o);
  const gen = (status: number, body: unknown, headers: Headers) => OpenAI.APIError.generate(status, body as object, undefined, headers);
  return [
    gen(429, { error: { message: 'Rate limit reached for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Used 29937, Requested 385. Please try again in 644ms.', type: 'tokens', param: null, code: 'rate_limit_exceeded' } }, h({ 'x-request-id': 'req_1', 'retry-after-ms': '644' })),
    gen(429, { error: { message: 'You exceeded your current quota, please check your plan and billing details.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } }, h({ 'x-request-id': 'req_2' })),
    gen(400, { error: { message: "This model's maximum context length is 8192 tokens. However, your messages resulted in 8227 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } }, h({ 'x-request-id': 'req_3' })),
    gen(401, { error: { message: 'Incorrect API key provided: sk-proj-****abcd.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }, h({})),
    gen(500, { error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } }, h({ 'x-request-id': 'req_5' })),
    gen(503, { error: { message: 'That model is currently overloaded with other requests.', type: 'server_error', param: null, code: null } }, h({ 'retry-after': '2' })),
    gen(502, undefined, h({ 'content-type': 'text/html' })),
    new OpenAI.APIConnectionError({ cause: new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' }) }) }),
    new OpenAI.APIConnectionTimeoutError(),
  ];
}

function responses(): unknown[] {
  const base = { object: 'response', created_at: 1755000000, model: 'gpt-4o-mini', output: [] };
  return [
    { ...base, id: 'resp_1', status: 'failed', error: { code: 'rate_limit_exceeded', message: 'Rate limit reached. Please try again in 2s.' } },
    { ...base, id: 'resp_2', status: 'failed', error: { code: 'server_is_overloaded', message: 'Our servers are currently overloaded. Please try again later.' } },
    { ...base, id: 'resp_3', status: 'failed', error: null },
    { ...base, id: 'resp_4', status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } },
    { ...base, id: 'resp_5', status: 'incomplete', incomplete_details: { reason: 'content_filter' } },
    { ...base, id: 'resp_6', status: 'cancelled', error: null },
  ];
}

function strings(): unknown[] {
  return [
    '429 You exceeded your current quota, please check your plan and billing details.',
    '429 Rate limit reached for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Used 29937, Requested 385. Please try again in 644ms.',
    "This model's maximum context length is 4097 tokens. However, you requested 4203 tokens.",
    'Request timed out.',
    'terminated',
    'rate_limit_exceeded',
  ];
}

function measure(kind: string, inputs: readonly unknown[], durationMs: number, warmupMs: number): ClassifyBenchResult {
  const n = inputs.length;
  let sink = 0;
  const run = (ms: number): [number, number] => {
    let ops = 0;
    const start = performance.now();
    const end = start + ms;
    let now = start;
    while (now < end) {
      // Batches of calls between clock reads, so reading the clock costs little.
      for (let i = 0; i < 1000; i++) sink += classify(inputs[i % n]).message.length;
      ops += 1000;
      now = performance.now();
    }
    return [ops, now - start];
  };
  run(warmupMs);
  const [ops, elapsed] = run(durationMs);
  if (sink === -1) console.log(sink); // keep the results alive
  const opsPerSec = Math.round((ops / elapsed) * 1000);
  return { kind, inputs: n, ops, opsPerSec, nsPerOp: Math.round((elapsed * 1e6) / ops) };
}

/** Measure classify() throughput per kind of input. Synchronous and CPU-bound; bounded by the options. */
export function runClassifyBench(options: ClassifyBenchOptions = {}): ClassifyBenchReport {
  const durationMs = options.durationMs ?? 1000;
  const warmupMs = options.warmupMs ?? 300;
  if (!Number.isFinite(durationMs) || durationMs <= 0) throw new RangeError(`runClassifyBench: options.durationMs must be a positive number, got ${String(durationMs)}`);
  if (!Number.isFinite(warmupMs) || warmupMs < 0) throw new RangeError(`runClassifyBench: options.warmupMs must be a non-negative number, got ${String(warmupMs)}`);
  const results = [measure('sdk-error', sdkErrors(), durationMs, warmupMs), measure('response', responses(), durationMs, warmupMs), measure('string', strings(), durationMs, warmupMs)];
  const sdk = results[0]!;
  return { node: process.version, results, targetOpsPerSec: TARGET, targetMet: sdk.opsPerSec >= TARGET };
}

/** The report as a markdown table. */
export function formatClassifyBench(report: ClassifyBenchReport): string {
  const lines = ['| input | distinct inputs | ops/s | ns/op |', '|---|---:|---:|---:|'];
  for (const r of report.results) lines.push(`| ${r.kind} | ${r.inputs} | ${r.opsPerSec.toLocaleString('en-US')} | ${r.nsPerOp} |`);
  lines.push('', `Target for SDK errors: ≥ ${report.targetOpsPerSec.toLocaleString('en-US')} ops/s on one core — ${report.targetMet ? 'met' : 'NOT met'} (Node ${report.node}).`);
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const report = runClassifyBench();
  process.stdout.write(`${formatClassifyBench(report)}\n\n${JSON.stringify({ bench: 'classify', ...report })}\n`);
}
