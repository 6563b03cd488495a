/**
 * The checks that talk to the base URL: DNS, connection (TLS, latency), clock skew from the `Date`
 * header, the key (a free `GET /models`), each `--model`, and the optional `--probe`. Each is a function
 * of its injected `fetch`, `clock` and `lookup`; every failure is classified by the core `classify()`.
 */
import { isIP } from 'node:net';
import { parseDuration } from '../../core/classify/index.ts';
import { sleepFor } from '../../internal/clock.ts';
import { failedCheck, failureOf, request, tlsCode, type Answer, type Broken } from './http.ts';
import { shownUrl, type Credentials, type Target } from './config.ts';
import type { CheckResult, DoctorDeps } from './types.ts';

/** Above this the clock is worth a warning (the `Date` header has one-second resolution). */
export const SKEW_WARN_MS = 30_000;
/**
 * Above this a skewed clock breaks things: webhook signatures are refused outside a 5-minute tolerance
 * (`verifyWebhook`'s default `toleranceMs`), and journal leases are compared across machines.
 */
export const SKEW_FAIL_MS = 300_000;

/** The URLs the checks call on `target`. */
export function endpoints(target: Target): { models: string; model: (id: string) => string; chat: (model: string) => string } {
  const q = target.azureApiVersion !== undefined ? `?api-version=${encodeURIComponent(target.azureApiVersion)}` : '';
  const classicAzure = target.provider === 'azure' && !target.azureV1;
  return {
    models: `${target.base}/models${q}`,
    model: (id) => `${target.base}/models/${encodeURIComponent(id)}${q}`,
    chat: (model) => (classicAzure ? `${target.base}/deployments/${encodeURIComponent(model)}/chat/completions${q}` : `${target.base}/chat/completions`),
  };
}

/**
 * DNS of the base URL's host, bounded by `timeoutMs` of the injected clock (a resolver that does not
 * answer must not hold a CI job). Skipped when a proxy carries the request: then only the proxy
 * resolves the host, and a local failure would be a false alarm.
 */
export async function checkDns(deps: Pick<DoctorDeps, 'lookup' | 'clock'>, target: Target, timeoutMs: number, proxy?: string): Promise<CheckResult> {
  const host = new URL(target.base).hostname.replace(/^\[|\]$/g, '');
  const base = { id: 'dns', group: 'reachability' as const, title: 'DNS' };
  if (isIP(host) !== 0) return { ...base, status: 'skip', summary: `${host} is an IP address`, data: { host } };
  if (proxy !== undefined) return { ...base, status: 'skip', summary: `${host} is resolved by the proxy (${proxy})`, data: { host, proxy } };
  const stop = new AbortController();
  try {
    const timedOut = sleepFor(deps.clock, timeoutMs, undefined, stop.signal).then(() => {
      if (!stop.signal.aborted) throw Object.assign(new Error(`DNS lookup of ${host} gave no answer within ${timeoutMs} ms`), { code: 'EAI_AGAIN' });
    });
    const addresses = (await Promise.race([deps.lookup(host), timedOut.then(() => [])])).map((a) => a.address);
    if (addresses.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return { ...base, status: 'ok', summary: `${host} → ${addresses.slice(0, 3).join(', ')}${addresses.length > 3 ? ` (+${addresses.length - 3})` : ''}`, data: { host, addresses } };
  } catch (error) {
    const f = failureOf({ kind: 'broken', error }, 0) as NonNullable<ReturnType<typeof failureOf>>;
    const why = f.transportCode === 'EAI_AGAIN' ? 'no answer from the resolver' : (f.transportCode ?? 'no address');
    return failedCheck(base, f, 'reachability', { summary: `${host} does not resolve (${why})`, fix: 'Check the host name in the base URL, the DNS server, or the network (a container without network?).', data: { host } });
  } finally {
    stop.abort();
  }
}

/** The answer of the first request (`GET /models`, with the key when one is set), shared by the checks that read it. */
export async function listModels(deps: Pick<DoctorDeps, 'fetch' | 'clock'>, target: Target, creds: Credentials, timeoutMs: number): Promise<Answer | Broken> {
  return request(deps, endpoints(target).models, { method: 'GET', headers: { accept: 'application/json', ...creds.headers } }, timeoutMs);
}

/** Connection, TLS and latency, from the first request. Any HTTP answer means the server was reached. */
export function checkConnect(outcome: Answer | Broken, target: Target, now: number): CheckResult {
  const base = { id: 'connect', group: 'reachability' as const, title: 'connection' };
  const https = target.base.startsWith('https:');
  if (outcome.kind === 'broken') {
    const f = failureOf(outcome, now) as NonNullable<ReturnType<typeof failureOf>>;
    return failedCheck(base, f, 'reachability', { tls: tlsCode(outcome.error) });
  }
  const latencyMs = Math.max(0, outcome.headersAt - outcome.sentAt);
  return {
    ...base,
    status: 'ok',
    summary: `${https ? 'TLS ok' : 'plain HTTP (no TLS)'} · answered HTTP ${outcome.status} in ${latencyMs} ms`,
    data: { tls: https, status: outcome.status, latencyMs },
  };
}

/** Clock skew: the server's `Date` header against the middle of the request, on the injected clock. */
export function checkClock(outcome: Answer | Broken): CheckResult {
  const base = { id: 'clock', group: 'reachability' as const, title: 'clock' };
  if (outcome.kind === 'broken') return { ...base, status: 'skip', summary: 'no answer to read a Date header from' };
  const date = outcome.headers.get('date');
  const serverMs = date === null ? NaN : Date.parse(date);
  if (!Number.isFinite(serverMs)) return { ...base, status: 'skip', summary: date === null ? 'the server sent no Date header' : 'the Date header is not an HTTP date', data: { date } };
  const localMs = (outcome.sentAt + outcome.headersAt) / 2;
  // The header is whole seconds (truncated), so the server's true time is in [serverMs, serverMs + 1000).
  const skewMs = Math.round(serverMs + 500 - localMs);
  const size = Math.abs(skewMs);
  const data = { skewMs, date };
  const shown = `${skewMs > 0 ? 'behind' : 'ahead of'} the server by ${(size / 1000).toFixed(1)} s`;
  const toleranceMs = 1000 + (outcome.headersAt - outcome.sentAt) / 2;
  if (size <= toleranceMs) return { ...base, status: 'ok', summary: 'in step with the server (±1 s)', data };
  if (size <= SKEW_WARN_MS) return { ...base, status: 'ok', summary: `this machine is ${shown}`, data };
  const fix = 'Sync this machine\'s clock (NTP: timedatectl set-ntp true, or the container host\'s clock).';
  if (size <= SKEW_FAIL_MS) return { ...base, status: 'warn', summary: `this machine is ${shown}`, fix, data };
  return { ...base, status: 'fail', summary: `this machine is ${shown}: webhook signatures (5-minute tolerance) and journal leases break`, problem: 'environment', fix, data };
}

/** Ids in a `GET /models` list body (`{ data: [{ id }] }`), or undefined when the body is not a list. */
export function listedIds(body: unknown): string[] | undefined {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return undefined;
  return data.map((m) => (m as { id?: unknown } | null)?.id).filter((id): id is string => typeof id === 'string');
}

/** Whether the key authenticates: the first request's answer. */
export function checkAuth(outcome: Answer | Broken, creds: Credentials, target: Target, now: number): CheckResult {
  const base = { id: 'auth', group: 'access' as const, title: 'key accepted' };
  if (outcome.kind === 'broken') return { ...base, status: 'skip', summary: 'the server was not reached' };
  if (creds.info.source === undefined && outcome.status === 401) return { ...base, status: 'skip', summary: 'no key to test (the server wants one: HTTP 401)', data: { status: 401 } };
  if (outcome.status >= 300 && outcome.status < 400) {
    const location = outcome.headers.get('location');
    const to = location === null ? 'nowhere' : shownUrl(new URL(location, target.base).href);
    return {
      ...base,
      status: 'fail',
      summary: `the base URL redirects (HTTP ${outcome.status} to ${to})`,
      problem: 'credentials',
      fix: 'Use the final URL as the base URL: a redirected POST may arrive as a GET, and the key must not follow a redirect to another host.',
      data: { status: outcome.status, location: to },
    };
  }
  const f = failureOf(outcome, now);
  if (f !== undefined) return failedCheck(base, f, 'access');
  const ids = listedIds(outcome.body);
  const who = creds.info.source === undefined ? 'answered without a key' : 'the key authenticates';
  return { ...base, status: 'ok', summary: `${who} (GET models: ${ids === undefined ? 'not a list' : `${ids.length} listed`})`, data: { status: outcome.status, listed: ids?.length ?? null } };
}

/**
 * One `--model`. OpenAI and compatible servers: listed by `GET /models`, else `GET /models/{id}`.
 * Azure: the name is a deployment, which no list shows, so a chat request *without messages* is sent
 * to it: Azure routes by deployment before it reads the body, so a missing deployment answers 404
 * `DeploymentNotFound` and an existing one 400 (the missing `messages`), and neither costs a token.
 */
export async function checkModel(deps: Pick<DoctorDeps, 'fetch' | 'clock'>, target: Target, creds: Credentials, model: string, listed: readonly string[] | undefined, timeoutMs: number): Promise<CheckResult> {
  const base = { id: 'model', group: 'access' as const, title: `model ${model}` };
  const urls = endpoints(target);
  if (target.provider === 'azure') {
    const body = target.azureV1 ? { model } : {};
    const outcome = await request(deps, urls.chat(model), { method: 'POST', headers: { 'content-type': 'application/json', ...creds.headers }, body: JSON.stringify(body) }, timeoutMs);
    if (outcome.kind === 'answer' && (outcome.status === 400 || (outcome.status >= 200 && outcome.status < 300))) {
      return { ...base, status: 'ok', summary: 'the deployment exists', data: { model, deployment: true, status: outcome.status } };
    }
    return failedCheck(base, failureOf(outcome, deps.clock.now()) as NonNullable<ReturnType<typeof failureOf>>, 'access', { data: { model, deployment: true } });
  }
  if (listed?.includes(model) === true) return { ...base, status: 'ok', summary: 'listed by GET models', data: { model, listed: true } };
  const outcome = await request(deps, urls.model(model), { method: 'GET', headers: { accept: 'application/json', ...creds.headers } }, timeoutMs);
  const f = failureOf(outcome, deps.clock.now());
  if (f === undefined) return { ...base, status: 'ok', summary: 'available (GET models/{id}; not in the list)', data: { model, listed: false } };
  return failedCheck(base, f, 'access', { data: { model } });
}

/** The `x-ratelimit-*` figures of one answer. */
export interface Headroom {
  readonly limitRequests?: number;
  readonly remainingRequests?: number;
  readonly resetRequestsMs?: number;
  readonly limitTokens?: number;
  readonly remainingTokens?: number;
  readonly resetTokensMs?: number;
  /** Any header that names a tier (OpenAI sends none today; shown when a server does). */
  readonly tier?: string;
}

function num(headers: Headers, name: string): number | undefined {
  const v = headers.get(name);
  if (v === null || !/^\s*\d+(?:\.\d+)?\s*$/.test(v)) return undefined;
  return Number(v);
}

function duration(headers: Headers, name: string): number | undefined {
  const v = headers.get(name);
  return v === null ? undefined : parseDuration(v);
}

/** The rate-limit headroom the headers show. */
export function headroomOf(headers: Headers): Headroom {
  const entries: [keyof Headroom, number | undefined][] = [
    ['limitRequests', num(headers, 'x-ratelimit-limit-requests')],
    ['remainingRequests', num(headers, 'x-ratelimit-remaining-requests')],
    ['resetRequestsMs', duration(headers, 'x-ratelimit-reset-requests')],
    ['limitTokens', num(headers, 'x-ratelimit-limit-tokens')],
    ['remainingTokens', num(headers, 'x-ratelimit-remaining-tokens')],
    ['resetTokensMs', duration(headers, 'x-ratelimit-reset-tokens')],
  ];
  let tier: string | undefined;
  headers.forEach((value, name) => {
    if (tier === undefined && /tier/i.test(name) && /^[\w .-]{1,40}$/.test(value)) tier = value;
  });
  return Object.fromEntries([...entries.filter(([, v]) => v !== undefined), ...(tier !== undefined ? [['tier', tier]] : [])]) as Headroom;
}

function ms(v: number | undefined): string {
  return v === undefined ? '' : v < 1000 ? `, resets in ${v} ms` : `, resets in ${(v / 1000).toFixed(v % 1000 === 0 ? 0 : 1)} s`;
}

function part(label: string, limit: number | undefined, remaining: number | undefined, reset: number | undefined): string | undefined {
  if (limit === undefined && remaining === undefined) return undefined;
  return `${label} ${limit ?? '?'} (${remaining ?? '?'} left${ms(reset)})`;
}

/** `--probe`: one minimal chat request to `model`, and the headroom its headers show. */
export async function checkProbe(deps: Pick<DoctorDeps, 'fetch' | 'clock'>, target: Target, creds: Credentials, model: string, timeoutMs: number): Promise<CheckResult[]> {
  const probe = { id: 'probe', group: 'access' as const, title: `probe ${model}` };
  const limits = { id: 'rate-limits', group: 'access' as const, title: 'rate-limit headroom' };
  // One output token. OpenAI's reasoning models refuse `max_tokens`; other servers may not know its successor.
  const cap = target.provider === 'other' ? { max_tokens: 1 } : { max_completion_tokens: 1 };
  const body = { ...(target.provider === 'azure' && !target.azureV1 ? {} : { model }), messages: [{ role: 'user', content: 'Reply with OK.' }], ...cap };
  const outcome = await request(deps, endpoints(target).chat(model), { method: 'POST', headers: { 'content-type': 'application/json', ...creds.headers }, body: JSON.stringify(body) }, timeoutMs);
  const f = failureOf(outcome, deps.clock.now());
  const first: CheckResult =
    f !== undefined
      ? failedCheck(probe, f, 'access', { tls: outcome.kind === 'broken' ? tlsCode(outcome.error) : undefined, data: { model } })
      : { ...probe, status: 'ok', summary: `one request answered HTTP ${outcome.kind === 'answer' ? outcome.status : ''} in ${outcome.kind === 'answer' ? outcome.headersAt - outcome.sentAt : 0} ms`, data: { model } };
  if (outcome.kind === 'broken') return [first, { ...limits, status: 'skip', summary: 'no answer to read headers from' }];
  const h = headroomOf(outcome.headers);
  const shown = [part('RPM', h.limitRequests, h.remainingRequests, h.resetRequestsMs), part('TPM', h.limitTokens, h.remainingTokens, h.resetTokensMs), h.tier !== undefined ? `tier ${h.tier}` : undefined].filter((s) => s !== undefined);
  if (shown.length === 0) return [first, { ...limits, status: 'skip', summary: 'the server sent no x-ratelimit-* headers', data: { ...h } }];
  const empty = h.remainingRequests === 0 || h.remainingTokens === 0;
  return [
    first,
    {
      ...limits,
      status: empty ? 'warn' : 'ok',
      summary: `${shown.join(' · ')}${h.tier === undefined ? ' · tier not shown by the headers' : ''}`,
      ...(empty ? { fix: 'The window is spent: pace requests to the x-ratelimit-* limits (createFetch does), or share one budget across processes (faultline/redis).' } : {}),
      data: { ...h },
    },
  ];
}
