/**
 * The one decision: {@link Signals} → a catalog code, by the {@link PRECEDENCE} table, highest first.
 * The table IS the precedence: {@link decide} walks it and nothing else decides. docs/codes.md prints it.
 */
import type { FailureCode } from '../catalog.ts';
import type { Signals } from './signals.ts';
import { httpStatus, normalizeWireValue } from './values.ts';
import {
  FRONT_SCAN,
  matchesMessage,
  PATTERN_SCAN,
  MESSAGE_PATTERNS,
  NO_FACTS,
  openAiServerMessage,
  QUOTA_MESSAGE,
  isSdkMessage,
  STATUS_CODES,
  TOO_LARGE_MESSAGE,
  TOO_LARGE_TPM_MESSAGE,
  WIRE_FACTS,
  type WireFacts,
  type WordSet,
  wordsIn,
} from './vocabulary.ts';

/** How much of a message the rules read. */
const MESSAGE_HEAD = 2000;
/** How much of it the "request too large" rule reads. */
const TOO_LARGE_HEAD = 500;

/** What the rules look at, read once from the {@link Signals}. */
export interface Evidence {
  /** What the wire `code` means in each vocabulary ({@link NO_FACTS} when there is none or it is unknown). */
  readonly code: WireFacts;
  /** What the wire `type` means. */
  readonly type: WireFacts;
  /** The HTTP status, or one the payload states standing in for a missing one (see statusOf). */
  readonly status: number | undefined;
  /** The first {@link MESSAGE_HEAD} characters of the message. */
  readonly head: string | undefined;
  /** The words of {@link FRONT_SCAN} in {@link Evidence.head} (see {@link matchesMessage}). */
  readonly words: WordSet;
  /** The object's terminal state, decided by its reader. */
  readonly state: FailureCode | undefined;
  /** Transport evidence (a code, name or message Node, undici or the SDK really produce). */
  readonly transport: FailureCode | undefined;
  /** When {@link Evidence.head} is one of OpenAI's own server texts, the code `OPENAI_SERVER_MESSAGES` gives it (precedence 5 answers with it, unscanned). */
  readonly server: FailureCode | undefined;
}

/** One row of the precedence: its step, the evidence it looks at in words (printed in docs/codes.md), and the rule. */
export interface Rule {
  readonly step: string;
  readonly evidence: string;
  /** The code this step gives for `e`, or `undefined` when its evidence is absent. */
  readonly decide: (e: Evidence) => FailureCode | undefined;
}

const rateLimitEvidence = (e: Evidence): boolean => e.status === 429 || e.code.asCode === 'rate_limit_exceeded' || e.type.asType === 'rate_limit_exceeded';

/** The precedence, highest first. The first rule that gives a code decides. */
export const PRECEDENCE: readonly Rule[] = [
  {
    step: '1',
    evidence: 'Quota evidence: a quota, credit or billing wire code or type, or such words in the message (any provider\'s). It beats a rate-limit code, a 429 and a 403: waiting never fixes an empty wallet.',
    decide: (e) => (e.code.quota || e.type.quota || (e.head !== undefined && matchesMessage(QUOTA_MESSAGE, e.head, e.words)) ? 'insufficient_quota' : undefined),
  },
  {
    step: '2',
    evidence: '"Request too large" with rate-limit evidence, or the whole "request too large … on tokens per min" sentence: one request above the whole per-minute budget never fits.',
    decide: (e) => {
      if (e.head === undefined || (TOO_LARGE_MESSAGE.wordSet & e.words) === 0) return undefined;
      const head = e.head.slice(0, TOO_LARGE_HEAD);
      return (rateLimitEvidence(e) && TOO_LARGE_MESSAGE.pattern.test(head)) || TOO_LARGE_TPM_MESSAGE.pattern.test(head) ? 'request_too_large' : undefined;
    },
  },
  {
    step: '3',
    evidence: 'A recognised, specific wire code (Azure PascalCase normalised, Google ErrorInfo reasons), unless the object has a terminal state.',
    decide: (e) => (e.state === undefined && !e.code.genericCode ? e.code.asCode : undefined),
  },
  {
    step: '4',
    evidence: "The object's terminal state: Responses incomplete reason, cancelled, failed with no error; chat finish_reason; batch, run, job, upload, eval and Realtime status; webhook event type; for an SDK error whose body the SDK dropped, createFetch's reading of it (`x-faultline-failure-code`).",
    decide: (e) => e.state,
  },
  {
    step: '5',
    evidence: "A message pattern, the last resort for relays that dropped the code (a 401 about scopes is permission_denied); the first that matches decides. OpenAI's own server texts (`OPENAI_SERVER_MESSAGES`) are looked up, not scanned: same answer.",
    decide: (e) => e.server ?? (e.head === undefined ? undefined : patternCode(e.head)),
  },
  {
    step: '6',
    evidence: 'A specific wire type (`tokens`, `requests` → rate limit, `overloaded_error`, Google `RESOURCE_EXHAUSTED`, …).',
    decide: (e) => e.type.asType,
  },
  {
    step: '7',
    evidence: 'The HTTP status (402 is insufficient_quota); the transport\'s, else one the payload states. An unlisted 4xx reads as invalid_request, an unlisted 5xx as server_error.',
    decide: (e) => {
      if (e.status === undefined) return undefined;
      return STATUS_CODES.get(e.status) ?? (e.status >= 500 ? 'server_error' : e.status >= 400 ? 'invalid_request' : undefined);
    },
  },
  {
    step: '7b',
    evidence: 'A generic wire code or type (`invalid_request_error`, `api_error`, `server_error`), when no status says more: the 404 for an unknown id is `type: invalid_request_error`.',
    decide: (e) => (e.code.genericCode ? e.code.asCode : undefined) ?? e.type.genericType,
  },
  {
    step: '8',
    evidence: 'Transport evidence: an abort, a client timeout, a reset, refused or DNS failure, by the exact codes, names and messages Node, undici and the SDKs produce.',
    decide: (e) => e.transport,
  },
];

/** The code of the first {@link MESSAGE_PATTERNS} rule that matches `head`, scanning it (precedence 5 without its table). */
export function patternCode(head: string): FailureCode | undefined {
  const words = wordsIn(PATTERN_SCAN, head);
  if (words === 0) return undefined;
  for (const rule of MESSAGE_PATTERNS) if (matchesMessage(rule, head, words)) return rule.code;
  return undefined;
}

function factsOf(raw: string | undefined): WireFacts {
  if (raw === undefined) return NO_FACTS;
  // Most values arrive in the tables' own spelling; the others (Azure's `DeploymentNotFound`) are normalised.
  return WIRE_FACTS.get(raw) ?? WIRE_FACTS.get(normalizeWireValue(raw)) ?? NO_FACTS;
}

/**
 * The status the rules see: the transport's when it reports a failure; else the one the payload states
 * (a relay that wrapped a 429 in a 200, Azure's `"429"` code, APIM's `statusCode`, pasted text).
 */
function statusOf(s: Signals): number | undefined {
  if (s.status !== undefined && s.status >= 400) return s.status;
  return s.bodyStatus ?? (s.wireCode !== undefined ? httpStatus(s.wireCode) : undefined) ?? s.status;
}

export function evidenceOf(s: Signals): Evidence {
  const message = s.message;
  // A message the SDK wrote itself (no body, no answer) has no words for the rules to read.
  const head = message === undefined || isSdkMessage(message) ? undefined : message.length > MESSAGE_HEAD ? message.slice(0, MESSAGE_HEAD) : message;
  const server = head === undefined ? undefined : openAiServerMessage(head);
  return {
    code: factsOf(s.wireCode),
    type: factsOf(s.wireType),
    status: statusOf(s),
    head,
    // OpenAI's own server texts hold no word of the front scan and no secret (tested), so their words are known.
    words: head === undefined || server !== undefined ? 0 : wordsIn(FRONT_SCAN, head),
    state: s.state,
    transport: s.transport,
    server,
  };
}

const [r1, r2, r3, r4, r5, r6, r7, r7b, r8] = PRECEDENCE as readonly [Rule, Rule, Rule, Rule, Rule, Rule, Rule, Rule, Rule];

/**
 * The code for what the readers found: the first {@link PRECEDENCE} rule that gives one, else `unknown`.
 * The rows are asked one by one in table order, written out rather than looped: a loop calls nine
 * different functions from one place, which the engine cannot inline (measured: 5% of classify() on an
 * SDK error). test/core/classify-structure.test.ts checks that this answers as the loop would, and that
 * the table has exactly these nine rows.
 */
export function decide(e: Evidence): FailureCode {
  return r1.decide(e) ?? r2.decide(e) ?? r3.decide(e) ?? r4.decide(e) ?? r5.decide(e) ?? r6.decide(e) ?? r7.decide(e) ?? r7b.decide(e) ?? r8.decide(e) ?? 'unknown';
}
