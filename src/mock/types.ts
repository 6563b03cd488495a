/** Public option and record types of `faultline/mock`. */
import type { Clock } from '../internal/clock.ts';
import type { MockCostModel } from './cost.ts';
import type { Rule, Scenario } from './scenario.ts';

/** Per-key rate limits (see ratelimit.ts for the algorithm). */
export interface MockRateLimitOptions {
  /** Requests per minute per API key. @default Infinity (no request limit) */
  readonly rpm?: number;
  /** Tokens per minute per API key. @default Infinity (no token limit) */
  readonly tpm?: number;
  /**
   * How much of a minute's budget a fresh key may spend at once, in milliseconds. `60000` lets a full
   * minute's worth through in one burst; `1000` enforces the limit per second.
   * @default 60000
   */
  readonly burstWindowMs?: number;
  /**
   * Whether rejected attempts consume a request from the RPM budget, as the real API's do.
   * @default true
   */
  readonly countRejected?: boolean;
  /**
   * A charge model that differs from the client's estimate (see `MockCostModel`): per-message overhead,
   * another characters-per-token ratio, a scale, seeded noise. `usage` in the answers is unchanged.
   * @default prompt characters / 4 plus the output cap
   */
  readonly cost?: MockCostModel;
}

/** Webhook delivery (Standard Webhooks signatures). */
export interface MockWebhookOptions {
  /** Where events are POSTed. */
  readonly url: string;
  /** The signing secret, `whsec_<base64>`. Never logged. */
  readonly secret: string;
  /** The fetch used to deliver. @default globalThis.fetch */
  readonly fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /**
   * Retries per event after the first attempt (a non-2xx answer, a network error or a timeout triggers
   * one), so at most `retries + 1` attempts. @default 2
   */
  readonly retries?: number;
  /** Delay before retry n (ms, on the mock's clock); the last value repeats. @default [1000, 5000, 30000] */
  readonly retryDelaysMs?: readonly number[];
  /** How long one delivery attempt may take before it counts as failed, in ms (on the mock's clock). @default 10000 */
  readonly attemptTimeoutMs?: number;
  /** Chance in [0, 1] that a successful delivery is sent a second time (same `webhook-id`). @default 0 */
  readonly duplicateProbability?: number;
}

/** Options of {@link createMock}. */
export interface MockOptions {
  /** Seed of the PRNG behind ids and rule probabilities. Same seed, same requests → same log. @default 1 */
  readonly seed?: number;
  /**
   * The clock (see `createManualClock()` to drive time in tests).
   * @default the real clock (`Date.now()`, unref'd timers)
   */
  readonly clock?: Clock;
  /** Fault rules: a scenario object or a bare array of rules. @default no faults */
  readonly scenario?: Scenario | readonly Rule[];
  /** Per-key RPM/TPM limits, applied to `POST /v1/responses` and `POST /v1/chat/completions`. @default no limits and no `x-ratelimit-*` headers */
  readonly rateLimit?: MockRateLimitOptions;
  /** The organization named in rate-limit messages. @default 'org-mock' */
  readonly organization?: string;
  /** The text every model answers. @default 'Hello from the faultline mock server.' */
  readonly reply?: string;
  /** Ids listed by `GET /v1/models`. Other models are still accepted. @default ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1-mini', 'gpt-5-mini', 'o4-mini'] */
  readonly models?: readonly string[];
  /** When set, only these API keys are accepted; others get the real 401. @default any key */
  readonly apiKeys?: readonly string[];
  /**
   * Per API key, the models it may use: `GET /v1/models` lists only those (of `models`), and
   * `GET /v1/models/{id}` or an inference request naming another model gets the real 404
   * `model_not_found` ("does not exist or you do not have access to it"). A key not listed here may use
   * every model. The keys are compared in memory only, never logged or shown. @default every key, every model
   */
  readonly modelAccess?: Readonly<Record<string, readonly string[]>>;
  /** Background Response timing on the mock's clock. */
  readonly background?: {
    /** Time spent `queued`, in ms. @default 100 */
    readonly queuedMs?: number;
    /** Time spent `in_progress`, in ms. @default 1000 */
    readonly runMs?: number;
  };
  /** Batch timing on the mock's clock. */
  readonly batch?: {
    /** Time spent `validating`, in ms. @default 100 */
    readonly validatingMs?: number;
    /** Time spent `in_progress`, in ms. @default 1000 */
    readonly runMs?: number;
  };
  /** Stored Responses expire this many ms after creation (then 404). @default never */
  readonly responseTtlMs?: number;
  /** Delay between events of a non-background stream, in ms. @default 0 */
  readonly streamDelayMs?: number;
  /** Azure OpenAI mode: Azure paths (`/openai/deployments/{name}/...`, `/openai/v1/...`), Azure error bodies and headers. @default false */
  readonly azure?: boolean;
  /**
   * Proxy mode: remove headers from every reply, 429s included (rules only see admitted requests, so
   * use this to test clients behind a proxy that drops `retry-after`). `true` strips the default set:
   * `x-ratelimit-*`, `retry-after`, `retry-after-ms`, `x-request-id`, `x-should-retry`; or give
   * lower-case names and `prefix*` patterns.
   * @default false
   */
  readonly stripHeaders?: boolean | readonly string[];
  /** Deliver webhooks for terminal Responses and batches. @default none */
  readonly webhooks?: MockWebhookOptions;
  /**
   * Called with every log entry as it is written (after it joined `mock.log`). To append the log to a
   * file as JSON lines, use `listen({ logFile })` or `faultline mock --log FILE`. A listener that
   * throws is ignored: it never breaks the request it logs. @default none
   */
  readonly onLog?: (entry: MockLogEntry) => void;
  /**
   * The largest request body accepted, in bytes; a larger one is answered 413 with the page
   * api.openai.com's edge sends. Enforced while the body streams in (`listen()` stops reading there, the
   * `fetch` handler cancels a stream body there). Raise it to upload big batch files.
   * @default 16777216 (16 MiB)
   */
  readonly maxBodyBytes?: number;
  /**
   * Keep at most this many entries in the in-memory log. The oldest are dropped an eighth of it at a
   * time (so between seven eighths of it and all of it are kept); `onLog` and a log file see every entry.
   * @default Infinity
   */
  readonly maxLogEntries?: number;
}

/** Why a request was answered the way it was. */
export type LogOutcome =
  | 'ok'
  | 'rate_limited_requests'
  | 'rate_limited_tokens'
  | 'request_too_large'
  | 'invalid_request'
  | 'unauthorized'
  | 'not_found'
  | 'fault';

/** One line of the ground-truth log: one HTTP attempt, or one webhook delivery attempt. */
export type MockLogEntry = RequestLogEntry | WebhookLogEntry;

export interface RequestLogEntry {
  readonly kind: 'request';
  /** 1-based position in the log. */
  readonly seq: number;
  /** Server clock, epoch ms (the only field that differs between two runs with the same seed and a real clock). */
  readonly t: number;
  readonly requestId: string;
  /** The client's `x-bench-id` header, if any. */
  readonly benchId: string | null;
  /** A fingerprint of the API key (`key_<8 hex>`), never the key. */
  readonly key: string | null;
  readonly method: string;
  readonly path: string;
  readonly model: string | null;
  readonly stream: boolean;
  readonly background: boolean;
  /** Tokens charged at admission (prompt estimate + max output), 0 when not rate limited. */
  readonly cost: number;
  /** Whether the rate limiter admitted it (true when limits are off or do not apply). */
  readonly admitted: boolean;
  readonly outcome: LogOutcome;
  /** The status sent, or null when the connection was cut before headers. */
  readonly status: number | null;
  /** The fired rule id and fault types, e.g. `quota:http` or `rule-2:delay+reset`. */
  readonly fault: string | null;
  /** The Response, chat completion, batch or file id involved. */
  readonly objectId: string | null;
}

export interface WebhookLogEntry {
  readonly kind: 'webhook';
  readonly seq: number;
  readonly t: number;
  /** The `webhook-id` (same across retries and duplicates of one event). */
  readonly eventId: string;
  readonly type: string;
  readonly objectId: string;
  readonly attempt: number;
  readonly duplicate: boolean;
  /** The receiver's status, or null on a network error. */
  readonly status: number | null;
}
