/**
 * Applying what a request meets besides its resource: the rate limiter's admission (and its 429s),
 * the scenario's HTTP faults, what happens to a reply after it was built (header stripping, mid-body
 * resets), and the terminal outcome an `outcome` fault (or a small `max_output_tokens`) gives a run.
 */
import type { Charge } from './cost.ts';
import { azureRateLimitBody } from './azure.ts';
import type { Body, Ctx } from './context.ts';
import { ConnectionReset, type MockReply } from './http.ts';
import type { Outcome } from './objects.ts';
import { ALL_PRESETS, type HttpPreset } from './presets.ts';
import { admit, newRateLimitState, type RateLimitConfig, type RateLimitState } from './ratelimit.ts';
import type { Replier } from './reply.ts';
import type { Fault, HttpFault } from './scenario.ts';
import { errorEnvelope, estimatePromptTokens, textTokens, tryAgainIn, utf8Length, utf8Prefix } from './wire.ts';

/** The headers proxy mode (`stripHeaders: true`) and a bare `strip_headers` fault remove. */
export const DEFAULT_STRIP: readonly string[] = ['x-ratelimit-*', 'retry-after', 'retry-after-ms', 'x-request-id', 'x-should-retry'];

/** The first fault of a type among a request's faults. */
export function faultOf<T extends Fault['type']>(faults: readonly Fault[], type: T): Extract<Fault, { type: T }> | undefined {
  return faults.find((f): f is Extract<Fault, { type: T }> => f.type === type);
}

/** Per-key RPM/TPM admission of inference requests, answering a rejection as the real API does. */
export class Admission {
  readonly #limits: RateLimitConfig;
  readonly #countRejected: boolean;
  readonly #buckets = new Map<string, RateLimitState>();
  readonly #org: string;
  readonly #replyText: string;
  readonly #azure: boolean;
  readonly #reply: Replier;

  readonly #charge: Charge | undefined;

  constructor(limits: RateLimitConfig, o: { countRejected: boolean; charge: Charge | undefined; organization: string; replyText: string; azure: boolean }, reply: Replier) {
    this.#limits = limits;
    this.#charge = o.charge;
    this.#countRejected = o.countRejected;
    this.#org = o.organization;
    this.#replyText = o.replyText;
    this.#azure = o.azure;
    this.#reply = reply;
  }

  /** Charges the request to its key's buckets; returns the 429 (or 429 too-large) reply when rejected. */
  admit(ctx: Ctx, body: Body): MockReply | undefined {
    const cfg = this.#limits;
    const maxOut = body['max_output_tokens'] ?? body['max_completion_tokens'] ?? body['max_tokens'];
    const prompt = estimatePromptTokens(body['messages'], body['input'], body['instructions']);
    const output = typeof maxOut === 'number' ? maxOut : textTokens(this.#replyText);
    ctx.cost = this.#charge === undefined ? prompt + output : this.#charge(body, output);
    const bucketKey = ctx.key ?? '';
    let st = this.#buckets.get(bucketKey);
    if (st === undefined) this.#buckets.set(bucketKey, (st = newRateLimitState()));
    const a = admit(cfg, st, ctx.t, ctx.cost, this.#countRejected);
    ctx.rate = a.snapshot;
    if (a.ok) return undefined;
    ctx.admitted = false;
    const model = ctx.model ?? 'gpt-4o-mini';
    if (a.reason === 'too_large') {
      ctx.outcome = 'request_too_large';
      const message = `Request too large for ${model} in organization ${this.#org} on tokens per min (TPM): Limit ${cfg.tpm}, Requested ${ctx.cost}. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.`;
      return this.#reply.json(ctx, 429, errorEnvelope(message, 'tokens', 'rate_limit_exceeded'));
    }
    ctx.outcome = a.reason === 'requests' ? 'rate_limited_requests' : 'rate_limited_tokens';
    const what = a.reason === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
    const limit = a.reason === 'requests' ? cfg.rpm : cfg.tpm;
    const requested = a.reason === 'requests' ? 1 : ctx.cost;
    const message = `Rate limit reached for ${model} in organization ${this.#org} on ${what}: Limit ${limit}, Used ${a.used}, Requested ${requested}. Please try again in ${tryAgainIn(a.retryAfterMs)}. Visit https://platform.openai.com/account/rate-limits to learn more.`;
    const reply = this.#reply.json(ctx, 429, this.#azure ? azureRateLimitBody(a.reason, a.retryAfterMs) : errorEnvelope(message, a.reason, 'rate_limit_exceeded'));
    reply.headers['retry-after'] = String(Math.max(1, Math.ceil(a.retryAfterMs / 1000)));
    reply.headers['retry-after-ms'] = String(Math.max(1, Math.ceil(a.retryAfterMs)));
    return reply;
  }
}

/** The status and body an `http` fault answers with (its own, else its preset's, else a plain 500). */
export function httpFaultAnswer(f: HttpFault): { status: number; body: unknown; preset: HttpPreset | undefined } {
  const preset: HttpPreset | undefined = f.preset !== undefined ? ALL_PRESETS[f.preset] : undefined;
  const status = f.status ?? preset?.status ?? 500;
  const body = f.body !== undefined ? f.body : (preset?.body ?? errorEnvelope(`Injected HTTP ${status}.`, 'server_error'));
  return { status, body, preset };
}

/** The reply of an injected `http` fault. */
export function httpFaultReply(reply: Replier, ctx: Ctx, f: HttpFault): MockReply {
  const { status, body, preset } = httpFaultAnswer(f);
  const out = typeof body === 'string' ? reply.text(ctx, status, body, preset?.contentType ?? 'text/plain') : reply.json(ctx, status, body);
  Object.assign(out.headers, preset?.headers, f.headers);
  if (f.shouldRetry !== undefined) out.headers['x-should-retry'] = String(f.shouldRetry);
  return out;
}

/** Header stripping (proxy mode or a rule) and mid-body resets, after the reply was built. */
export function applyAfter(ctx: Ctx, reply: MockReply, strip: readonly string[] | undefined): MockReply {
  if (reply.reset || (ctx.faults.length === 0 && strip === undefined)) return reply;
  let out = reply;
  const rule = faultOf(ctx.faults, 'strip_headers');
  const patterns = rule ? (rule.headers ?? DEFAULT_STRIP) : strip;
  if (patterns !== undefined) {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(out.headers)) {
      const drop = patterns.some((p) => (p.endsWith('*') ? k.startsWith(p.slice(0, -1)) : k === p));
      if (!drop) headers[k] = v;
    }
    out = { ...out, headers };
  }
  const reset = faultOf(ctx.faults, 'reset');
  if (reset && reset.when === 'mid_body') {
    ctx.outcome = 'fault';
    const source =
      out.stream ??
      (async function* (text: string) {
        yield text;
      })(out.body ?? '');
    const { stream: _s, body: _b, ...rest } = out;
    out = { ...rest, stream: cutAfter(source, reset.afterBytes) };
  }
  return out;
}

/** Passes through at most `afterBytes` bytes (default: half of the first chunk), then cuts. */
async function* cutAfter(source: AsyncIterable<string>, afterBytes: number | undefined): AsyncGenerator<string> {
  let left = afterBytes;
  for await (const chunk of source) {
    const size = utf8Length(chunk);
    if (left === undefined) left = Math.floor(size / 2);
    if (size <= left) {
      yield chunk;
      left -= size;
      continue;
    }
    if (left > 0) yield utf8Prefix(chunk, left);
    break;
  }
  throw new ConnectionReset('injected reset mid-body');
}

/** How a run ends: an `outcome` fault's status, else `incomplete` when the reply exceeds the token limit. */
export function outcomeOf(
  faults: readonly Fault[],
  maxOutputTokens: number | null,
  full: string,
): { outcome: Outcome; text: string; thenCompleted: boolean } {
  const f = faultOf(faults, 'outcome');
  if (f?.status === 'failed') {
    const error =
      f.code === null ? null : { code: f.code ?? 'server_error', message: f.message ?? 'The server had an error while processing your request. Sorry about that!' };
    return { outcome: { status: 'failed', error }, text: full, thenCompleted: false };
  }
  if (f?.status === 'incomplete') {
    return { outcome: { status: 'incomplete', reason: f.reason === undefined ? 'max_output_tokens' : f.reason }, text: half(full), thenCompleted: false };
  }
  if (f?.status === 'cancelled') {
    if (f.thenCompleted) return { outcome: { status: 'completed' }, text: full, thenCompleted: true };
    return { outcome: { status: 'cancelled' }, text: full, thenCompleted: false };
  }
  if (maxOutputTokens !== null && textTokens(full) > maxOutputTokens) {
    return { outcome: { status: 'incomplete', reason: 'max_output_tokens' }, text: full.slice(0, maxOutputTokens * 4), thenCompleted: false };
  }
  return { outcome: { status: 'completed' }, text: full, thenCompleted: false };
}

function half(text: string): string {
  return text.slice(0, Math.max(1, Math.floor(text.length / 2)));
}
