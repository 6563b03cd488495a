import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import * as webhooks from '../../src/webhooks/index.ts';
import { generateWebhookSecret, signWebhook, verifyWebhook } from '../../src/webhooks/index.ts';

// The example published with the Standard Webhooks reference libraries.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TS = 1614265330;
const BODY = '{"test": 2432232314}';
const NOW = TS * 1000;

test('faultline/webhooks is where production code signs and verifies (no import of the mock)', () => {
  for (const name of ['signWebhook', 'verifyWebhook', 'generateWebhookSecret', 'createWebhookHandler'] as const) {
    assert.equal(typeof webhooks[name], 'function', name);
  }
});

describe('signWebhook', () => {
  test('matches the algorithm written out by hand', () => {
    // Standard Webhooks: key = base64-decode(secret without "whsec_"); content = `${id}.${ts}.${body}`;
    // signature = "v1," + base64(HMAC-SHA256(key, content)).
    const key = Buffer.from(SECRET.slice(6), 'base64');
    const expected = 'v1,' + createHmac('sha256', key).update(`${ID}.${TS}.${BODY}`).digest('base64');
    const headers = signWebhook({ id: ID, sentAt: NOW, body: BODY, secret: SECRET });
    assert.deepEqual(headers, {
      'webhook-id': ID,
      'webhook-timestamp': String(TS),
      'webhook-signature': expected,
    });
  });

  test('matches the published reference vector', () => {
    const headers = signWebhook({ id: ID, sentAt: NOW, body: BODY, secret: SECRET });
    assert.equal(headers['webhook-signature'], 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  test('sentAt is epoch milliseconds or a Date; the header carries whole seconds (truncated)', () => {
    const a = signWebhook({ id: ID, sentAt: new Date(NOW + 999), body: BODY, secret: SECRET });
    const b = signWebhook({ id: ID, sentAt: NOW + 700, body: BODY, secret: SECRET });
    const c = signWebhook({ id: ID, sentAt: NOW, body: BODY, secret: SECRET });
    assert.equal(a['webhook-timestamp'], String(TS));
    assert.equal(b['webhook-timestamp'], String(TS));
    assert.deepEqual(a, c, 'a Date and a number for the same second sign the same');
    assert.equal(signWebhook({ id: ID, sentAt: NOW + 1000, body: BODY, secret: SECRET })['webhook-timestamp'], String(TS + 1));
  });

  test('the 0.1 `timestamp` (seconds) throws, naming sentAt: it is never read as milliseconds of 1970', () => {
    assert.throws(() => signWebhook({ id: ID, timestamp: TS, body: BODY, secret: SECRET } as never), {
      name: 'TypeError',
      message: 'signWebhook: options.timestamp was renamed to options.sentAt (0.2.0; epoch milliseconds or a Date, no longer seconds)',
    });
  });

  test('misuse throws TypeError without revealing the secret', () => {
    const bad = 'whsec_not*base64!';
    assert.throws(() => signWebhook({ id: ID, sentAt: NOW, body: BODY, secret: bad }), (err: unknown) => {
      assert.ok(err instanceof TypeError);
      assert.ok(!err.message.includes('not*base64'));
      return true;
    });
    assert.throws(() => signWebhook({ id: '', sentAt: NOW, body: BODY, secret: SECRET }), { name: 'TypeError', message: 'signWebhook: options.id must be a non-empty string, got ""' });
    assert.throws(() => signWebhook({ body: BODY, sentAt: NOW, secret: SECRET } as never), { name: 'TypeError', message: 'signWebhook: options.id must be a non-empty string, got undefined' });
    assert.throws(() => signWebhook({ id: ID, sentAt: NOW, body: 5, secret: SECRET } as never), { name: 'TypeError', message: 'signWebhook: options.body must be a string (the exact body that is sent), got 5' });
    assert.throws(() => signWebhook({ id: ID, sentAt: Number.NaN, body: BODY, secret: SECRET }), { name: 'TypeError', message: 'signWebhook: options.sentAt must be epoch milliseconds or a valid Date, got NaN' });
    assert.throws(() => signWebhook({ id: ID, sentAt: new Date(Number.NaN), body: BODY, secret: SECRET }), { name: 'RangeError', message: /options\.sentAt must be epoch milliseconds or a valid Date, got "Invalid Date"/ });
    assert.throws(() => signWebhook({ id: ID, body: BODY, secret: SECRET } as never), { name: 'TypeError', message: 'signWebhook: options.sentAt must be epoch milliseconds or a valid Date, got undefined' });
    assert.throws(() => signWebhook({ id: ID, sentAt: -1, body: BODY, secret: SECRET }), { name: 'RangeError', message: 'signWebhook: options.sentAt must be a moment from 1970 on (epoch milliseconds >= 0), got -1' });
  });

  test('generateWebhookSecret makes a usable whsec_ secret', () => {
    const secret = generateWebhookSecret((n) => new Uint8Array(n).fill(7));
    assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    const headers = signWebhook({ id: ID, sentAt: NOW, body: BODY, secret });
    assert.equal(verifyWebhook({ body: BODY, headers, secret, now: NOW }).ok, true);
  });
});

describe('verifyWebhook', () => {
  const headers = signWebhook({ id: ID, sentAt: NOW, body: BODY, secret: SECRET });

  test('sentAt is the moment the header carries, in epoch milliseconds (whole seconds on the wire)', () => {
    const signed = new Date(NOW + 1_750);
    const h = signWebhook({ id: ID, sentAt: signed, body: BODY, secret: SECRET });
    const r = verifyWebhook({ body: BODY, headers: h, secret: SECRET, now: NOW + 60_000 });
    assert.ok(r.ok);
    assert.equal(r.sentAt, NOW + 1_000);
    assert.equal(new Date(r.sentAt).toISOString(), '2021-02-25T15:02:11.000Z');
  });

  test('accepts a valid delivery (record or Headers, any key case, string or bytes body)', () => {
    assert.deepEqual(verifyWebhook({ body: BODY, headers, secret: SECRET, now: NOW }), { ok: true, id: ID, sentAt: TS * 1000 });
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

  test('enforces the tolerance window both ways (default 300 000 ms)', () => {
    const at = (deltaSeconds: number, tolMs?: number) => {
      const r = verifyWebhook({
        body: BODY,
        headers,
        secret: SECRET,
        now: NOW + deltaSeconds * 1000,
        ...(tolMs === undefined ? {} : { toleranceMs: tolMs }),
      });
      return r.ok ? 'ok' : r.reason;
    };
    assert.equal(at(300), 'ok');
    assert.equal(at(-300), 'ok');
    assert.equal(at(301), 'timestamp_too_old');
    assert.equal(at(-301), 'timestamp_too_new');
    assert.equal(at(30, 10_000), 'timestamp_too_old');
    assert.equal(at(10, 10_000), 'ok');
    assert.equal(at(-11, 10_000), 'timestamp_too_new');
    const r = verifyWebhook({ body: BODY, headers, secret: SECRET, now: NOW + 301_000 });
    assert.equal(r.ok ? '' : r.message, 'webhook-timestamp is more than 300000 ms in the past');
  });

  test('never puts the secret or the expected signature in a result', () => {
    for (const body of [BODY, 'x']) {
      const r = verifyWebhook({ body, headers, secret: SECRET, now: NOW + 1e9 });
      const text = JSON.stringify(r);
      assert.ok(!text.includes(SECRET.slice(6)));
      assert.ok(!text.includes(headers['webhook-signature'].slice(3)));
    }
    assert.throws(() => verifyWebhook({ body: BODY, headers, now: NOW }), TypeError);
    assert.throws(() => verifyWebhook({ body: BODY, headers, secret: SECRET, toleranceMs: -1 }), { name: 'RangeError', message: 'verifyWebhook: options.toleranceMs must be a number of milliseconds >= 0, got -1' });
    assert.throws(() => verifyWebhook({ body: BODY, headers, secret: SECRET, toleranceSeconds: 300 } as never), {
      name: 'TypeError',
      message: 'verifyWebhook: options.toleranceSeconds was renamed to options.toleranceMs (0.2.0; milliseconds, no longer seconds)',
    });
    assert.throws(() => verifyWebhook({ body: BODY, headers, secret: SECRET, now: 'soon' } as never), { name: 'TypeError', message: 'verifyWebhook: options.now must be epoch milliseconds or a valid Date, got "soon"' });
  });
});

describe('strict secrets and signatures (Standard Webhooks reference libraries compare the base64 text)', () => {
  const headers = signWebhook({ id: ID, sentAt: NOW, body: BODY, secret: SECRET });
  const valid = headers['webhook-signature'].slice(3);
  const verdict = (signature: string): string => {
    const r = verifyWebhook({ body: BODY, headers: { ...headers, 'webhook-signature': signature }, secret: SECRET, now: NOW });
    return r.ok ? 'ok' : r.reason;
  };

  test('only the exact signature verifies: junk appended, extra padding, truncated, wrong length, other bits', () => {
    assert.equal(verdict(`v1,${valid}`), 'ok');
    assert.equal(verdict(`v1,bogus v1,${valid}`), 'ok', 'one of several');
    // The last base64 digit before the padding carries two unused bits: same bytes, different text.
    const last = valid.at(-2)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const sameBytes = valid.slice(0, -2) + alphabet[alphabet.indexOf(last) ^ 1] + '=';
    assert.deepEqual(Buffer.from(sameBytes, 'base64'), Buffer.from(valid, 'base64'), 'the test builds a real alias');
    for (const bad of [`${valid}junk`, `${valid}==`, `${valid}=`, valid.slice(0, -1), valid.slice(0, -2), valid.slice(0, 40), `${valid}AAAA`, `${valid.slice(0, -1)}`, sameBytes, `${valid},x`, `A${valid}`]) {
      assert.equal(verdict(`v1,${bad}`), 'no_matching_signature', bad);
    }
    for (const bad of [`V1,${valid}`, `v1 ,${valid}`, `v1a,${valid}`, `,${valid}`, valid]) {
      assert.equal(verdict(bad), 'no_matching_signature', bad);
    }
  });

  test('malformed secrets are misuse at once, naming the option, never echoing the value', () => {
    const planted = 'Zm9vYmFyYmF6cXV4';
    const cases: ReadonlyArray<readonly [Record<string, unknown>, RegExp]> = [
      [{ secret: 'whsec_' }, /options\.secret must/],
      [{ secret: '' }, /options\.secret must/],
      [{ secret: `whsec_${planted}*` }, /options\.secret must/],
      [{ secret: `whsec_${planted}=` }, /options\.secret must/], // padding on a length that needs none
      [{ secret: `whsec_${planted.slice(0, 5)}` }, /options\.secret must/], // 5 base64 digits encode no whole byte count
      [{ secret: `whsec_ ${planted}` }, /options\.secret must/],
      [{ secret: 42 }, /options\.secret must/],
      [{ secrets: [] }, /options\.secrets must/],
      [{ secrets: [SECRET, ''] }, /options\.secrets\[1\] must/],
      [{ secrets: [SECRET, `whsec_${planted}!`] }, /options\.secrets\[1\] must/],
      [{ secrets: SECRET }, /options\.secrets must/],
      [{ secret: SECRET, secrets: [SECRET] }, /not both/],
      [{}, /options\.secret/],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => verifyWebhook({ body: BODY, headers, now: NOW, ...options } as never),
        (e: unknown) => e instanceof TypeError && message.test(e.message) && /^verifyWebhook: /.test(e.message) && !e.message.includes(planted.slice(0, 5)),
        JSON.stringify(options),
      );
    }
    assert.throws(() => signWebhook({ id: ID, sentAt: NOW, body: BODY, secret: 'whsec_' }), {
      name: 'TypeError',
      message: 'signWebhook: options.secret must be a string, whsec_ followed by base64 key bytes, got a string (not shown)',
    });
    assert.throws(() => verifyWebhook({ body: BODY, headers, now: NOW, secret: SECRET, secrets: [SECRET] }), {
      message: 'verifyWebhook: options.secrets must be left out when options.secret is given (give one, not both), got an array',
    });
  });
});
