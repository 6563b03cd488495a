/**
 * One bounded HTTP request, and how a failure becomes a check line: `classify()` gives the catalog
 * code, the catalog row gives the one-line fix, and the code's category gives the class of problem.
 */
import { getEntry, type Category } from '../../core/catalog.ts';
import { classify } from '../../core/classify/index.ts';
import { TLS_TRUST_CODES } from '../../core/classify/vocabulary.ts';
import type { Failure } from '../../core/failure.ts';
import { attemptDeadline } from '../../internal/deadline.ts';
import type { CheckGroup, CheckResult, DoctorDeps, ProblemClass } from './types.ts';

/** The most of a body that is read (a model list is a few hundred KiB at most). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** An HTTP answer. */
export interface Answer {
  readonly kind: 'answer';
  readonly status: number;
  readonly headers: Headers;
  /** The body, parsed when it is JSON, else its text. */
  readonly body: unknown;
  /** When the request was sent and when its headers arrived, on the injected clock. */
  readonly sentAt: number;
  readonly headersAt: number;
}

/** No HTTP answer: the transport failed, or the timeout fired. */
export interface Broken {
  readonly kind: 'broken';
  readonly error: unknown;
}

async function readBody(res: Response): Promise<unknown> {
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      break;
    }
    chunks.push(value);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Sends one request, bounded by `timeoutMs` of the injected clock (headers and body). Never throws. */
export async function request(deps: Pick<DoctorDeps, 'fetch' | 'clock'>, url: string, init: RequestInit, timeoutMs: number): Promise<Answer | Broken> {
  const deadline = attemptDeadline(deps.clock, undefined, timeoutMs);
  const sentAt = deps.clock.now();
  try {
    const res = await deps.fetch(url, { ...init, signal: deadline.signal, redirect: 'manual' });
    // An answer that comes after the bound is not one (a real fetch rejects; an injected one may not).
    if (deadline.signal.aborted) return { kind: 'broken', error: deadline.signal.reason };
    const headersAt = deps.clock.now();
    const body = await readBody(res);
    return { kind: 'answer', status: res.status, headers: res.headers, body, sentAt, headersAt };
  } catch (error) {
    // Our own timeout surfaces as the signal's reason (a TimeoutError) or as an AbortError caused by it.
    return { kind: 'broken', error: deadline.signal.aborted ? deadline.signal.reason : error };
  } finally {
    deadline.end();
  }
}

/** The class of problem a catalog category stands for (`fallback` for `unknown` and the like). */
export function problemOf(category: Category, fallback: ProblemClass): ProblemClass {
  switch (category) {
    case 'auth':
      return 'credentials';
    case 'permission':
    case 'not_found':
    case 'invalid_request':
      return 'access';
    case 'rate_limit':
    case 'quota':
      return 'quota';
    case 'timeout':
    case 'connection':
    case 'server':
      return 'reachability';
    default:
      return fallback;
  }
}

/** The TLS trust code in an error's `cause` chain (a self-signed or intercepted certificate), if any. */
export function tlsCode(error: unknown): string | undefined {
  let cur: unknown = error;
  for (let depth = 0; depth < 8 && typeof cur === 'object' && cur !== null; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && (TLS_TRUST_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The classified failure of an answer or a broken request, or undefined for a success. */
export function failureOf(outcome: Answer | Broken, now: number): Failure | undefined {
  if (outcome.kind === 'broken') return classify(outcome.error, { now });
  if (outcome.status >= 200 && outcome.status < 400) return undefined;
  return classify({ status: outcome.status, headers: outcome.headers, body: outcome.body }, { now });
}

/** What a failure says, in one line, without the server's message (it may echo part of a key). */
export function describeFailure(f: Failure, tls: string | undefined): string {
  const seen: string[] = [];
  if (f.status !== undefined) seen.push(`HTTP ${f.status}`);
  if (f.wireCode !== undefined) seen.push(f.wireCode);
  else if (f.wireType !== undefined) seen.push(f.wireType);
  if (tls !== undefined) seen.push(`TLS ${tls}`);
  else if (f.transportCode !== undefined) seen.push(f.transportCode);
  else if (f.status === undefined && f.source === 'transport') seen.push(f.category === 'timeout' ? 'no answer in time' : 'no answer');
  if (f.requestId !== undefined) seen.push(`request id ${f.requestId}`);
  return seen.length > 0 ? seen.join(' · ') : f.name;
}

/** A failed check for a classified failure: its code, its one-line fix, and its class of problem. */
export function failedCheck(base: { id: string; group: CheckGroup; title: string }, f: Failure, fallback: ProblemClass, opts: { tls?: string | undefined; fix?: string; summary?: string; data?: Record<string, unknown> } = {}): CheckResult {
  const entry = getEntry(f.code);
  const fix =
    opts.fix ??
    (opts.tls !== undefined
      ? 'The server certificate is not trusted (a TLS-inspecting proxy or a private CA?): point NODE_EXTRA_CA_CERTS at the CA bundle, or fix the URL.'
      : (entry?.fix[0] ?? 'See faultline explain.'));
  return {
    ...base,
    status: 'fail',
    summary: opts.summary ?? describeFailure(f, opts.tls),
    problem: problemOf(f.category, fallback),
    code: f.code,
    fix,
    data: {
      ...(f.status !== undefined ? { status: f.status } : {}),
      ...(f.wireCode !== undefined ? { wireCode: f.wireCode } : {}),
      ...(f.wireType !== undefined ? { wireType: f.wireType } : {}),
      ...(f.requestId !== undefined ? { requestId: f.requestId } : {}),
      ...(f.transportCode !== undefined ? { transportCode: f.transportCode } : {}),
      ...(opts.tls !== undefined ? { tlsCode: opts.tls } : {}),
      ...opts.data,
    },
  };
}
