/**
 * `faultline/webhooks`: a framework-neutral handler for OpenAI webhooks about background Responses and
 * batches (Standard Webhooks signatures, `webhook-id` dedupe, journal recording, waking local waiters).
 */
export { createWebhookHandler } from './handler.ts';
export type { WebhookClient, WebhookEvent, WebhookHandlerOptions, WebhookJournal, WebhookReply, WebhookRequest } from './handler.ts';
export { createResultHub } from '../background/hub.ts';
export type { HubListener, ResultHub } from '../background/hub.ts';
