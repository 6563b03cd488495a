/**
 * The background layer: waiting for background Responses and batches. Dependency-free (no `openai`,
 * no `node:sqlite`): the root entry re-exports from here. The durable journal is `faultline/journal`,
 * the webhook handler `faultline/webhooks`.
 */
export { waitForResponse, createAndWait, JOB_METADATA_KEY } from './wait.ts';
export type { CreateParams, WaitOptions, WaitProgress } from './wait.ts';
export { waitForBatch, batchReportOf } from './batch.ts';
export type { BatchLike, BatchLineReport, BatchReport, BatchWaitOptions } from './batch.ts';
export { serializeToken, parseToken } from './token.ts';
export type { WaitToken } from './token.ts';
export { createResultHub } from './hub.ts';
export type { HubListener, ResultHub } from './hub.ts';
export { DEFAULT_POLL_POLICY, pollDelay, errorDelay, resolvePollPolicy } from './poll-backoff.ts';
export type { PollOptions, PollPolicy } from './poll-backoff.ts';
export { systemClock } from '../internal/clock.ts';
export type { Clock } from '../internal/clock.ts';
export type { BackgroundResponse, BatchesClient, CallOptions, ProgressSource, ResponsesClient, WaitJournal } from './types.ts';
