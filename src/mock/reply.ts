/**
 * How the mock answers: the error that becomes an HTTP error reply ({@link HttpError}), the real API's
 * body-validation messages, and the reply builders with the headers every answer carries.
 */
import type { Clock } from '../internal/clock.ts';
import { azureHeaders } from './azure.ts';
import type { Body, Ctx } from './context.ts';
import type { MockReply } from './http.ts';
import type { LogOutcome } from './types.ts';
import { errorEnvelope, goDuration } from './wire.ts';

/** Thrown by a resource to answer with an error; the pipeline turns it into the reply. */
export class HttpError {
  readonly status: number;
  readonly body: unknown;
  readonly outcome: LogOutcome;
  constructor(status: number, body: unknown, outcome: LogOutcome) {
    this.status = status;
    this.body = body;
    this.outcome = outcome;
  }
}

export function invalid(message: string, param: string | null = null, code: string | null = null): HttpError {
  return new HttpError(400, errorEnvelope(message, 'invalid_request_error', code, param), 'invalid_request');
}

export function notFound(message: string): HttpError {
  return new HttpError(404, errorEnvelope(message, 'invalid_request_error'), 'not_found');
}

export function invalidUrl(ctx: Ctx): HttpError {
  return new HttpError(404, errorEnvelope(`Invalid URL (${ctx.method} ${ctx.path})`, 'invalid_request_error'), 'not_found');
}

/** The real API's wording for the type of a JSON value. */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a decimal';
  return `a ${typeof v}`;
}

export function expectType(body: Body, key: string, kind: 'string' | 'boolean' | 'integer' | 'number' | 'object'): void {
  const v = body[key];
  if (v === undefined || v === null) return;
  const ok =
    kind === 'integer' ? Number.isInteger(v) : kind === 'object' ? typeof v === 'object' && !Array.isArray(v) : typeof v === kind;
  if (!ok) {
    const want = kind === 'integer' ? 'an integer' : kind === 'object' ? 'an object' : `a ${kind}`;
    throw invalid(`Invalid type for '${key}': expected ${want}, but got ${typeName(v)} instead.`, key, 'invalid_type');
  }
}

export function requireModel(body: Body): string {
  const m = body['model'];
  if (m === undefined || m === null || m === '') throw invalid("Missing required parameter: 'model'.", 'model', 'missing_required_parameter');
  if (typeof m !== 'string') throw invalid(`Invalid type for 'model': expected a string, but got ${typeName(m)} instead.`, 'model', 'invalid_type');
  return m;
}

const JSON_TYPE = 'application/json';
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

/** A reply whose headers may still be added to. */
export type OpenReply = MockReply & { headers: Record<string, string> };

/** Builds replies with the headers of the platform the mock plays (OpenAI or Azure). */
export class Replier {
  readonly #azure: boolean;
  readonly #org: string;
  readonly #clock: Clock;
  /** The last `Date` header and the second it is for (one string per second, not one per reply). */
  #dateSecond = Number.NaN;
  #date = '';

  constructor(azure: boolean, organization: string, clock: Clock) {
    this.#azure = azure;
    this.#org = organization;
    this.#clock = clock;
  }

  /**
   * The headers of every answer. `date` is the mock's clock when the answer is made (after any delay),
   * as a real server's is its own, so a manual clock set away from real time plays a skewed server.
   */
  baseHeaders(ctx: Ctx): Record<string, string> {
    const second = Math.floor(this.#clock.now() / 1000);
    if (second !== this.#dateSecond) {
      this.#dateSecond = second;
      this.#date = new Date(second * 1000).toUTCString();
    }
    const h: Record<string, string> = { date: this.#date, 'x-request-id': ctx.requestId };
    if (this.#azure) azureHeaders(h, ctx.requestId);
    else {
      h['openai-organization'] = this.#org;
      h['openai-version'] = '2020-10-01';
    }
    const r = ctx.rate;
    if (r !== undefined) {
      h['x-ratelimit-limit-requests'] = String(r.limitRequests);
      h['x-ratelimit-limit-tokens'] = String(r.limitTokens);
      h['x-ratelimit-remaining-requests'] = String(r.remainingRequests);
      h['x-ratelimit-remaining-tokens'] = String(r.remainingTokens);
      h['x-ratelimit-reset-requests'] = goDuration(r.resetRequestsMs);
      h['x-ratelimit-reset-tokens'] = goDuration(r.resetTokensMs);
    }
    return h;
  }

  json(ctx: Ctx, status: number, body: unknown): OpenReply {
    const headers = this.baseHeaders(ctx);
    headers['content-type'] = JSON_TYPE;
    return { status, headers, body: JSON.stringify(body) };
  }

  text(ctx: Ctx, status: number, body: string, contentType: string): OpenReply {
    const headers = this.baseHeaders(ctx);
    headers['content-type'] = contentType;
    return { status, headers, body };
  }

  sse(ctx: Ctx, stream: AsyncIterable<string>): MockReply {
    return { status: 200, headers: { ...this.baseHeaders(ctx), ...SSE_HEADERS }, stream };
  }
}
