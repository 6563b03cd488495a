/**
 * The mock's own Standard Webhooks signer, on Web APIs and fingerprint.ts's HMAC (no `node:crypto`).
 * It shares no code with faultline/webhooks on purpose: a signer and a verifier taken from one file
 * would agree on a wrong formula, so the mock is an independent witness (test/mock/webhook-sign.test.ts
 * checks that `verifyWebhook` accepts its output). It is synchronous so that a delivery starts at a fixed
 * point of the mock's clock (see fingerprint.ts).
 *
 * The signed content is `${webhook-id}.${webhook-timestamp}.${body}` (timestamp in whole seconds), the
 * signature `v1,` + base64(HMAC-SHA256(key, content)), the key the base64 bytes after `whsec_`.
 * @see https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */
import { hmacSha256 } from './fingerprint.ts';

/** The key bytes of a `whsec_<base64>` secret (a bare base64 secret too), or undefined when malformed. */
export function webhookKey(secret: string): Uint8Array | undefined {
  const raw = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(raw)) return undefined;
  let binary: string;
  try {
    binary = atob(raw);
  } catch {
    return undefined;
  }
  // Canonical base64 only: the bytes must encode back to the same digits.
  if (binary.length === 0 || btoa(binary).replace(/=+$/, '') !== raw.replace(/=+$/, '')) return undefined;
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** The three headers of a delivery sent at `sentAtMs` (epoch ms; the header carries whole seconds). */
export function signDelivery(key: Uint8Array, id: string, sentAtMs: number, body: string): { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string } {
  const timestamp = String(Math.floor(sentAtMs / 1000));
  const mac = hmacSha256(key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  let binary = '';
  for (const b of mac) binary += String.fromCharCode(b);
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${btoa(binary)}` };
}
