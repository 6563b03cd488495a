/**
 * Kept only for `src/mock/webhooks.ts` and `src/mock/index.ts` until the mock signs with its own signer
 * (issue 11, WP-D): the 0.1 `signWebhook({ timestamp })` in seconds, and the mock's re-exports. Nothing
 * else imports this file, and no entry exports it. Delete it once the mock no longer imports it; the
 * public API is `faultline/webhooks` (`standard-webhooks.ts`).
 */
import { signWebhook as sign, type WebhookHeaders } from './standard-webhooks.ts';

export { generateWebhookSecret, verifyWebhook } from './standard-webhooks.ts';
export type { WebhookHeaders, WebhookRejection, WebhookVerification } from './standard-webhooks.ts';

/** The 0.1 input: `timestamp` in Unix seconds (fractions truncated) or a `Date`. */
interface LegacySignInput {
  readonly id: string;
  readonly timestamp: number | Date;
  readonly body: string;
  readonly secret: string;
}

/** The 0.1 signer, on the public one: seconds become the epoch milliseconds `sentAt` takes. */
export function signWebhook(input: LegacySignInput): WebhookHeaders {
  const { timestamp, ...rest } = input;
  return sign({ ...rest, sentAt: typeof timestamp === 'number' ? timestamp * 1000 : timestamp });
}
