/**
 * What the request pipeline (handler.ts) hands each resource: the per-request {@link Ctx}, the
 * mock-wide {@link MockContext}, and the shape of a route. Types only.
 */
import type { Clock } from '../internal/clock.ts';
import type { MockReply, MockRequest } from './http.ts';
import type { ResolvedMockOptions } from './options.ts';
import type { Prng } from './prng.ts';
import type { RateLimitSnapshot } from './ratelimit.ts';
import type { Replier } from './reply.ts';
import type { Fault, ScenarioMatcher } from './scenario.ts';
import type { LogOutcome } from './types.ts';
import type { WebhookSweep } from './resources/webhook-sweep.ts';

/** A parsed JSON request body. */
export type Body = Record<string, unknown>;

/** One request on its way through the pipeline; the log entry is written from it. */
export interface Ctx {
  readonly t: number;
  readonly requestId: string;
  readonly benchId: string | null;
  readonly key: string | undefined;
  readonly keyId: string | null;
  readonly method: string;
  path: string;
  query: URLSearchParams | undefined;
  model: string | undefined;
  stream: boolean;
  background: boolean;
  cost: number;
  admitted: boolean;
  outcome: LogOutcome;
  fault: string | null;
  objectId: string | null;
  faults: readonly Fault[];
  rate: RateLimitSnapshot | undefined;
}

/** The mock-wide state every resource may read. */
export interface MockContext {
  readonly options: ResolvedMockOptions;
  /** The clock every wait uses (held to the clock contract). */
  readonly clock: Clock;
  readonly reply: Replier;
  readonly matcher: ScenarioMatcher;
  readonly webhooks: WebhookSweep;
  /** A new object id from the ids PRNG: `prefix` + `n` hex digits. */
  newId(prefix: string, n?: number): string;
}

/** Answers one matched request; `id` is the path's `:id` segment when the route has one. */
export type RouteHandler = (req: MockRequest, ctx: Ctx, body: Body, id: string) => MockReply | Promise<MockReply>;

/** One row of the route table: a method, the path segments after `/v1/` (`:id` = any segment). */
export interface Route {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: readonly string[];
  /** How the body is read: `json` (parsed, must be an object), `inference` (also model and stream checks). @default none */
  readonly body?: 'json' | 'inference';
  readonly handler: RouteHandler;
}
