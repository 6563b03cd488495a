/**
 * Seeded work lists and the fault scenario of the pacing benchmark. Every peer gets the identical list.
 */
import type { Rule } from '../../src/mock/index.ts';
import { createPrng, type Prng } from '../../src/mock/prng.ts';

export const MODEL = 'gpt-4o-mini';
export const KEY = 'sk-bench-main-0000';
/** A key whose account has no credit: every request on it is `insufficient_quota`. */
export const QUOTA_KEY = 'sk-bench-quota-0000';

export interface Job {
  /** Sent as `x-bench-id`, so the mock's log ties attempts to jobs. */
  readonly id: string;
  readonly key: string;
  readonly input: string;
  readonly maxOutputTokens: number;
}

export interface Workload {
  readonly name: string;
  readonly description: string;
  readonly jobs: readonly Job[];
  /** Fault rules for the mock (empty for the clean workloads). */
  readonly scenario: readonly Rule[];
}

/** A lognormal draw with the given median and shape (Box-Muller over the seeded PRNG). */
function lognormal(rng: Prng, median: number, sigma: number): number {
  const u = Math.max(rng.next(), 1e-12);
  const v = rng.next();
  return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
}

function text(rng: Prng, tokens: number): string {
  // chars / 4 = tokens, as the mock (and OpenAI's rule of thumb) counts them.
  const words = ['alpha', 'beta', 'gamma', 'delta', 'omega', 'sigma', 'kappa', 'theta'];
  let s = '';
  while (s.length < tokens * 4) s += `${words[Math.floor(rng.next() * words.length)]} `;
  return s.slice(0, Math.max(4, tokens * 4));
}

function jobs(prefix: string, n: number, seed: number, make: (rng: Prng, i: number) => { key?: string; promptTokens: number; maxOutputTokens: number }): Job[] {
  const rng = createPrng(seed);
  return Array.from({ length: n }, (_, i) => {
    const j = make(rng, i);
    return { id: `${prefix}-${i}`, key: j.key ?? KEY, input: text(rng, Math.round(j.promptTokens)), maxOutputTokens: Math.max(1, Math.round(j.maxOutputTokens)) };
  });
}

/** The workloads; `scale` multiplies the number of jobs (1 in quick mode). */
export function workloads(scale: number, seed: number): Workload[] {
  const n = (x: number) => Math.max(1, Math.round(x * scale));
  const mixed = (prefix: string, count: number, quotaShare: number) =>
    jobs(prefix, count, seed + 3, (rng) => ({
      key: rng.next() < quotaShare ? QUOTA_KEY : KEY,
      promptTokens: Math.min(8000, lognormal(rng, 250, 1)),
      maxOutputTokens: Math.min(4000, lognormal(rng, 150, 0.8)),
    }));
  const faultyCount = n(400);
  return [
    {
      name: 'small',
      description: 'many small requests (RPM-bound)',
      jobs: jobs('small', n(600), seed + 1, (rng) => ({ promptTokens: 20 + rng.next() * 60, maxOutputTokens: 50 })),
      scenario: [],
    },
    {
      name: 'large',
      description: 'fewer large requests (TPM-bound)',
      jobs: jobs('large', n(60), seed + 2, (rng) => ({ promptTokens: 1500 + rng.next() * 1000, maxOutputTokens: 1000 })),
      scenario: [],
    },
    { name: 'mixed', description: 'lognormal prompt and output sizes', jobs: mixed('mixed', n(400), 0), scenario: [] },
    {
      name: 'faulty',
      description: 'mixed, with 3 % 500/503, 1 % resets, a 429 incident and a key with no quota',
      jobs: mixed('faulty', faultyCount, 0.02),
      scenario: [
        { id: 'quota', match: { key: QUOTA_KEY }, fault: { type: 'http', preset: 'insufficient_quota' } },
        { id: 'incident', match: { from: Math.round(faultyCount * 0.3), to: Math.round(faultyCount * 0.3) + 20 }, fault: { type: 'http', preset: 'rate_limit_tokens' } },
        { id: 'server', match: { probability: 0.02 }, fault: { type: 'http', preset: 'server_error' } },
        { id: 'overloaded', match: { probability: 0.01 }, fault: { type: 'http', preset: 'overloaded' } },
        { id: 'reset', match: { probability: 0.01 }, fault: { type: 'reset' } },
      ],
    },
  ];
}
