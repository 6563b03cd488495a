/**
 * The peers, each set up the way its documentation suggests for calling OpenAI, all driving the same
 * `openai` SDK (or, for the cookbook port, the same HTTP calls) against the same mock.
 *
 * Every peer except the cookbook port gets the jobs through the same driver: at most
 * {@link DRIVER_CONCURRENCY} requests in progress, as with a typical `p-limit`. The cookbook port has
 * its own dispatch loop, as in the original.
 */
import Bottleneck from 'bottleneck';
import { bulkhead, ExponentialBackoff, handleWhen, retry as cockatielRetry, wrap } from 'cockatiel';
import OpenAI from 'openai';
import pRetry from 'p-retry';
import { createFetch } from '../../src/retry/index.ts';
import { KEY, MODEL, type Job } from './workloads.ts';

export const DRIVER_CONCURRENCY = 64;
const BASE_URL = 'http://mock.bench/v1';

export type FetchFn = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** What a peer is given. */
export interface PeerContext {
  readonly jobs: readonly Job[];
  /** The mock's fetch with simulated response latency. */
  readonly fetch: FetchFn;
  /** The true limits (for the peers that must be told them). */
  readonly limits: { readonly rpm: number; readonly tpm: number };
  /** Seeded randomness. */
  readonly random: () => number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Runs one job and records its outcome (the error is classified by faultline). */
  track(job: Job, run: () => Promise<unknown>): Promise<void>;
}

export interface Peer {
  readonly name: string;
  readonly description: string;
  run(ctx: PeerContext): Promise<void>;
}

function sdk(fetch: FetchFn, key: string, maxRetries: number): OpenAI {
  return new OpenAI({ apiKey: key, baseURL: BASE_URL, fetch, maxRetries, timeout: 600_000 });
}

function create(client: OpenAI, job: Job): Promise<unknown> {
  return client.responses.create({ model: MODEL, input: job.input, max_output_tokens: job.maxOutputTokens }, { headers: { 'x-bench-id': job.id } });
}

/** The cost estimate a client can make from the body (prompt chars / 4 + max output). */
export function estimateTokens(job: Job): number {
  return Math.ceil(job.input.length / 4) + job.maxOutputTokens;
}

async function pool(jobs: readonly Job[], concurrency: number, fn: (job: Job) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) await fn(jobs[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
}

/** One SDK client per key (the quota key is a second account). */
function clients(make: (key: string) => OpenAI): (job: Job) => OpenAI {
  const byKey = new Map<string, OpenAI>();
  return (job) => {
    let c = byKey.get(job.key);
    if (c === undefined) byKey.set(job.key, (c = make(job.key)));
    return c;
  };
}

function statusOf(e: unknown): number | undefined {
  const s = (e as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : undefined;
}

/** What most hand-written retry predicates look like: status 429, 5xx, or no status (network). */
function retryableByStatus(e: unknown): boolean {
  const s = statusOf(e);
  return s === undefined || s === 429 || s >= 500;
}

/** The SDK on its own, retrying with its built-in policy. */
function openaiPeer(name: string, description: string, maxRetries: number): Peer {
  return {
    name,
    description,
    run: async (ctx) => {
      const client = clients((key) => sdk(ctx.fetch, key, maxRetries));
      await pool(ctx.jobs, DRIVER_CONCURRENCY, (job) => ctx.track(job, () => create(client(job), job)));
    },
  };
}

const openaiDefaults = openaiPeer('openai SDK (defaults)', 'new OpenAI() as is: 2 retries, 0.5-8 s backoff, honours retry-after', 2);
const openaiRetries10 = openaiPeer('openai SDK (maxRetries 10)', 'new OpenAI({ maxRetries: 10 })', 10);

const pRetryPeer: Peer = {
  name: 'p-retry',
  description: 'pRetry(() => client.create(...)) with its defaults (10 retries, 1 s doubling), SDK maxRetries 0',
  run: async (ctx) => {
    const client = clients((key) => sdk(ctx.fetch, key, 0));
    await pool(ctx.jobs, DRIVER_CONCURRENCY, (job) => ctx.track(job, () => pRetry(() => create(client(job), job))));
  },
};

const cockatielPeer: Peer = {
  name: 'cockatiel retry+bulkhead',
  description: 'wrap(retry(429/5xx/network, 6 attempts, exponential), bulkhead(8)), SDK maxRetries 0',
  run: async (ctx) => {
    const client = clients((key) => sdk(ctx.fetch, key, 0));
    const policy = wrap(cockatielRetry(handleWhen(retryableByStatus), { maxAttempts: 6, backoff: new ExponentialBackoff() }), bulkhead(8, Infinity));
    await pool(ctx.jobs, DRIVER_CONCURRENCY, (job) => ctx.track(job, () => policy.execute(() => create(client(job), job))));
  },
};

const bottleneckPeer: Peer = {
  name: 'bottleneck RPM+TPM',
  description: 'minTime = 60 s / RPM, a TPM reservoir refilled every minute, job weight = estimated tokens, 5 retries on 429/5xx/network',
  run: async (ctx) => {
    const client = clients((key) => sdk(ctx.fetch, key, 0));
    const limiter = new Bottleneck({
      minTime: 60_000 / ctx.limits.rpm,
      reservoir: ctx.limits.tpm,
      reservoirRefreshAmount: ctx.limits.tpm,
      reservoirRefreshInterval: 60_000,
    });
    limiter.on('failed', (error: unknown, info: { retryCount: number }) => {
      if (info.retryCount >= 5 || !retryableByStatus(error)) return undefined;
      const ra = Number((error as { headers?: Headers }).headers?.get?.('retry-after-ms'));
      return Number.isFinite(ra) && ra > 0 ? ra : 1000 * 2 ** info.retryCount;
    });
    try {
      await pool(ctx.jobs, DRIVER_CONCURRENCY, (job) =>
        ctx.track(job, () => limiter.schedule({ weight: Math.min(estimateTokens(job), ctx.limits.tpm) }, () => create(client(job), job))),
      );
    } finally {
      await limiter.stop({ dropWaitingJobs: true }).catch(() => undefined);
    }
  },
};

/**
 * A TypeScript port of the logic of the OpenAI cookbook's `api_request_parallel_processor.py`: two
 * capacities (requests, tokens) refilled continuously up to one minute's worth, a request dispatched
 * when both have room, a 15 s pause for everyone after a rate-limit error, a 1 ms loop, up to 5
 * attempts per request, every error retried (the original retries any exception).
 * @see https://github.com/openai/openai-cookbook/blob/main/examples/api_request_parallel_processor.py
 */
const cookbookPeer: Peer = {
  name: 'cookbook parallel processor (port)',
  description: 'two refilling buckets at the given RPM/TPM, 15 s pause after a 429, 5 attempts, any error retried',
  run: async (ctx) => {
    const secondsToPauseAfterRateLimitError = 15;
    const maxAttempts = 5;
    const maxRequestsPerMinute = ctx.limits.rpm;
    const maxTokensPerMinute = ctx.limits.tpm;
    interface Request_ {
      readonly job: Job;
      readonly tokenConsumption: number;
      attemptsLeft: number;
      /** Ends the job: no argument for success, the last failure otherwise. */
      settle?: (failure?: unknown) => void;
    }
    const retryQueue: Request_[] = [];
    let nextJob = 0;
    let availableRequestCapacity = maxRequestsPerMinute;
    let availableTokenCapacity = maxTokensPerMinute;
    let lastUpdateTime = ctx.now();
    let timeOfLastRateLimitError = -Infinity;
    let inProgress = 0;
    let next: Request_ | undefined;
    const call = async (req: Request_): Promise<void> => {
      const body = JSON.stringify({ model: MODEL, input: req.job.input, max_output_tokens: req.job.maxOutputTokens });
      let error: string | undefined;
      let failure: unknown;
      try {
        const res = await ctx.fetch(`${BASE_URL}/responses`, {
          method: 'POST',
          headers: { authorization: `Bearer ${req.job.key}`, 'content-type': 'application/json', 'x-bench-id': req.job.id },
          body,
        });
        const json = (await res.json()) as { error?: { message?: string } };
        if (json.error) {
          error = json.error.message ?? 'error';
          failure = { status: res.status, headers: res.headers, body: json };
          if (/rate limit/i.test(error)) timeOfLastRateLimitError = ctx.now();
        }
      } catch (e) {
        error = String(e);
        failure = e;
      }
      if (error !== undefined && req.attemptsLeft > 0) retryQueue.push(req);
      else req.settle?.(error === undefined ? undefined : failure);
      inProgress--;
    };
    const finals = new Map<string, Promise<void>>();
    for (;;) {
      if (next === undefined) {
        if (retryQueue.length > 0) next = retryQueue.shift();
        else if (nextJob < ctx.jobs.length) {
          const job = ctx.jobs[nextJob++]!;
          const req: Request_ = { job, tokenConsumption: estimateTokens(job), attemptsLeft: maxAttempts };
          // The outcome is recorded when the request ends for good (the original only logs failures).
          const done = new Promise<void>((resolve, reject) => (req.settle = (f) => (f === undefined ? resolve() : reject(f))));
          finals.set(job.id, ctx.track(job, () => done));
          next = req;
        }
      }
      const now = ctx.now();
      const elapsed = (now - lastUpdateTime) / 1000;
      availableRequestCapacity = Math.min(availableRequestCapacity + (maxRequestsPerMinute * elapsed) / 60, maxRequestsPerMinute);
      availableTokenCapacity = Math.min(availableTokenCapacity + (maxTokensPerMinute * elapsed) / 60, maxTokensPerMinute);
      lastUpdateTime = now;
      if (next !== undefined && availableRequestCapacity >= 1 && availableTokenCapacity >= next.tokenConsumption) {
        availableRequestCapacity -= 1;
        availableTokenCapacity -= next.tokenConsumption;
        next.attemptsLeft -= 1;
        inProgress++;
        const req = next;
        next = undefined;
        void call(req);
      }
      if (inProgress === 0 && next === undefined && retryQueue.length === 0 && nextJob >= ctx.jobs.length) break;
      await ctx.sleep(1);
      const sinceError = (ctx.now() - timeOfLastRateLimitError) / 1000;
      if (sinceError < secondsToPauseAfterRateLimitError) await ctx.sleep((secondsToPauseAfterRateLimitError - sinceError) * 1000);
    }
    await Promise.all(finals.values());
  },
};

const faultlinePeer: Peer = {
  name: 'faultline',
  description: 'new OpenAI({ fetch: createFetch(), maxRetries: 0 }): limits learned from headers, nothing configured',
  run: async (ctx) => {
    const client = clients((key) => sdk(createFetch({ fetch: ctx.fetch, random: ctx.random }), key, 0));
    await pool(ctx.jobs, DRIVER_CONCURRENCY, (job) => ctx.track(job, () => create(client(job), job)));
  },
};

export const PEERS: readonly Peer[] = [openaiDefaults, openaiRetries10, pRetryPeer, cockatielPeer, bottleneckPeer, cookbookPeer, faultlinePeer];
export { KEY };
