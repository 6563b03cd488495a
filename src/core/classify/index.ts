/**
 * classify(): one pure, total function from "anything that went wrong" to a catalog {@link Failure}.
 * No I/O, no globals, never throws (hostile getters, proxies, cycles and megabyte strings included).
 *
 * How to read this folder:
 * - {@link ./vocabulary.ts}: every wire value, status, reason and phrase known, as data;
 * - `readers/`: one reader per surface, each filling in {@link Signals} and saying failure or success;
 *   the {@link SHAPES} table below picks the reader;
 * - {@link ./decide.ts}: the PRECEDENCE table, the one place a code is decided;
 * - {@link ./hints.ts}: how long the server asked us to wait;
 * - {@link ./build.ts}: the Failure, clipped and redacted.
 */
import { ERROR_BRAND as BRAND } from '../brand.ts';
import { entryOf, isFailureCode } from '../catalog.ts';
import { failureBase, type Failure, type FailureSource } from '../failure.ts';
import { parseJsonText, readErrorBody, readRequestId } from './body.ts';
import { build } from './build.ts';
import { readBatch, readBatchLine } from './readers/batch.ts';
import { readChat } from './readers/chat.ts';
import { readHttpRecord } from './readers/http.ts';
import { readResponseObject, readStreamEvent } from './readers/responses.ts';
import { readError } from './readers/sdk-error.ts';
import { readText } from './readers/text.ts';
import { readErrorChain } from './readers/transport.ts';
import { readWebhook } from './readers/webhook.ts';
import { isRun, isRunStep, readRun, readRunStep } from './readers/assistants.ts';
import { readEvalRun } from './readers/evals.ts';
import { readFineTuningJob } from './readers/fine-tuning.ts';
import { readRealtimeResponseDone } from './readers/realtime.ts';
import { readUpload } from './readers/uploads.ts';
import { readVectorStoreFile, readVectorStoreFileBatch } from './readers/vector-stores.ts';
import { newSignals, type Signals, type Verdict } from './signals.ts';
import { get, httpStatus, isObj } from './values.ts';
import { TRANSPORT_CODES } from './vocabulary.ts';

export { parseDuration } from './hints.ts';
export { normalizeWireValue } from './values.ts';
export { PRECEDENCE } from './decide.ts';

/** Options for {@link classify}. */
export interface ClassifyOptions {
  /**
   * The current time in epoch milliseconds, used only to turn an HTTP-date `retry-after` into a delay.
   * @default Date.now()
   */
  readonly now?: number;
}

/** The brand, as a module constant (read on every classify() of an object). */
const ERROR_BRAND: typeof BRAND = BRAND;

/** How deep JSON text inside JSON text is followed. */
const MAX_JSON_DEPTH = 2;

/** The two fields most shapes are told apart by, read once. */
interface Probe {
  readonly object: unknown;
  readonly type: unknown;
}

/** One input shape: how it is recognised, and the reader for it. */
interface Shape {
  readonly shape: string;
  readonly matches: (x: object, p: Probe) => boolean;
  readonly read: (s: Signals, x: object, p: Probe) => Verdict;
}

const WEBHOOK_PREFIX = /^(response|batch|fine_tuning|eval|realtime)\./;

/** Input shapes, tried in order; the first that matches reads the input. */
const SHAPES: readonly Shape[] = [
  { shape: 'Responses object', matches: (_, p) => p.object === 'response', read: readResponseObject },
  { shape: 'chat completion', matches: (_, p) => p.object === 'chat.completion' || p.object === 'chat.completion.chunk', read: readChat },
  { shape: 'batch', matches: (_, p) => p.object === 'batch', read: readBatch },
  { shape: 'Assistants run step', matches: (x, p) => isRunStep(x, p.object), read: readRunStep },
  { shape: 'Assistants run', matches: (x, p) => isRun(x, p.object), read: readRun },
  { shape: 'vector store file', matches: (_, p) => p.object === 'vector_store.file', read: readVectorStoreFile },
  { shape: 'vector store file batch', matches: (_, p) => p.object === 'vector_store.files_batch', read: readVectorStoreFileBatch },
  { shape: 'fine-tuning job', matches: (_, p) => p.object === 'fine_tuning.job', read: readFineTuningJob },
  { shape: 'upload', matches: (_, p) => p.object === 'upload', read: readUpload },
  { shape: 'eval run', matches: (_, p) => p.object === 'eval.run', read: readEvalRun },
  {
    shape: 'webhook event',
    matches: (x, p) => typeof p.type === 'string' && (p.object === 'event' || (isObj(get(x, 'data')) && WEBHOOK_PREFIX.test(p.type) && get(x, 'response') === undefined)),
    read: (s, x, p) => readWebhook(s, x, p.type as string),
  },
  { shape: 'Realtime response.done', matches: (_, p) => p.type === 'response.done', read: readRealtimeResponseDone },
  {
    // Realtime server events carry an `event_id` (Responses stream events a `sequence_number`).
    shape: 'Realtime server event',
    matches: (x, p) => typeof p.type === 'string' && typeof get(x, 'event_id') === 'string' && get(x, 'sequence_number') === undefined,
    read: (s, x, p) => {
      if (p.type !== 'error') return 'success';
      const verdict = readStreamEvent(s, x, 'error');
      s.source = 'realtime_event';
      return verdict;
    },
  },
  {
    shape: 'Responses stream event',
    matches: (x, p) => typeof p.type === 'string' && (p.type === 'error' || p.type.startsWith('response.') || get(x, 'sequence_number') !== undefined),
    read: (s, x, p) => readStreamEvent(s, x, p.type as string),
  },
  { shape: 'batch file line', matches: (x) => get(x, 'custom_id') !== undefined && (get(x, 'response') !== undefined || get(x, 'error') !== undefined), read: readBatchLine },
  {
    shape: 'error-like object',
    matches: (x) => x instanceof Error || typeof get(x, 'stack') === 'string',
    read: (s, x) => {
      readError(s, x);
      return 'failure';
    },
  },
  {
    shape: 'HTTP record or fetch Response',
    // A valid status, or any number beside a body or headers (an out-of-range status is still an HTTP answer).
    matches: (x) => httpStatus(get(x, 'status')) !== undefined || (typeof get(x, 'status') === 'number' && (get(x, 'body') !== undefined || get(x, 'headers') !== undefined)),
    read: readHttpRecord,
  },
  {
    // `{ error: {...} }`, or a gateway's `{ error: "text" }` (Ollama, OpenRouter relays).
    shape: 'error envelope',
    matches: (x) => isObj(get(x, 'error')) || typeof get(x, 'error') === 'string',
    read: (s, x) => {
      s.source = 'error_body';
      readErrorBody(s, x);
      readRequestId(s, get(x, 'headers'));
      return 'failure';
    },
  },
  { shape: 'chat completion (no object field)', matches: (x) => Array.isArray(get(x, 'choices')), read: readChat },
  {
    shape: 'Responses object (no object field)',
    matches: (x) => typeof get(x, 'status') === 'string' && (Array.isArray(get(x, 'output')) || /^resp_/.test(String(get(x, 'id')))),
    read: readResponseObject,
  },
  {
    shape: 'bare error body or serialised error',
    matches: (x) => typeof get(x, 'message') === 'string' || typeof get(x, 'code') === 'string',
    read: (s, x) => {
      s.source = 'error_body';
      readErrorBody(s, x);
      if (s.wireCode !== undefined && TRANSPORT_CODES.has(s.wireCode)) {
        s.transport = TRANSPORT_CODES.get(s.wireCode);
        s.transportCode = s.wireCode;
        s.wireCode = undefined;
      }
      readErrorChain(s, x);
      return 'failure';
    },
  },
  {
    // An error serialised to JSON by a web app: only its `cause` survives.
    shape: 'serialised error with a cause',
    matches: (x) => isObj(get(x, 'cause')),
    read: (s, x) => {
      s.source = 'transport';
      readErrorChain(s, x);
      return 'failure';
    },
  },
];

function isFailureRecord(v: unknown): v is Failure {
  if (!isObj(v)) return false;
  try {
    // A throwing getter means "not a record", as an undefined field would.
    return isFailureCode(v.code) && typeof v.category === 'string' && typeof v.source === 'string' && typeof v.retryable === 'boolean';
  } catch {
    return false;
  }
}

/** Returns a Failure, or null for evident success. The one dispatcher over input shapes. */
function inspect(input: unknown, options: ClassifyOptions | undefined, depth: number): Failure | null {
  const s = newSignals();
  if (input === null || input === undefined) {
    s.state = 'unknown';
    s.message = `Nothing to classify (${String(input)})`;
    return build(s, options);
  }
  if (typeof input === 'string') {
    if (depth < MAX_JSON_DEPTH) {
      // JSON text is classified as the value it holds (a bounded view of it past 1 MiB).
      const parsed = parseJsonText(input);
      if (parsed !== undefined) return inspect(parsed, options, depth + 1);
    }
    readText(s, input);
    return build(s, options);
  }
  if (typeof input === 'number') {
    s.source = 'message';
    const status = httpStatus(input);
    if (status !== undefined) s.status = status;
    s.message = status !== undefined ? `HTTP ${status}` : `Not a failure description: ${String(input)}`;
    return build(s, options);
  }
  if (!isObj(input)) {
    s.message = `Not a failure description: ${typeof input}`;
    return build(s, options);
  }

  // A faultline error or an already classified Failure passes through.
  let branded: unknown;
  let isError = false;
  try {
    branded = input[ERROR_BRAND];
    isError = input instanceof Error && input.object === undefined;
  } catch {
    branded = undefined;
  }
  if (branded === true) {
    const f = get(input, 'failure');
    if (isFailureRecord(f)) return f;
  }
  // Thrown errors are the common case: read them at once, without probing for other shapes.
  if (isError) {
    readError(s, input);
    return build(s, options);
  }
  if (isFailureRecord(input)) return input;

  const probe: Probe = { object: get(input, 'object'), type: get(input, 'type') };
  const shape = SHAPES.find((sh) => sh.matches(input, probe));
  if (shape === undefined) {
    s.message = 'Not a recognised failure shape';
    return build(s, options);
  }
  return shape.read(s, input, probe) === 'success' ? null : build(s, options);
}

/**
 * Classify anything that went wrong into a catalog {@link Failure}. Total and pure: it never throws and
 * always returns one of the catalog's codes.
 *
 * `classify()` assumes it is handed a failure. Given something that shows success (a `completed`
 * Response, a chat completion that finished with `stop`, a non-error stream event) it returns an
 * `unknown` failure whose message says so; use {@link detectFailure} to ask "is this a failure at all?".
 */
export function classify(input: unknown, options?: ClassifyOptions): Failure {
  try {
    const f = inspect(input, options, 0);
    if (f !== null) return f;
    return failureBase(entryOf('unknown'), 'Not a failure: the input shows success', sourceOf(input));
  } catch {
    // Unreachable by design (every read is guarded); a last line of defence for exotic proxies.
    return failureBase(entryOf('unknown'), 'Unreadable input', 'unknown');
  }
}

function sourceOf(input: unknown): FailureSource {
  const object = get(input, 'object');
  if (object === 'response') return 'response';
  if (object === 'batch') return 'batch';
  if (object === 'chat.completion' || object === 'chat.completion.chunk') return 'chat_completion';
  if (typeof get(input, 'type') === 'string') return 'stream_event';
  return 'unknown';
}

/**
 * The failure in `input`, or `null` when it shows success or is still running: a `completed`, `queued`
 * or `in_progress` Response, a chat completion that stopped normally, a batch that completed with at
 * least one line succeeding, a non-error stream event, a `*.completed` webhook, an HTTP record below 400.
 */
export function detectFailure(input: unknown, options?: ClassifyOptions): Failure | null {
  try {
    return inspect(input, options, 0);
  } catch {
    return classify(input, options);
  }
}
