/**
 * Generates docs/otel.md: what faultline/otel records (every span attribute and metric in
 * src/otel/semconv.ts, each with its description here) and the published list of `error.type` values,
 * taken from the catalog (the GenAI conventions ask an instrumentation to document that list).
 * `--check` exits 1 when the file is stale; test/otel/docs.test.ts fails when it drifts from the catalog
 * or an attribute or metric has no description.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOG } from '../src/core/catalog.ts';
import { ATTR, ERROR_TYPES, METRIC, REQUEST_EVENT, RETRY_EVENT, SUCCESS, WAIT_EVENT, WAIT_RETRY_EVENT, WAIT_STATUS_EVENT } from '../src/otel/semconv.ts';
import { writeGenerated } from './gen-options.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where each attribute is set, and what it holds. */
export const ATTRIBUTE_DOCS: Readonly<Record<keyof typeof ATTR, readonly [where: string, text: string]>> = {
  operationName: ['request span, metrics', '`chat` (Chat Completions and Responses), `text_completion`, `embeddings`; absent for the rest of the API (files, polls, batches).'],
  requestModel: ['request span, wait span, metrics', 'The `model` of the JSON request body (of the create params, for `createAndWait`).'],
  providerName: ['request span, metrics', '`openai`, or `azure.ai.openai` for an `*.openai.azure.com` host. Set on GenAI operations only.'],
  system: ['request span, metrics', 'The same value under its pre-1.37 name, still read by many backends.'],
  errorType: ['request span, wait span, metrics', 'The catalog code of the **final** outcome, only when it failed (list below). An attempt that was retried and then succeeded sets no `error.type`.'],
  httpMethod: ['request span', 'The HTTP method.'],
  httpStatus: ['request span, retry events', 'The status of the final answer (on the span) or of the retried attempt (on the event).'],
  serverAddress: ['request span, metrics', 'The host of the request URL.'],
  serverPort: ['request span', 'The port of the request URL.'],
  attempts: ['request span', 'Attempts sent, the first included.'],
  retries: ['request span, wait span', 'Attempts that failed and were retried (`attempts - 1` on a request; failed polls retried, on a wait).'],
  pacedMs: ['request span', 'Milliseconds spent waiting for a pacing turn (rate limits learned or set, a 429 pause shared by the model).'],
  backoffMs: ['request span', 'Milliseconds slept between attempts by the retry loop (backoff, or the server\'s `retry-after` plus spread).'],
  retryAfterMs: ['request span, retry events', 'The `retry-after-ms`/`retry-after` the server asked for and faultline honoured, summed over the retries (on the span) or of one attempt (on the event).'],
  requestId: ['request span, retry events', 'The `x-request-id` of the final answer (span) or of the retried attempt (event): what OpenAI support asks for.'],
  outcome: ['metrics', `\`${SUCCESS}\`, or the catalog code of the final failure (the same value as \`error.type\`).`],
  failureCode: ['retry events, retries metric', 'The catalog code of an attempt that was retried.'],
  waitKind: ['wait span, metrics', '`response` or `batch`.'],
  waitOperation: ['wait span, metrics', 'The function: `waitForResponse`, `createAndWait`, `waitForBatch` or `resumeAll`.'],
  objectId: ['wait span', 'The Response or Batch id (learned on the way for `createAndWait`).'],
  objectStatus: ['wait span, wait status event', 'The last status read (`completed`, `failed`, `incomplete`, `cancelled`, `expired`, …), on the span; the new status, on the event.'],
  waitSource: ['wait status event', 'Where the status was seen: `poll`, `stream`, `webhook` or `create`.'],
  polls: ['wait span', 'Polls the wait made (a wait that streams makes few or none).'],
  rateLimitKind: ['rate-limit metrics', '`requests` or `tokens`.'],
  delayMs: ['retry events', 'Milliseconds slept before the next attempt or poll (0 when the pacer waited instead).'],
  attempt: ['retry event', 'The attempt that failed, 1-based.'],
  durationMs: [`\`${REQUEST_EVENT}\` and \`${WAIT_EVENT}\` events (\`record: 'events'\`)`, 'Milliseconds from the start of the request or wait to its outcome (what the span\'s own duration would have been).'],
};

/** What each metric measures. */
export const METRIC_DOCS: Readonly<Record<keyof typeof METRIC, readonly [kind: string, unit: string, text: string]>> = {
  operationDuration: ['histogram', 's', 'GenAI requests from start to final outcome, retries and pacing included; `error.type` on failures. The GenAI conventions\' client metric.'],
  requests: ['counter', '{request}', 'Every request through `createFetch`, by `faultline.outcome` (and `error.type` on failures), model and operation.'],
  retries: ['counter', '{retry}', 'Attempts retried, by `faultline.failure.code`.'],
  pacingDuration: ['histogram', 's', 'Time a paced request waited for its turn.'],
  backoffDuration: ['histogram', 's', 'Time a retried request slept between attempts.'],
  rateLimitRemaining: ['gauge', '{unit}', '`x-ratelimit-remaining-requests`/`-tokens` last read, by model and `faultline.ratelimit.kind`: the headroom learned.'],
  rateLimitLimit: ['gauge', '{unit}', '`x-ratelimit-limit-requests`/`-tokens` last read, by model and `faultline.ratelimit.kind`.'],
  waits: ['counter', '{wait}', 'Background waits, by kind, function and `faultline.outcome` (and `error.type`).'],
  waitDuration: ['histogram', 's', 'Background waits from start to outcome.'],
};

/** docs/otel.md */
export function renderOtelMarkdown(): string {
  const out = [
    '# OpenTelemetry',
    '',
    '<!-- Generated from src/otel/semconv.ts and src/core/catalog.ts by `npm run docs`. Do not edit by hand: test/otel/docs.test.ts fails when this file drifts. -->',
    '',
    '`faultline/otel` records every request made through `createFetch` and every background wait as an OpenTelemetry CLIENT span, with metrics, following the [GenAI semantic conventions](https://opentelemetry.io/docs/specs/semconv/gen-ai/openai/) where they apply. `error.type` is the stable catalog code of the **final** outcome; an attempt that was retried and then succeeded is a `' + RETRY_EVENT + '` span event, never an error. Needs `@opentelemetry/api` (an optional peer dependency) and an SDK your app configures.',
    '',
    '```ts',
    "import { instrument } from 'faultline/otel';",
    '',
    '// After your OpenTelemetry SDK is set up (NodeSDK, or your own providers):',
    'const otel = instrument({ tracerProvider, meterProvider }); // both default to the global providers',
    "const client = new OpenAI({ fetch: createFetch(), maxRetries: 0 }); // every request is now a span",
    '// on shutdown: otel.uninstrument();',
    '```',
    '',
    '- **Zero cost until called.** The root `faultline` entry never loads `@opentelemetry/api`; before `instrument()` (and after `uninstrument()`) each emit site is one boolean check.',
    '- **Every copy of faultline in the process** reports to it (the registry is shared on `globalThis`), so a library that bundles its own faultline is traced too.',
    '- **Spans nest.** A request span is a child of the context active when the request starts; a wait span is active while the wait runs, so the polls it makes through a `createFetch` client are its children.',
    '- **A streamed answer\'s request span ends when its headers arrive**: faultline never sends a stream again once it is returned, so what follows is the caller\'s stream (`trackStreamFailures` classifies a failure inside it).',
    '- **No content, no secrets.** Prompts and answers are never read into telemetry; span status messages are redacted like every faultline message.',
    '- **Background outcomes are what they are.** A `failed` or `incomplete` Response, and a failed, expired or cancelled Batch, end the wait span in ERROR with the code, even when the wait returns it (`incomplete: \'return\'`, `failure: \'return\'`).',
    '',
    '## Spans',
    '',
    '| span | name | kind |',
    '|---|---|---|',
    '| request (`createFetch`) | `{gen_ai.operation.name} {gen_ai.request.model}` (`chat gpt-4o-mini`) for a GenAI call, the HTTP method (`GET`) otherwise | CLIENT |',
    '| wait | `{function} {id}` (`waitForResponse resp_123`; `createAndWait` alone, its id is not known at the start) | CLIENT |',
    '',
    `Each attempt that failed and was retried adds a \`${RETRY_EVENT}\` event to the request span. On a wait span, each status change is a \`${WAIT_STATUS_EVENT}\` event and each failed poll that is retried a \`${WAIT_RETRY_EVENT}\` event (the wait must run inside an active context: the span is found through it, so an OpenTelemetry context manager must be registered, as the SDK's setup does). A failed final outcome sets the span status to ERROR.`,
    '',
    "## Span events on the caller's span (`record: 'events'`)",
    '',
    `\`instrument({ record: 'events' })\` starts no span of faultline's own. Each request and each wait is recorded as span events on the span active when it starts (yours): the \`${RETRY_EVENT}\`, \`${WAIT_STATUS_EVENT}\` and \`${WAIT_RETRY_EVENT}\` events as they happen, then one \`${REQUEST_EVENT}\` (or \`${WAIT_EVENT}\`) event at the final outcome with every attribute the span would have had, \`error.type\` on a failure, and \`${ATTR.durationMs}\`. Your span's status is left to you. With no active span nothing is recorded on a trace; the metrics are the same in both modes.`,
    '',
    '## Attributes',
    '',
    '| attribute | on | meaning |',
    '|---|---|---|',
    ...(Object.keys(ATTR) as (keyof typeof ATTR)[]).map((k) => `| \`${ATTR[k]}\` | ${ATTRIBUTE_DOCS[k][0]} | ${ATTRIBUTE_DOCS[k][1]} |`),
    '',
    '## Metrics',
    '',
    'Durations are in seconds, as the OpenTelemetry conventions ask of metrics (span attributes stay in milliseconds, like every faultline option).',
    '',
    '| metric | instrument | unit | what |',
    '|---|---|---|---|',
    ...(Object.keys(METRIC) as (keyof typeof METRIC)[]).map((k) => `| \`${METRIC[k]}\` | ${METRIC_DOCS[k][0]} | \`${METRIC_DOCS[k][1]}\` | ${METRIC_DOCS[k][2]} |`),
    '',
    '## `error.type` values',
    '',
    `Every value \`error.type\` can take: the ${ERROR_TYPES.length} catalog codes, and nothing else (a failure faultline cannot place is \`unknown\`). They are the public contract of faultline: renaming one is a breaking change. \`faultline explain CODE\` prints the fix for each.`,
    '',
    '| `error.type` | error class | category | retried | meaning |',
    '|---|---|---|---|---|',
    ...ERROR_TYPES.map((code) => {
      const e = CATALOG.find((row) => row.code === code)!;
      return `| \`${code}\` | \`${e.name}\` | ${e.category} | ${e.retryable ? 'yes' : 'no'} | ${e.summary} |`;
    }),
    '',
  ];
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) writeGenerated(join(root, 'docs', 'otel.md'), renderOtelMarkdown());
