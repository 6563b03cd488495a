/**
 * Chat Completions: a `chat.completion` or chunk whose `finish_reason` ended the output early, or one a
 * provider returned with an `error` inside a 200 body.
 * Types: openai-node src/resources/chat/completions/completions.ts (ChatCompletion.Choice.finish_reason).
 */
import { readErrorBody } from '../body.ts';
import type { Signals, Verdict } from '../signals.ts';
import { get, isObj, str } from '../values.ts';
import { INCOMPLETE_REASONS } from '../vocabulary.ts';

/** The most choices read (n is at most 128; the first early stop decides). */
const MAX_CHOICES = 64;

export function readChat(s: Signals, c: unknown): Verdict {
  s.source = s.source === 'unknown' ? 'chat_completion' : s.source;
  s.objectId ??= str(get(c, 'id'));
  const err = get(c, 'error');
  if (isObj(err)) {
    readErrorBody(s, err);
    return 'failure';
  }
  const choices = get(c, 'choices');
  if (!Array.isArray(choices)) return 'success';
  for (let i = 0; i < choices.length && i < MAX_CHOICES; i++) {
    const reason = str(get(choices[i], 'finish_reason'));
    const code = reason !== undefined ? INCOMPLETE_REASONS.get(reason) : undefined;
    if (code !== undefined && reason !== undefined) {
      s.wireCode ??= reason;
      s.state = code;
      s.message ??= `Chat completion stopped with finish_reason "${reason}"`;
      return 'failure';
    }
  }
  return 'success';
}
