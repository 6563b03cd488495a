/**
 * The names faultline/otel records, in one place: the OpenTelemetry GenAI and HTTP semantic conventions
 * where one applies, `faultline.*` for what no convention names. docs/otel.md is generated from this
 * file and the catalog (`scripts/gen-otel.ts`).
 * @see https://opentelemetry.io/docs/specs/semconv/gen-ai/openai/
 * @see https://opentelemetry.io/docs/specs/semconv/general/recording-errors/
 */
import { FAILURE_CODES, type FailureCode } from '../core/catalog.ts';

/** Span and metric attribute names. */
export const ATTR = Object.freeze({
  operationName: 'gen_ai.operation.name',
  requestModel: 'gen_ai.request.model',
  providerName: 'gen_ai.provider.name',
  /** The pre-1.37 name of `gen_ai.provider.name`, still read by many backends. */
  system: 'gen_ai.system',
  errorType: 'error.type',
  httpMethod: 'http.request.method',
  httpStatus: 'http.response.status_code',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  attempts: 'faultline.attempts',
  retries: 'faultline.retries',
  pacedMs: 'faultline.paced_ms',
  backoffMs: 'faultline.backoff_ms',
  retryAfterMs: 'faultline.retry_after_ms',
  requestId: 'faultline.request_id',
  outcome: 'faultline.outcome',
  failureCode: 'faultline.failure.code',
  waitKind: 'faultline.wait.kind',
  waitOperation: 'faultline.wait.operation',
  objectId: 'faultline.object_id',
  objectStatus: 'faultline.object_status',
  waitSource: 'faultline.wait.source',
  polls: 'faultline.wait.polls',
  rateLimitKind: 'faultline.ratelimit.kind',
  delayMs: 'faultline.delay_ms',
  attempt: 'faultline.attempt',
  durationMs: 'faultline.duration_ms',
} as const);

/** Metric names. Durations are in seconds, as the OpenTelemetry conventions ask of metrics. */
export const METRIC = Object.freeze({
  operationDuration: 'gen_ai.client.operation.duration',
  requests: 'faultline.client.requests',
  retries: 'faultline.client.retries',
  pacingDuration: 'faultline.client.pacing.duration',
  backoffDuration: 'faultline.client.backoff.duration',
  rateLimitRemaining: 'faultline.ratelimit.remaining',
  rateLimitLimit: 'faultline.ratelimit.limit',
  waits: 'faultline.background.waits',
  waitDuration: 'faultline.background.wait.duration',
} as const);

/** The span event recorded for each attempt that failed and was retried. */
export const RETRY_EVENT = 'faultline.retry';

/** The wait span's event for each status a wait saw change (poll, stream, webhook). */
export const WAIT_STATUS_EVENT = 'faultline.wait.status';

/** The wait span's event for each failed poll that is retried. */
export const WAIT_RETRY_EVENT = 'faultline.wait.retry';

/** With `record: 'events'`: the caller's span event for each request, at its final outcome. */
export const REQUEST_EVENT = 'faultline.request';

/** With `record: 'events'`: the caller's span event for each wait, at its outcome. */
export const WAIT_EVENT = 'faultline.wait';

/** `faultline.outcome` of a request or wait that succeeded (otherwise it is the failure's code). */
export const SUCCESS = 'success';

/**
 * Every value `error.type` can take: the catalog's codes, and nothing else (an error faultline cannot
 * place is `unknown`). Renaming one is a breaking change, as for the codes themselves.
 */
export const ERROR_TYPES: readonly FailureCode[] = FAILURE_CODES;

/** The OpenAI API paths that are GenAI operations, and their `gen_ai.operation.name`. */
const OPERATIONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\/chat\/completions$/, 'chat'],
  [/\/responses$/, 'chat'],
  [/\/completions$/, 'text_completion'],
  [/\/embeddings$/, 'embeddings'],
];

/** The `gen_ai.operation.name` of a request path, `undefined` for the rest of the API (files, polls, …). */
export function operationOf(method: string, pathname: string): string | undefined {
  if (method !== 'POST') return undefined;
  const path = pathname.replace(/\/+$/, '');
  return OPERATIONS.find(([re]) => re.test(path))?.[1];
}

/** `gen_ai.provider.name` from the host: Azure OpenAI, else OpenAI (any compatible base URL included). */
export function providerOf(hostname: string): string {
  return /\.openai\.azure\.com$|\.cognitiveservices\.azure\.com$/i.test(hostname) ? 'azure.ai.openai' : 'openai';
}
