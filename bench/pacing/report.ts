/** The markdown table and the SVG chart of the pacing benchmark. */
import type { RunMetrics } from './metrics.ts';
import type { Peer } from './peers.ts';
import type { Workload } from './workloads.ts';

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function failures(f: Readonly<Record<string, number>>): string {
  const e = Object.entries(f);
  return e.length === 0 ? '0' : e.map(([k, v]) => `${v} ${k}`).join(', ');
}

function ratio(a: number, b: number): string {
  if (b === 0) return a === 0 ? '=' : '∞';
  return `${(a / b).toFixed(2)}×`;
}

export function markdown(
  results: readonly RunMetrics[],
  meta: { limits: { rpm: number; tpm: number }; peers: readonly Peer[]; workloads: readonly Workload[]; full: boolean; seed: number; latencyMedianMs: number },
): string {
  const out: string[] = [];
  out.push(`Limits ${meta.limits.rpm} RPM / ${meta.limits.tpm} TPM per key (GCRA, rejected attempts count against RPM), simulated time, response latency lognormal with median ${meta.latencyMedianMs} ms, seed ${meta.seed}.`);
  out.push('Efficiency = oracle makespan / actual makespan. The oracle replays the server limiter with exact costs over the requests the peer got through; the actual makespan runs until the peer had finished every request, in success or final failure. So a peer that fails most requests quickly scores low.');
  out.push('429/attempt counts only the server limiter\'s rejections (not the injected incident). "non-retryable retried" counts attempts sent after an attempt failed with a code that cannot succeed.\n');
  const groups = new Map<string, RunMetrics[]>();
  for (const r of results) {
    const k = `${r.workload}|${r.burstWindowMs}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  for (const [k, rows] of groups) {
    const [name, burst] = k.split('|');
    const w = meta.workloads.find((x) => x.name === name);
    out.push(`### ${name} — ${w?.description ?? ''} (${rows[0]?.jobs} requests, burst window ${Number(burst) / 1000} s)\n`);
    out.push('| peer | succeeded | efficiency | 429 / attempt | attempts / request | final failures | non-retryable retried | p50 | p99 | makespan (oracle) |');
    out.push('| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |');
    for (const r of rows) {
      out.push(
        `| ${r.peer} | ${r.succeeded}/${r.jobs} | ${r.efficiency.toFixed(3)} | ${pct(r.rateLimitedPerAttempt)} | ${r.attemptsPerRequest.toFixed(2)} | ${failures(r.finalFailures)} | ${r.nonRetryableRetried} | ${sec(r.p50Ms)} | ${sec(r.p99Ms)} | ${sec(r.makespanMs)} (${sec(r.oracleMakespanMs)}) |`,
      );
    }
    const fl = rows.find((r) => r.peer === 'faultline');
    if (fl) {
      out.push('\nfaultline against each peer (efficiency ratio; 429s per attempt ratio, peer ÷ faultline; attempts per request ratio, peer ÷ faultline):\n');
      for (const r of rows) {
        if (r === fl) continue;
        out.push(`- vs ${r.peer}: efficiency ${ratio(fl.efficiency, r.efficiency)}, 429s ${ratio(r.rateLimitedPerAttempt, fl.rateLimitedPerAttempt)}, attempts ${ratio(r.attemptsPerRequest, fl.attemptsPerRequest)}, succeeded ${fl.succeeded} vs ${r.succeeded}`);
      }
    }
    out.push('');
  }
  const clean = results.filter((r) => r.peer === 'faultline' && r.workload !== 'faulty');
  const faulty = results.filter((r) => r.peer === 'faultline' && r.workload === 'faulty');
  if (clean.length + faulty.length > 0) {
    out.push('### Targets (faultline)\n');
    for (const r of clean) {
      const ok = r.efficiency >= 0.97 && r.rateLimitedPerAttempt <= 0.001 && Object.keys(r.finalFailures).length === 0;
      out.push(`- ${ok ? 'met' : 'MISSED'}: ${r.workload} (burst ${r.burstWindowMs / 1000} s): efficiency ${r.efficiency.toFixed(3)} (≥ 0.97), 429/attempt ${pct(r.rateLimitedPerAttempt)} (≤ 0.1 %), final failures ${failures(r.finalFailures)} (0)`);
    }
    for (const r of faulty) {
      out.push(`- ${r.nonRetryableRetried === 0 ? 'met' : 'MISSED'}: faulty (burst ${r.burstWindowMs / 1000} s): non-retryable failures retried ${r.nonRetryableRetried} (0)`);
    }
  }
  return `${out.join('\n')}\n`;
}

const COLORS = ['#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#ff7f0e', '#1f77b4'];

/** Admitted tokens per second (5 s moving average) against the TPM rate, one panel per peer. */
export function chartSvg(results: readonly RunMetrics[], tpm: number): string {
  const W = 760;
  const panelH = 90;
  const left = 230;
  const right = 20;
  const top = 40;
  const limit = tpm / 60;
  // Long tails (a peer still retrying after minutes) would squash the others: cut at 3x the oracle.
  const longest = Math.max(10, ...results.map((r) => r.series.tokens.length));
  const maxS = Math.min(longest, Math.ceil((3 * Math.max(...results.map((r) => r.oracleMakespanMs), 10_000)) / 1000));
  const yMax = limit * 2;
  const x = (s: number) => left + ((W - left - right) * s) / maxS;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${top + results.length * panelH + 40}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="${left}" y="18" font-size="13" font-weight="bold">Admitted tokens/s (5 s average) vs the ${tpm / 1000}k TPM limit — mixed workload</text>`);
  parts.push(`<text x="${left}" y="32" fill="#555">dashed: the limit (${Math.round(limit)} tokens/s); red ticks: 429s from the server's limiter; x: ${maxS} s of simulated time</text>`);
  results.forEach((r, i) => {
    const y0 = top + i * panelH;
    const y = (v: number) => y0 + panelH - 10 - ((panelH - 20) * Math.min(v, yMax)) / yMax;
    parts.push(`<text x="${left - 8}" y="${y0 + panelH / 2}" text-anchor="end">${escapeXml(r.peer)}</text>`);
    parts.push(`<text x="${left - 8}" y="${y0 + panelH / 2 + 14}" text-anchor="end" fill="#555">eff ${r.efficiency.toFixed(2)}, 429 ${(r.rateLimitedPerAttempt * 100).toFixed(1)} %</text>`);
    parts.push(`<line x1="${left}" x2="${W - right}" y1="${y0 + panelH - 10}" y2="${y0 + panelH - 10}" stroke="#ccc"/>`);
    parts.push(`<line x1="${left}" x2="${W - right}" y1="${y(limit)}" y2="${y(limit)}" stroke="#333" stroke-dasharray="4 3"/>`);
    const t = r.series.tokens;
    const pts = t.slice(0, maxS + 1).map((_, s) => {
      const from = Math.max(0, s - 4);
      let sum = 0;
      for (let k = from; k <= s; k++) sum += t[k]!;
      return `${x(s).toFixed(1)},${y(sum / (s - from + 1)).toFixed(1)}`;
    });
    parts.push(`<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
    r.series.rejected.forEach((n, s) => {
      if (n > 0 && s <= maxS) parts.push(`<line x1="${x(s).toFixed(1)}" x2="${x(s).toFixed(1)}" y1="${y0 + panelH - 10}" y2="${y0 + panelH - 4}" stroke="red"/>`);
    });
  });
  const yb = top + results.length * panelH + 10;
  for (let s = 0; s <= maxS; s += Math.max(10, Math.ceil(maxS / 10 / 10) * 10)) {
    parts.push(`<text x="${x(s).toFixed(1)}" y="${yb + 10}" text-anchor="middle" fill="#555">${s} s</text>`);
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
