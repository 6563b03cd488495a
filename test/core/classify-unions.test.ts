/**
 * Cases generated from the installed `openai` SDK's own type unions (read from its .d.ts files at test
 * time), so that an SDK upgrade that adds a value fails here until someone decides what it means.
 * The maps of deliberate decisions live in test/fixtures/sdk-unions.ts; `null` means "not a failure".
 *
 * Plus the catalog's own invariants: one error class per code, and the retry sets inside the catalog.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { classify, detectFailure } from '../../src/core/classify/index.ts';
import { CATALOG, FAILURE_CODES, type FailureCode } from '../../src/core/catalog.ts';
import { ERROR_CLASSES, FaultlineError } from '../../src/core/errors.ts';
import { NEVER_RETRIED_CODES, RETRYABLE_CODES } from '../../src/retry/index.ts';
import { BATCH_STATUS, FINISH_REASON, INCOMPLETE_REASON, RESPONSE_ERROR_CODE, RESPONSE_STATUS, WEBHOOK_TYPE } from '../fixtures/sdk-unions.ts';

// The package's `exports` hide package.json: resolve the entry and walk up to the package root.
const SDK_DIR = dirname(createRequire(import.meta.url).resolve('openai'));
const SDK_VERSION = (JSON.parse(readFileSync(join(SDK_DIR, 'package.json'), 'utf8')) as { version: string }).version;

function dts(path: string): string {
  return readFileSync(join(SDK_DIR, path), 'utf8');
}

/** The string literals of a union written `'a' | 'b' | ...` (ignores `null`, `string & {}`). */
function literals(union: string): string[] {
  return [...union.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
}

/** The union after `field:` (or `field?:`) in the first block that starts with `header`. */
function unionIn(text: string, header: string, field: string): string[] {
  const start = text.indexOf(header);
  assert.ok(start >= 0, `openai ${SDK_VERSION}: "${header}" not found; the test must learn the new layout`);
  const re = new RegExp(`\\n\\s+${field}\\??: ([^;]+);`);
  const m = re.exec(text.slice(start));
  assert.ok(m, `openai ${SDK_VERSION}: no ${field} under "${header}"`);
  const values = literals(m[1]!);
  assert.ok(values.length > 0, `openai ${SDK_VERSION}: empty union for ${field}`);
  return values;
}

function typeAlias(text: string, name: string): string[] {
  const m = new RegExp(`export type ${name} = ([^;]+);`).exec(text);
  assert.ok(m, `openai ${SDK_VERSION}: type ${name} not found`);
  return literals(m[1]!);
}

/** Every value of the SDK's union must be in the map, and every map key must still be in the union. */
function checkCoverage(what: string, sdkValues: readonly string[], expected: object): void {
  const missing = sdkValues.filter((v) => !(v in expected));
  assert.deepEqual(
    missing,
    [],
    `openai ${SDK_VERSION} added ${what} value(s) ${missing.join(', ')}: decide their catalog code, teach src/core/classify/ if needed, and add them to the map in this test`,
  );
}

const RESPONSES = dts('resources/responses/responses.d.ts');

describe(`openai ${SDK_VERSION} unions → deliberate codes`, () => {
  test('ResponseError.code: as a failed Response, a response.failed event and a flat error event', () => {
    const codes = unionIn(RESPONSES, 'export interface ResponseError {', 'code');
    checkCoverage('ResponseError.code', codes, RESPONSE_ERROR_CODE);
    for (const code of codes) {
      const expected = (RESPONSE_ERROR_CODE as Readonly<Record<string, FailureCode>>)[code];
      const error = { code, message: `A ${code} failure.` };
      const response = { id: 'resp_u', object: 'response', status: 'failed', error, output: [] };
      for (const [form, input] of [
        ['Response', response],
        ['response.failed', { type: 'response.failed', sequence_number: 9, response }],
        ['error event', { type: 'error', sequence_number: 9, code, message: error.message, param: null }],
        ['nested error event', { type: 'error', error: { type: 'invalid_request_error', code, message: error.message } }],
      ] as const) {
        const f = classify(input);
        assert.equal(f.code, expected, `${code} as ${form}`);
        assert.equal(f.status, undefined, `${code} as ${form}: no transport status`);
        assert.equal(f.wireCode, code);
      }
    }
  });

  test('ResponseStatus', () => {
    const expected: Readonly<Record<string, FailureCode | null>> = RESPONSE_STATUS;
    const statuses = typeAlias(RESPONSES, 'ResponseStatus');
    checkCoverage('ResponseStatus', statuses, expected);
    for (const status of statuses) {
      const f = detectFailure({ id: 'resp_s', object: 'response', status, error: null, incomplete_details: null, output: [] });
      assert.equal(f?.code ?? null, expected[status], status);
    }
  });

  test('Response.IncompleteDetails.reason', () => {
    const expected: Readonly<Record<string, FailureCode>> = INCOMPLETE_REASON;
    const reasons = unionIn(RESPONSES, 'interface IncompleteDetails {', 'reason');
    checkCoverage('IncompleteDetails.reason', reasons, expected);
    for (const reason of reasons) {
      const r = { id: 'resp_i', object: 'response', status: 'incomplete', incomplete_details: { reason }, output: [] };
      assert.equal(classify(r).code, expected[reason], reason);
      assert.equal(classify({ type: 'response.incomplete', sequence_number: 4, response: r }).code, expected[reason], `${reason} as an event`);
    }
  });

  test('ChatCompletion.Choice.finish_reason (and the chunk form)', () => {
    const expected: Readonly<Record<string, FailureCode | null>> = FINISH_REASON;
    const chat = dts('resources/chat/completions/completions.d.ts');
    const reasons = unionIn(chat, 'export declare namespace ChatCompletion {', 'finish_reason');
    const chunkReasons = unionIn(chat, 'export declare namespace ChatCompletionChunk {', 'finish_reason');
    checkCoverage('finish_reason', [...reasons, ...chunkReasons], expected);
    for (const reason of reasons) {
      const c = { id: 'chatcmpl-u', object: 'chat.completion', choices: [{ index: 0, finish_reason: reason, message: { role: 'assistant', content: 'x' } }] };
      assert.equal(detectFailure(c)?.code ?? null, expected[reason], reason);
      const chunk = { id: 'chatcmpl-u', object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: reason }] };
      assert.equal(detectFailure(chunk)?.code ?? null, expected[reason], `${reason} in a chunk`);
    }
  });

  test('Batch.status', () => {
    const expected: Readonly<Record<string, FailureCode | null>> = BATCH_STATUS;
    const statuses = unionIn(dts('resources/batches.d.ts'), 'export interface Batch {', 'status');
    checkCoverage('Batch.status', statuses, expected);
    for (const status of statuses) {
      assert.equal(detectFailure({ id: 'batch_u', object: 'batch', status })?.code ?? null, expected[status], status);
    }
  });

  test('webhook event types', () => {
    const expected: Readonly<Record<string, FailureCode | null>> = WEBHOOK_TYPE;
    const text = dts('resources/webhooks/webhooks.d.ts');
    const types = new Set<string>();
    for (const m of text.matchAll(/export interface (\w+WebhookEvent) \{([\s\S]*?)\n\}/g)) {
      const t = /\n {4}type: '([^']+)';/.exec(m[2]!);
      if (t) types.add(t[1]!);
    }
    // The test-delivery params list the types too (some, like video.*, only there).
    for (const v of unionIn(text, 'export interface WebhookTestParams {', 'event_type')) types.add(v);
    assert.ok(types.size >= 15, `openai ${SDK_VERSION}: webhook types not found`);
    checkCoverage('webhook type', [...types], expected);
    for (const type of types) {
      const event = { id: 'evt_u', object: 'event', created_at: 1755000000, type, data: { id: 'obj_u' } };
      const f = detectFailure(event);
      assert.equal(f?.code ?? null, expected[type], type);
      if (f !== null) {
        assert.equal(f.source, 'webhook');
        assert.equal(f.objectId, 'obj_u');
        assert.equal(f.status, undefined);
      }
    }
  });

  test('Responses stream event types: only error, response.failed and response.incomplete are failures', () => {
    const m = /export type ResponseStreamEvent = ([^;]+);/.exec(RESPONSES);
    assert.ok(m, 'ResponseStreamEvent not found');
    const names = m[1]!.split('|').map((s) => s.trim());
    const types: string[] = [];
    for (const name of names) {
      const body = new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`).exec(RESPONSES);
      const t = body && /\n {4}type: '([^']+)';/.exec(body[1]!);
      if (t) types.push(t[1]!);
    }
    assert.ok(types.length > 20, `openai ${SDK_VERSION}: stream event types not found (${types.length})`);
    const failures = new Set(['error', 'response.failed', 'response.incomplete']);
    for (const type of types) {
      const f = detectFailure({ type, sequence_number: 1, item_id: 'x', output_index: 0 });
      assert.equal(f !== null, failures.has(type), `${type}: ${f?.code}`);
    }
  });
});

describe('catalog invariants', () => {
  test('every catalog code has its error class with the same name and code', () => {
    assert.deepEqual(Object.keys(ERROR_CLASSES).sort(), [...FAILURE_CODES].sort());
    for (const entry of CATALOG) {
      const Cls = ERROR_CLASSES[entry.code];
      assert.equal(Cls.name, entry.name, `class for ${entry.code}`);
      assert.equal(Cls.code, entry.code);
      const e = new Cls();
      assert.equal(e.name, entry.name);
      assert.equal(e.code, entry.code);
      assert.equal(e.failure.category, entry.category);
      assert.equal(e.retryable, entry.retryable);
      assert.ok(e instanceof FaultlineError && e instanceof Error);
      assert.ok((Cls as unknown as { [Symbol.hasInstance](v: unknown): boolean })[Symbol.hasInstance](e));
    }
  });

  test('every retryable code is in the catalog and retryable there; never-retried ones are not', () => {
    for (const code of RETRYABLE_CODES) {
      const entry = CATALOG.find((e) => e.code === code);
      assert.ok(entry, `${code} is retried but not in the catalog`);
      assert.equal(entry.retryable, true, `${code} is retried but the catalog says not retryable`);
      assert.ok(!NEVER_RETRIED_CODES.has(code), `${code} is in both sets`);
    }
    for (const code of NEVER_RETRIED_CODES) {
      const entry = CATALOG.find((e) => e.code === code);
      assert.ok(entry, `${code} is not in the catalog`);
      assert.equal(entry.retryable, false, `${code} is never retried but the catalog says retryable`);
    }
    // One rule (src/core/catalog.ts isRetryableFailure): the catalog row is the retry answer, with no exception.
    for (const entry of CATALOG) assert.equal(RETRYABLE_CODES.has(entry.code), entry.retryable, entry.code);
  });
});
