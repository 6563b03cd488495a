/**
 * Retry hints: how long the server asked us to wait, from `retry-after-ms`, then `retry-after` (seconds
 * or an HTTP date), then the message ("Please try again in 494ms", "retry after 20 seconds").
 */
import type { Evidence } from './decide.ts';
import { headerOf } from './values.ts';
import { HINT_WORD_SET } from './vocabulary.ts';

const GO_DURATION = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/;

/**
 * Parse a Go-style duration as sent in `x-ratelimit-reset-*` and in rate-limit messages (`1s`, `6m0s`,
 * `20ms`, `1m30.5s`, `2h0m0s`) into milliseconds; `undefined` if it is not one.
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const m = GO_DURATION.exec(t);
  if (m === null || m[0] === '') return undefined;
  const [, h, min, sec, ms] = m;
  if (h === undefined && min === undefined && sec === undefined && ms === undefined) return undefined;
  return Number(h ?? 0) * 3_600_000 + Number(min ?? 0) * 60_000 + Number(sec ?? 0) * 1000 + Number(ms ?? 0);
}

/** "try again in 1m30s" (a Go duration). */
const TRY_AGAIN_DURATION = /try again in\s+((?:\d+(?:\.\d+)?(?:h|ms|m|s))+)/i;
/** "retry after 20 seconds", "try again in 3 minutes" (a number and a unit). */
const NUMBER_AND_UNIT: readonly RegExp[] = [
  /retry after\s+(\d+(?:\.\d+)?)\s*(milliseconds?|ms|seconds?|secs?|s|minutes?|m)\b/i,
  /try again in\s+(\d+(?:\.\d+)?)\s*(milliseconds?|seconds?|minutes?)\b/i,
];

function unitMs(unit: string): number {
  const u = unit.toLowerCase();
  if (u.startsWith('ms') || u.startsWith('milli')) return 1;
  if (u.startsWith('m')) return 60_000;
  return 1000;
}

/**
 * The wait the headers or the message ask for, in milliseconds. The message is read as decide() read it
 * (`evidence.head`, and its words: without a hint word no hint pattern can match). `now`
 * (default: the clock) turns an HTTP date into a delay.
 */
export function retryAfterOf(headers: unknown, evidence: Pick<Evidence, 'head' | 'words'>, now: number | undefined): number | undefined {
  const h = headers;
  if (h !== undefined) {
    const ms = headerOf(h, 'retry-after-ms');
    if (ms !== undefined) {
      const n = Number(ms);
      if (Number.isFinite(n) && n >= 0) return n;
    }
    const ra = headerOf(h, 'retry-after');
    if (ra !== undefined) {
      const t = ra.trim();
      if (/^\d+(?:\.\d+)?$/.test(t)) return Number(t) * 1000;
      const date = Date.parse(t);
      if (Number.isFinite(date)) return Math.max(0, date - (now ?? Date.now()));
    }
  }
  const head = evidence.head;
  if (head === undefined || (evidence.words & HINT_WORD_SET) === 0) return undefined;
  const go = TRY_AGAIN_DURATION.exec(head);
  if (go !== null) {
    const d = parseDuration(go[1]!);
    if (d !== undefined) return d;
  }
  for (const re of NUMBER_AND_UNIT) {
    const m = re.exec(head);
    if (m !== null) return Number(m[1]) * unitMs(m[2]!);
  }
  return undefined;
}
