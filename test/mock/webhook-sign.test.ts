/**
 * The mock's own webhook signer (src/mock/webhook-sign.ts) against the production verifier in
 * faultline/webhooks, and both against a Standard Webhooks signature computed here from the spec with
 * node:crypto: three independent sources that must agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { signDelivery, webhookKey } from '../../src/mock/webhook-sign.ts';
import { verifyWebhook } from '../../src/webhooks/standard-webhooks.ts';

const keyBytes = randomBytes(32);
const secret = 'whsec_' + keyBytes.toString('base64');

test('what the mock signs, verifyWebhook accepts; the signature is the spec formula', () => {
  const sentAt = 1_767_225_600_123;
  const body = JSON.stringify({ id: 'evt_1', type: 'response.completed', data: { id: 'resp_1' } });
  const headers = signDelivery(webhookKey(secret)!, 'evt_1', sentAt, body);
  assert.equal(headers['webhook-timestamp'], '1767225600');
  const expected = createHmac('sha256', keyBytes).update(`evt_1.1767225600.${body}`).digest('base64');
  assert.equal(headers['webhook-signature'], `v1,${expected}`);
  const verified = verifyWebhook({ body, headers, secret, now: sentAt });
  assert.equal(verified.ok, true);
  assert.equal(verified.ok && verified.id, 'evt_1');
  // One changed byte of the body is refused, so the check above is not vacuous.
  assert.equal(verifyWebhook({ body: body + ' ', headers, secret, now: sentAt }).ok, false);
});

test('webhookKey: whsec_ or bare canonical base64 only', () => {
  assert.deepEqual(webhookKey(secret), new Uint8Array(keyBytes));
  assert.deepEqual(webhookKey(keyBytes.toString('base64')), new Uint8Array(keyBytes));
  for (const bad of ['whsec_', 'whsec_***', 'whsec_a', 'whsec_QQ=x', '']) assert.equal(webhookKey(bad), undefined, bad);
});
