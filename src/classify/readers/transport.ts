/**
 * Transport failures: an error and its `cause` chain, read for the codes, names and messages that
 * Node, undici and the SDKs produce when a request never got an HTTP answer (precedence 8).
 */
import type { Signals } from '../signals.ts';
import { get, isObj, str, type Obj } from '../values.ts';
import { TRANSPORT_CODES, TRANSPORT_MESSAGES, TRANSPORT_NAMES } from '../vocabulary.ts';
import type { FailureCode } from '../../catalog.ts';

/** How many links of a `cause` chain are read. */
const MAX_CAUSE_DEPTH = 8;
/** Transport messages are short; a longer text is not one. */
const MAX_TRANSPORT_MESSAGE = 500;

/** The fields of one link of an error chain. */
interface ChainLink {
  code: unknown;
  name: unknown;
  ctorName: unknown;
  message: unknown;
  cause: unknown;
}

function chainLink(e: Obj): ChainLink {
  try {
    const ctor: unknown = e.constructor;
    return { code: e.code, name: e.name, ctorName: isObj(ctor) ? ctor.name : undefined, message: e.message, cause: e.cause };
  } catch {
    // A throwing getter somewhere: read each field on its own.
    return { code: get(e, 'code'), name: get(e, 'name'), ctorName: get(get(e, 'constructor'), 'name'), message: get(e, 'message'), cause: get(e, 'cause') };
  }
}

/** The code a transport message stands for, if it is one. */
export function transportMessage(text: string): FailureCode | undefined {
  if (text.length >= MAX_TRANSPORT_MESSAGE) return undefined;
  for (const [re, code] of TRANSPORT_MESSAGES) if (re.test(text)) return code;
  return undefined;
}

/** The error and its causes: transport codes, names and messages. */
export function readErrorChain(s: Signals, err: unknown): void {
  const seen: unknown[] = [];
  let cur: unknown = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && isObj(cur) && !seen.includes(cur); depth++) {
    seen.push(cur);
    const link = chainLink(cur);
    const code = link.code;
    if (typeof code === 'string') {
      const t = TRANSPORT_CODES.get(code);
      if (t !== undefined) {
        s.transport ??= t;
        s.transportCode ??= code;
      }
    }
    const name = str(link.name);
    const ctor = str(link.ctorName);
    const byName = (name !== undefined ? TRANSPORT_NAMES.get(name) : undefined) ?? (ctor !== undefined ? TRANSPORT_NAMES.get(ctor) : undefined);
    if (byName !== undefined) s.transport ??= byName;
    if (s.transport === undefined) {
      const msg = str(link.message);
      if (msg !== undefined) s.transport = transportMessage(msg);
    }
    // An abort anywhere in the chain decides; keep walking only for a more precise code.
    if (s.transport === 'aborted') return;
    cur = link.cause;
  }
}
