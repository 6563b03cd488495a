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
  QUOTA_MESSAGE,
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
}

/** One row of the precedence: its step, and the evidence it looks at, in words (printed in docs/codes.md). */
export interface Rule {
  readonly step: Step;
  readonly evidence: string;
}

/** The steps, in the order of {@link PRECEDENCE}. */
export type Step = '1' | '2' | '3' | '4' | '5' | '6' | '7' | '7b' | '8';

/** The precedence, highest first. The first rule that gives a code decides ({@link ruleCode} tests each). */
export const PRECEDENCE: readonly Rule[] = [
  { step: '1', evidence: 'Quota evidence: a quota, credit or billing wire code or type, or such words in the message. It beats a rate-limit code and a 429: waiting never fixes an empty wallet.' },
  { step: '2', evidence: '"Request too large" with rate-limit evidence, or the whole "request too large … on tokens per min" sentence: one request above the whole per-minute budget never fits.' },
  { step: '3', evidence: 'A recognised, specific wire code (Azure PascalCase normalised), unless the object has a terminal state.' },
  { step: '4', evidence: "The object's terminal state: Responses incomplete reason, cancelled, failed with no error; chat finish_reason; batch status; webhook event type." },
  { step: '5', evidence: 'A message pattern, the last resort for relays that dropped the code; the first that matches decides.' },
  { step: '6', evidence: 'A specific wire type (`tokens`, `requests` → rate limit, `overloaded_error`, …).' },
  { step: '7', evidence: 'The HTTP status, only one a transport really had; an unlisted 4xx reads as invalid_request, an unlisted 5xx as server_error.' },
  { step: '7b', evidence: 'A generic wire code or type (`invalid_request_error`, `api_error`, `server_error`), when no status says more: the 404 for an unknown id is `type: invalid_request_error`.' },
  { step: '8', evidence: 'Transport evidence: an abort, a client timeout, a reset, refused or DNS failure, by the exact codes, names and messages Node, undici and the SDKs produce.' },
];

const rateLimitEvidence = (e: Evidence): boolean => e.status === 429 || e.code.asCode === 'rate_limit_exceeded' || e.type.asType === 'rate_limit_exceeded';

/** The code one step of the precedence gives for `e`, or `undefined` when its evidence is absent. */
function ruleCode(step: Step, e: Evidence): FailureCode | undefined {
  switch (step) {
    case '1':
      return e.code.quota || e.type.quota || (e.head !== undefined && matchesMessage(QUOTA_MESSAGE, e.head, e.words)) ? 'insufficient_quota' : undefined;
    case '2': {
      if (e.head === undefined) return undefined;
      const head = e.head.slice(0, TOO_LARGE_HEAD);
      return (rateLimitEvidence(e) && matchesMessage(TOO_LARGE_MESSAGE, head, e.words)) || matchesMessage(TOO_LARGE_TPM_MESSAGE, head, e.words) ? 'request_too_large' : undefined;
    }
    case '3':
      return e.state === undefined && !e.code.genericCode ? e.code.asCode : undefined;
    case '4':
      return e.state;
    case '5':
      if (e.head === undefined) return undefined;
      {
        const words = wordsIn(PATTERN_SCAN, e.head);
        for (const rule of MESSAGE_PATTERNS) if (matchesMessage(rule, e.head, words)) return rule.code;
      }
      return undefined;
    case '6':
      return e.type.asType;
    case '7':
      if (e.status === undefined) return undefined;
      return STATUS_CODES.get(e.status) ?? (e.status >= 500 ? 'server_error' : e.status >= 400 ? 'invalid_request' : undefined);
    case '7b':
      return (e.code.genericCode ? e.code.asCode : undefined) ?? e.type.genericType;
    case '8':
      return e.transport;
  }
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
  const head = message === undefined ? undefined : message.length > MESSAGE_HEAD ? message.slice(0, MESSAGE_HEAD) : message;
  return {
    code: factsOf(s.wireCode),
    type: factsOf(s.wireType),
    status: statusOf(s),
    head,
    words: head === undefined ? 0 : wordsIn(FRONT_SCAN, head),
    state: s.state,
    transport: s.transport,
  };
}

/** The code for what the readers found: the first {@link PRECEDENCE} rule that gives one, else `unknown`. */
export function decide(e: Evidence): FailureCode {
  for (const rule of PRECEDENCE) {
    const code = ruleCode(rule.step, e);
    if (code !== undefined) return code;
  }
  return 'unknown';
}
