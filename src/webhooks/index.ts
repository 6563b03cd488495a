/**
 * `faultline/webhooks`: a framework-neutral handler for OpenAI webhooks about background Responses and
 * batches (Standard Webhooks signatures, `webhook-id` dedupe, journal recording, waking local waiters),
 * and the Standard Webhooks signing and verification it uses, for code that verifies deliveries itself
 * or sends them (production code never needs `faultline/mock` for this).
 */
export { createWebhookHandler } from './handler.ts';
export type { WebhookClient, WebhookEvent, WebhookHandlerOptions, WebhookJournal, WebhookReply, WebhookRequest } from './handler.ts';
export { createResultHub } from '../background/hub.ts';
export type { HubListener, ResultHub } from '../background/hub.ts';
export { generateWebhookSecret, signWebhook, verifyWebhook } from './standard-webhooks.ts';
export type { SignWebhookInput, VerifyWebhookInput, WebhookHeaderInput, WebhookHeaders, WebhookRejection, WebhookVerification } from './standard-webhooks.ts';
// Types that this entry's signatures use, so a user can name them without a second import.
export type { CATALOG, Category, ErrorName, FailureCode } from '../core/catalog.ts';
export type { Failure, FailureSource } from '../core/failure.ts';
export type { CallOptions } from '../background/types.ts';
export type { Clock } from '../internal/clock.ts';
