/**
 * The invariants the classifier's speed relies on, checked here so none of them is a comment to trust:
 * a message rule runs only when one of its words is in the message (so every alternative of its pattern
 * must hold one), the word scans see every word (no word is a prefix of another), and the secret bit of
 * the front scan says exactly what redact.ts's MAY_HOLD_SECRET says. Also: the precedence table is the
 * one docs/codes.md prints, with no step twice.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decide, PRECEDENCE, type Evidence } from '../../src/core/classify/decide.ts';
import { FAILURE_CODES } from '../../src/core/catalog.ts';
import {
  FRONT_SCAN,
  HINT_WORDS,
  matchesMessage,
  MAY_HOLD_SECRET_BIT,
  MESSAGE_PATTERNS,
  SCAN_WORDS,
  PATTERN_SCAN,
  QUOTA_MESSAGE,
  TOO_LARGE_MESSAGE,
  TOO_LARGE_TPM_MESSAGE,
  wordsIn,
  type MessageRule,
} from '../../src/core/classify/vocabulary.ts';
import { MAY_HOLD_SECRET, redact } from '../../src/core/redact.ts';
import { textOfHtml } from '../../src/core/classify/body.ts';
import { byFirstLetter, isSdkMessage, NO_FACTS, openAiServerMessage, SDK_MESSAGES, WIRE_FACTS } from '../../src/core/classify/vocabulary.ts';

const FRONT_RULES: readonly MessageRule[] = [QUOTA_MESSAGE, TOO_LARGE_MESSAGE, TOO_LARGE_TPM_MESSAGE];
const ALL_RULES: readonly MessageRule[] = [...FRONT_RULES, ...MESSAGE_PATTERNS];

/** The top-level alternatives of a regex source (`|` outside groups and classes). */
function alternatives(source: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inClass = false;
  let cur = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      cur += c + (source[i + 1] ?? '');
      i++;
      continue;
    }
    if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

/** Whether `word` stands in `alt` as plain text: present, and not followed by a quantifier. */
function holdsLiterally(alt: string, word: string): boolean {
  const lower = alt.toLowerCase();
  for (let at = lower.indexOf(word); at !== -1; at = lower.indexOf(word, at + 1)) {
    const next = lower[at + word.length];
    if (next !== '?' && next !== '*' && next !== '{') return true;
  }
  return false;
}

// Texts made of the words, the secret openings, near misses and filler, in any case.
const pieces = [...SCAN_WORDS.front, ...SCAN_WORDS.patterns, 'sk-', 'sk-proj-abcdefgh', 'whsec_abcdefgh', 'Bearer ', 'basic\t', 'api-key:', 'api_key=', 'apikey"=', 'authorization: ', 'x-api-key: ', 'api key', 'quot', 'maximum context length', 'is currently overloaded', 'model gpt-9 does not exist', 'Incorrect API key', 'Rate limit reached', 'content management policy', 'request too large for gpt-4o on tokens per min', ' ', '.', 'a', 'Z', '0', ':', '='];
const text = fc
  .array(fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 4 })), { maxLength: 24 })
  .chain((parts) => fc.array(fc.boolean(), { minLength: parts.length, maxLength: parts.length }).map((upper) => parts.map((p, i) => (upper[i] ? p.toUpperCase() : p)).join('')));

describe('message rules and their words', () => {
  test('every alternative of every pattern holds one of its words, as plain text', () => {
    for (const rule of [...ALL_RULES, ]) {
      for (const alt of alternatives(rule.pattern.source)) {
        // A group of alternatives inside one top-level alternative is fine as long as the word stands outside it.
        assert.ok(rule.words.some((w) => holdsLiterally(alt, w)), `${rule.pattern.source}: alternative "${alt}" holds none of ${rule.words.join(', ')}`);
      }
      assert.ok(rule.pattern.flags.includes('i') && !rule.pattern.flags.includes('g'), 'case-insensitive, stateless patterns');
    }
  });

  test('in each scan the words are lower-case ASCII, no word is a prefix of another, and they fit the bits', () => {
    for (const [scan, words] of Object.entries(SCAN_WORDS)) {
      assert.ok(words.length <= 30, `${scan}: ${words.length} words`);
      for (const w of words) {
        assert.match(w, /^[a-z _'"-]+$/);
        for (const u of words) if (u !== w) assert.ok(!u.startsWith(w), `${scan}: "${w}" is a prefix of "${u}"`);
      }
    }
    for (const w of HINT_WORDS) assert.ok(SCAN_WORDS.front.includes(w));
  });

  test('a rule gated by its words answers as its pattern alone would', () => {
    fc.assert(
      fc.property(text, (t) => {
        const front = wordsIn(FRONT_SCAN, t);
        const patterns = wordsIn(PATTERN_SCAN, t);
        for (const rule of FRONT_RULES) assert.equal(matchesMessage(rule, t, front), rule.pattern.test(t), rule.pattern.source);
        for (const rule of MESSAGE_PATTERNS) assert.equal(matchesMessage(rule, t, patterns), rule.pattern.test(t), rule.pattern.source);
      }),
      { numRuns: 2000 },
    );
  });

  test('the secret bit of the front scan is exactly redact.ts MAY_HOLD_SECRET', () => {
    fc.assert(
      fc.property(text, (t) => {
        assert.equal((wordsIn(FRONT_SCAN, t) & MAY_HOLD_SECRET_BIT) !== 0, MAY_HOLD_SECRET.test(t), t);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the precedence table', () => {
  test('steps in order, none twice, each with its evidence in words', () => {
    const steps = PRECEDENCE.map((r) => r.step);
    assert.deepEqual(steps, ['1', '2', '3', '4', '5', '6', '7', '7b', '8']);
    for (const r of PRECEDENCE) assert.ok(r.evidence.length > 20);
  });

  test('decide() answers as a loop over the table would (it asks the nine rows written out, in order)', () => {
    const loop = (e: Evidence): string => {
      for (const rule of PRECEDENCE) {
        const code = rule.decide(e);
        if (code !== undefined) return code;
      }
      return 'unknown';
    };
    const facts = fc.constantFrom(NO_FACTS, ...WIRE_FACTS.values());
    const maybe = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });
    const evidence: fc.Arbitrary<Evidence> = fc
      .record({
        code: facts,
        type: facts,
        status: maybe(fc.constantFrom(200, 400, 401, 402, 403, 404, 408, 413, 418, 429, 500, 502, 503, 504, 529)),
        head: maybe(text),
        state: maybe(fc.constantFrom(...FAILURE_CODES)),
        transport: maybe(fc.constantFrom('timeout', 'connection_error', 'aborted') as fc.Arbitrary<Evidence['transport']>),
      })
      .map((r) => {
        const server = r.head === undefined ? undefined : openAiServerMessage(r.head);
        return { ...r, words: r.head === undefined || server !== undefined ? 0 : wordsIn(FRONT_SCAN, r.head), server };
      });
    fc.assert(
      fc.property(evidence, (e) => {
        assert.equal(decide(e), loop(e));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('the shortcuts build.ts and body.ts take', () => {
  test('the messages the SDK writes itself, which decide() does not scan, hold no rule word and no secret', () => {
    for (const m of SDK_MESSAGES) {
      assert.equal(wordsIn(FRONT_SCAN, m), 0, m);
      assert.equal(wordsIn(PATTERN_SCAN, m), 0, m);
      assert.equal(MAY_HOLD_SECRET.test(m), false, m);
      assert.equal(redact(m), m, m);
      assert.equal(isSdkMessage(m), true, m);
      assert.equal(isSdkMessage(`${m} `), false, m);
    }
  });

  test('byFirstLetter groups alternatives by their first letter, and refuses any it cannot group', () => {
    assert.equal(byFirstLetter(['billing', String.raw`bearer\s`, 'quota', 'Budget']), String.raw`b(?:illing|earer\s|udget)|quota`);
    const grouped = new RegExp(byFirstLetter(['billing', 'budget', 'k(?<=&k)ey=', 'key limit']), 'i');
    for (const t of ['BILLING', 'a budget', '?x&key=1', 'key limit', 'no key=', 'bill'])
      assert.equal(grouped.test(t), /billing|budget|(?<=&)key=|key limit/i.test(t), t);
    for (const bad of ['(?:a|b)c', 'ab|cd', String.raw`\sx`, 'a?b', '[ab]c', '9 lives']) assert.throws(() => byFirstLetter([bad]), /does not start with a plain letter/, bad);
  });

  test('every vocabulary value is left as it is by redact() (so build.ts returns a known wire value without redacting it)', () => {
    for (const v of WIRE_FACTS.keys()) assert.equal(redact(v), v);
  });

  test("textOfHtml's first-character shortcut answers as the markup test it skips: text that is not markup comes back as it is", () => {
    const head = (t: string): string => t.slice(0, 4096 * 4);
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(' <b>x</b>', '\n<html><title>502</title>', '<h1>x</h1>', '\u00a0<p>', 'x<p>', '\t')), (t) => {
        if (!/^\s*</.test(head(t))) assert.equal(textOfHtml(t), head(t), JSON.stringify(t));
      }),
      { numRuns: 2000 },
    );
  });
});
