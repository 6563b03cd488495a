/**
 * faultline: every OpenAI API failure gets one stable code and a typed, catchable error.
 *
 * The root entry is the dependency-free core. Left out on purpose, behind subpaths so that production
 * code never pulls them in by accident: the mock server (`faultline/mock`), the durable journal
 * (`faultline/journal`, needs `node:sqlite`), the Redis budget (`faultline/redis`) and the CLI (`bin`);
 * and the wire helpers the classifier uses inside (duration and value normalisers), which have no user.
 *
 * One name per line, sorted, one block per module and kind: a change to the surface is one line here
 * and one in api/faultline.api.md (`npm run api`).
 */
export {
  CATALOG,
  FAILURE_CODES,
  getEntry,
  isFailureCode,
} from './core/catalog.ts';
export type {
  CatalogEntry,
  Category,
  ErrorName,
  FailureCode,
  NameOf,
} from './core/catalog.ts';
export type {
  Failure,
  FailureSource,
} from './core/failure.ts';
export {
  classify,
  detectFailure,
} from './core/classify/index.ts';
export type {
  ClassifyOptions,
} from './core/classify/index.ts';
export {
  AuthenticationError,
  BadRequestError,
  CancelledError,
  ConflictError,
  ConnectionError,
  ContentFilteredError,
  ContentPolicyError,
  ContextLengthExceededError,
  ERROR_CLASSES,
  ExpiredError,
  FaultlineError,
  IncompleteResponseError,
  InternalServerError,
  InvalidImageError,
  MaxOutputTokensError,
  ModelNotFoundError,
  NotFoundError,
  OverloadedError,
  PermissionDeniedError,
  QuotaExceededError,
  RateLimitError,
  RequestTooLargeError,
  TimeoutError,
  UnknownFailureError,
  UserAbortError,
  assertSucceeded,
  toError,
} from './core/errors.ts';
export type {
  AssertOptions,
  ErrorClassOf,
  FaultlineErrorOptions,
  ForeignFailure,
} from './core/errors.ts';
export {
  RetryError,
  isRetryError,
} from './core/retry-error.ts';
export type {
  RetryGiveUpReason,
} from './core/retry-error.ts';
export {
  trackStreamFailures,
} from './core/stream.ts';
export type {
  StreamFailureTracker,
} from './core/stream.ts';
export {
  isSecretHeader,
  redact,
  redactHeaders,
} from './core/redact.ts';
export type {
  Clock,
} from './internal/clock.ts';
export {
  NEVER_RETRIED_CODES,
  RETRYABLE_CODES,
  RateLimiter,
  actualCost,
  backoffDelays,
  constantBackoff,
  createFetch,
  estimateCost,
  exponentialBackoff,
  isRetryableFailure,
  readRateLimitHeaders,
  readUsage,
  retry,
} from './retry/index.ts';
export type {
  AcquireOptions,
  AttemptContext,
  Backoff,
  BackoffStep,
  BudgetDecision,
  BudgetGrant,
  BudgetStatus,
  CostEstimate,
  CreateFetchOptions,
  ExponentialBackoffOptions,
  FetchFunction,
  Grant,
  HeaderSource,
  LimitReading,
  LimiterMode,
  LimiterState,
  PacingLimits,
  RateLimitHeaders,
  RateLimiterOptions,
  RetryInfo,
  RetryOptions,
  SharedBudget,
  UsageTokens,
} from './retry/index.ts';
export {
  JOB_METADATA_KEY,
  batchReportOf,
  createAndWait,
  createResultHub,
  parseToken,
  serializeToken,
  waitForBatch,
  waitForResponse,
} from './background/index.ts';
export type {
  BackgroundResponse,
  BatchLike,
  BatchLineReport,
  BatchReport,
  BatchWaitOptions,
  BatchesClient,
  CallOptions,
  CreateParams,
  HubListener,
  PollOptions,
  ProgressSource,
  ResponsesClient,
  ResultHub,
  WaitJournal,
  WaitOptions,
  WaitProgress,
  WaitToken,
} from './background/index.ts';
