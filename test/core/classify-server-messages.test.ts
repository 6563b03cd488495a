/**
 * OPENAI_SERVER_MESSAGES: OpenAI's fixed server texts, looked up instead of scanned (evidenceOf() makes
 * neither the front scan nor, at precedence 5, the pattern scan of them). The table may only save time,
 * never change an answer: every entry, alone or with the id sentence OpenAI ends it with (any id of the
 * shapes it sends), is answered as the full pattern scan answers it and holds no front-scan word and no
 * secret; any text the lookup answers at all is answered so; and the real payloads each entry cites
 * classify as the issue says.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classify } from '../../src/core/classify/index.ts';
import { patternCode } from '../../src/core/classify/decide.ts';
import { FRONT_SCAN, MAY_HOLD_SECRET_BIT, OPENAI_SERVER_MESSAGES, openAiServerMessage, wordsIn } from '../../src/core/classify/vocabulary.ts';
import { MAY_HOLD_SECRET, redact } from '../../src/core/redact.ts';

const TEXTS = [...OPENAI_SERVER_MESSAGES.keys()];

/** The id sentence as OpenAI writes it (with or without brackets; Realtime names a session instead). */
const idSentence = (kind: 'request' | 'session', id: string, brackets: boolean, gap = ' '): string =>
  brackets ? ` (Please include the ${kind} ID ${id}${gap}in your message.)` : ` Please include the ${kind} ID ${id}${gap}in your message.`;

const hexChar = fc.constantFrom(...'0123456789abcdef-'.split(''));
/** Request ids of every shape OpenAI sends: hex, `req_` + hex, UUIDs, or empty. */
const anyId = fc.tuple(fc.constantFrom('', 'req_'), fc.array(hexChar, { maxLength: 40 })).map(([p, cs]) => p + cs.join(''));

describe('OPENAI_SERVER_MESSAGES (precedence 5 looks these up instead of scanning)', () => {
  test('every entry is answered as the full pattern scan answers it, alone and with its id sentence', () => {
    assert.ok(OPENAI_SERVER_MESSAGES.size > 0);
    for (const [text, code] of OPENAI_SERVER_MESSAGES) {
      assert.equal(patternCode(text), code, text);
      assert.equal(openAiServerMessage(text), code, text);
    }
    fc.assert(
      fc.property(fc.constantFrom(...TEXTS), anyId, fc.boolean(), fc.constantFrom(' ', '  '), (text, id, brackets, gap) => {
        const full = text + idSentence('request', id, brackets, gap);
        assert.equal(openAiServerMessage(full), OPENAI_SERVER_MESSAGES.get(text), full);
        assert.equal(patternCode(full), OPENAI_SERVER_MESSAGES.get(text), full);
        // evidenceOf() does not front-scan it: the scan would find nothing, not even the secret bit.
        assert.equal(wordsIn(FRONT_SCAN, full), 0, full);
        assert.equal(MAY_HOLD_SECRET.test(full), false, full);
      }),
      { numRuns: 2000 },
    );
  });

  test('whatever text the lookup answers, the scan answers the same (a near miss is left to the scan)', () => {
    const nearMiss = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.constantFrom(
        ' (Please include the request ID model_not_found in your message.)',
        ' (Please include the request ID quota in your message.)',
        ' (Please include the session ID sess_AqwgN1iQ3ziPeczP90px1 in your message.)',
        ' Invalid API key.',
        ' Rate limit reached.',
        ' You exceeded your current quota.',
        ' (Please include the request ID req_1 in your email.)',
        '!',
        ' ',
      ),
    );
    fc.assert(
      fc.property(fc.constantFrom(...TEXTS), nearMiss, (text, tail) => {
        const t = text + tail;
        const looked = openAiServerMessage(t);
        if (looked !== undefined) assert.equal(looked, patternCode(t), t);
      }),
      { numRuns: 3000 },
    );
    assert.equal(openAiServerMessage(`${TEXTS[0]!} (Please include the request ID model_not_found in your message.)`), undefined);
    assert.equal(openAiServerMessage(`${TEXTS[0]!} (Please include the request ID quota in your message.)`), undefined);
    assert.equal(openAiServerMessage(`${TEXTS[0]!} Invalid API key.`), undefined);
    assert.equal(openAiServerMessage(`Error: ${TEXTS[0]!}`), undefined);
    assert.equal(openAiServerMessage(TEXTS[0]!.toLowerCase()), undefined);
  });

  test('no entry holds a secret or a word of the front scan (quota, too large, hints), so steps 1 and 2 pass them by', () => {
    for (const text of TEXTS) {
      assert.equal(MAY_HOLD_SECRET.test(text), false, text);
      assert.equal(redact(text), text, text);
      assert.equal(wordsIn(FRONT_SCAN, text) & ~MAY_HOLD_SECRET_BIT, 0, text);
    }
  });

  test('an id that looks like a key or holds a rule word is not looked up: it is scanned, redacted and decided as before', () => {
    const quota = classify({ status: 500, body: { error: { message: TEXTS[0]! + idSentence('request', 'insufficient_quota', true), type: 'server_error', param: null, code: null } } });
    assert.equal(quota.code, 'insufficient_quota');
    const key = ['sk', 'proj', 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6'].join('-');
    const f = classify({ status: 500, body: { error: { message: TEXTS[0]! + idSentence('request', key, true), type: 'server_error', param: null, code: null } } });
    assert.equal(f.code, 'server_error');
    assert.ok(!JSON.stringify(f).includes(key));
  });
});

describe('the real payloads each entry cites', () => {
  test('500 "The server had an error while processing your request. Sorry about that!" (LangBot#126: type server_error, code None)', () => {
    // https://github.com/langbot-app/LangBot/issues/126
    const f = classify({ status: 500, body: { error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } } });
    assert.equal(f.code, 'server_error');
  });

  test('the full 500 text, there with a Realtime session ID sentence (openai-realtime-console#493)', () => {
    // https://github.com/openai/openai-realtime-console/issues/493
    const message =
      'The server had an error while processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if the error persists. (Please include the session ID sess_AqwgN1iQ3ziPeczP90px1 in your message.)';
    // A session id is not the request id the table reads past: the text is scanned, with the same answer.
    assert.equal(openAiServerMessage(message), undefined);
    assert.equal(patternCode(message), 'server_error');
    assert.equal(classify({ type: 'error', event_id: 'event_1', error: { type: 'server_error', code: null, message, param: null } }).code, 'server_error');
  });

  test('Responses "An error occurred while processing your request. … Please include the request ID … in your message." (openai-node#1730, sub2api#6714)', () => {
    // https://github.com/openai/openai-node/issues/1730
    const m1730 =
      'An error occurred while processing your request. You can retry your request, or contact us through our help center at help.openai.com if the error persists. Please include the request ID req_1332ed8a813a4caaa2f0f3c55a6a68cb in your message.';
    assert.equal(openAiServerMessage(m1730), 'server_error');
    assert.equal(classify({ error: { type: 'server_error', code: 'server_error', message: m1730, param: null } }).code, 'server_error');
    // https://github.com/Wei-Shaw/sub2api/issues/6714 (response.failed, a UUID request id)
    const m6714 =
      'An error occurred while processing your request. You can retry your request, or contact us through our help center at help.openai.com if the error persists. Please include the request ID 05db48fb-224e-4ff7-8266-b72865ef4f1f in your message.';
    assert.equal(openAiServerMessage(m6714), 'server_error');
    assert.equal(classify({ type: 'response.failed', sequence_number: 5, response: { object: 'response', status: 'failed', output: [], error: { code: 'server_error', message: m6714 } } }).code, 'server_error');
  });

  test('503 "That model is currently overloaded with other requests. …" with its request ID (node-chatgpt-api#34, in test/fixtures/payloads.ts)', () => {
    // https://github.com/waylaidwanderer/node-chatgpt-api/issues/34
    const message =
      'That model is currently overloaded with other requests. You can retry your request, or contact us through our help center at help.openai.com if the error persists. (Please include the request ID 169bee8d  in your message.)';
    assert.equal(openAiServerMessage(message), 'overloaded');
    assert.equal(classify({ status: 503, body: { error: { message, type: 'server_error', param: null, code: null } } }).code, 'overloaded');
  });
});
