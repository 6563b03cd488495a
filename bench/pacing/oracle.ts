/**
 * The oracle: the shortest possible makespan for a list of requests, found by replaying the mock's own
 * limiter (the same GCRA code, the same limits) with the exact cost of each request, sending each one,
 * in order, at the first instant the server would admit it. No client can beat it in FIFO order.
 */
import { admit, newRateLimitState, type RateLimitConfig } from '../../src/mock/ratelimit.ts';

/** Admission times (ms from 0) of requests costing `costs` tokens each, in order. */
export function oracleTimes(cfg: RateLimitConfig, costs: readonly number[]): number[] {
  const st = newRateLimitState();
  const out: number[] = [];
  let t = 0;
  for (const cost of costs) {
    for (let guard = 0; guard < 10_000; guard++) {
      const a = admit(cfg, st, t, cost, false);
      if (a.ok) break;
      if (a.reason === 'too_large') break;
      t += Math.max(a.retryAfterMs, 0.001);
    }
    out.push(t);
  }
  return out;
}

/** The oracle makespan in ms (time of the last admission). */
export function oracleMakespan(cfg: RateLimitConfig, costs: readonly number[]): number {
  const times = oracleTimes(cfg, costs);
  return times.length === 0 ? 0 : times[times.length - 1]!;
}
