import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { generateWebhookSecret, signWebhook, verifyWebhook } from '../../src/webhook-signature.ts';

// The example published with the Standard Webhooks reference libraries.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TS = 1614265330;
const BODY = '{"test": 2432232314}';
const NOW = TS * 1000;

describe('signWebhook', () => {
  test('matches the algorithm written out by hand', () => {
    // Standard Webhooks: key = base64-decode(secret without "whsec_"); content = `${id}.${ts}.${body}`;
    // signature = "v1," + base64(HMAC-SHA256(key, content)).
    const key = Buffer.from(SECRET.slice(6), 'base64');
    const expected = 'v1,' + createHmac('sha256', key).update(`${ID}.${TS}.${BODY}`).digest('base64');
    const headers = signWebhook({ id: ID, timestamp: TS, body: BODY, secret: SECRET });
    assert.deepEqual(headers, {
      'webhook-id': ID,
      'webhook-timestamp': String(TS),
      'webhook-signature': expected,
    });
  });

  test('matches the published reference vector', () => {
    const headers = signWebhook({ id: ID, timestamp: TS, body: BODY, secret: SECRET });
    assert.equal(headers['webhook-signature'], 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  test('accepts a Date and truncates fractional seconds', () => {
    const a = signWebhook({ id: ID, timestamp: new Date(NOW + 999), body: BODY, secret: SECRET });
    const b = signWebhook({ id: ID, timestamp: TS + 0.7, body: BODY, secret: SECRET });
    assert.equal(a['webhook-timestamp'], String(TS));
    assert.equal(b['webhook-timestamp'], String(TS));
  });

  test('misuse throws TypeError without revealing the secret', () => {
    const bad = 'whsec_not*base64!';
    assert.throws(() => signWebhook({ id: ID, timestamp: TS, body: BODY, secret: bad }), (err: unknown) => {
      assert.ok(err instanceof TypeError);
      assert.ok(!err.message.includes('not*base64'));
      return true;
    });
    assert.throws(() => signWebhook({ id: '', timestamp: TS, body: BODY, secret: SECRET }), TypeError);
    assert.throws(() => signWebhook({ id: ID, timestamp: Number.NaN, body: BODY, secret: SECRET }), TypeError);
  });

  test('generateWebhookSecret makes a usable whsec_ secret', () => {
    const secret = generateWebhookSecret((n) => new Uint8Array(n).fill(7));
    assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    const headers = signWebhook({ id: ID, timestamp: TS, body: BODY, secret });
    assert.equal(verifyWebhook({ body: BODY, headers, secret, now: NOW }).ok, true);
  });
});

describe('verifyWebhook', () => {
  const headers = signWebhook({ id: ID, timestamp: TS, body: BODY, secret: SECRET });

  test('accepts a valid delivery (record or Headers, any key case, string or bytes body)', () => {
    assert.deepEqual(verifyWebhook({ body: BODY, headers, secret: SECRET, now: NOW }), { ok: true, id: ID, timestamp: TS });
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    assert.equal(verifyWebhook({ body: BODY, headers: upper, secret: SECRET, now: NOW }).ok, true);
    const h = new Headers(headers as unknown as Record<string, string>);
    assert.equal(verifyWebhook({ body: new TextEncoder().encode(BODY), headers: h, secret: SECRET, now: NOW }).ok, true);
  });

  test('accepts any of several space-separated signatures and any of several secrets', () => {
    const other = generateWebhookSecret((n) => new Uint8Array(n).fill(1));
    const multi = { ...headers, 'webhook-signature': `v1,AAAA v2,whatever ${headers['webhook-signature']}` };
    assert.equal(verifyWebhook({ body: BODY, headers: multi, secret: SECRET, now: NOW }).ok, true);
    assert.equal(verifyWebhook({ body: BODY, headers, secrets: [other, SECRET], now: NOW }).ok, true);
    const r = verifyWebhook({ body: BODY, headers, secrets: [other], now: NOW });
    assert.equal(r.ok, false);
  });

  test('rejects a tampered body, a wrong version prefix, and missing headers', () => {
    const tampered = verifyWebhook({ body: BODY + ' ', headers, secret: SECRET, now: NOW });
    assert.deepEqual(tampered.ok ? null : tampered.reason, 'no_matching_signature');
    const v2 = { ...headers, 'webhook-signature': headers['webhook-signature'].replace('v1,', 'v2,') };
    const r2 = verifyWebhook({ body: BODY, headers: v2, secret: SECRET, now: NOW });
    assert.equal(r2.ok ? null : r2.reason, 'no_matching_signature');
    const r3 = verifyWebhook({ body: BODY, headers: { 'webhook-id': ID }, secret: SECRET, now: NOW });
    assert.equal(r3.ok ? null : r3.reason, 'missing_headers');
    const r4 = verifyWebhook({ body: BODY, headers: { ...headers, 'webhook-timestamp': '12a' }, secret: SECRET, now: NOW });
    assert.equal(r4.ok ? null : r4.reason, 'invalid_timestamp');
  });

  test('enforces the tolerance window both ways (default 300 s)', () => {
    const at = (deltaSeconds: number, tol?: number) => {
      const r = verifyWebhook({
        body: BODY,
        headers,
        secret: SECRET,
        now: NOW + deltaSeconds * 1000,
        ...(tol === undefined ? {} : { toleranceSeconds: tol }),
      });
      return r.ok ? 'ok' : r.reason;
    };
    assert.equal(at(300), 'ok');
    assert.equal(at(-300), 'ok');
    assert.equal(at(301), 'timestamp_too_old');
    assert.equal(at(-301), 'timestamp_too_new');
    assert.equal(at(30, 10), 'timestamp_too_old');
  });

  test('never puts the secret or the expected signature in a result', () => {
    for (const body of [BODY, 'x']) {
      const r = verifyWebhook({ body, headers, secret: SECRET, now: NOW + 1e9 });
      const text = JSON.stringify(r);
      assert.ok(!text.includes(SECRET.slice(6)));
      assert.ok(!text.includes(headers['webhook-signature'].slice(3)));
    }
    assert.throws(() => verifyWebhook({ body: BODY, headers, now: NOW }), TypeError);
    assert.throws(() => verifyWebhook({ body: BODY, headers, secret: SECRET, toleranceSeconds: -1 }), RangeError);
  });
});
