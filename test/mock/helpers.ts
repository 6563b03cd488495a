/** Shared helpers for the mock's tests: the four SDK majors, each wired to a mock's fetch. */
import OpenAI4 from 'openai-v4';
import OpenAI5 from 'openai-v5';
import OpenAI6 from 'openai-v6';
import OpenAI7 from 'openai-v7';
import type { Mock } from '../../src/mock/index.ts';

/** The SDK error classes the tests check, by name (each major has its own copies). */
export interface SdkErrors {
  readonly APIError: abstract new (...args: never[]) => Error;
  readonly APIConnectionError: abstract new (...args: never[]) => Error;
  readonly APIConnectionTimeoutError: abstract new (...args: never[]) => Error;
  readonly BadRequestError: abstract new (...args: never[]) => Error;
  readonly AuthenticationError: abstract new (...args: never[]) => Error;
  readonly PermissionDeniedError: abstract new (...args: never[]) => Error;
  readonly NotFoundError: abstract new (...args: never[]) => Error;
  readonly ConflictError: abstract new (...args: never[]) => Error;
  readonly RateLimitError: abstract new (...args: never[]) => Error;
  readonly InternalServerError: abstract new (...args: never[]) => Error;
}

/**
 * The parts of the client the tests use. The four majors' real types differ in details that do not
 * matter here, so the tests go through this narrow, structural view.
 */
export interface AnyClient {
  responses: {
    create(body: Record<string, unknown>, options?: Record<string, unknown>): Promise<any>;
    retrieve(id: string, query?: Record<string, unknown>, options?: Record<string, unknown>): Promise<any>;
    cancel(id: string): Promise<any>;
    del?(id: string): Promise<any>;
    delete?(id: string): Promise<any>;
  };
  chat: { completions: { create(body: Record<string, unknown>, options?: Record<string, unknown>): Promise<any> } };
  models: { list(): Promise<any> & AsyncIterable<any> };
  files: { create(body: Record<string, unknown>): Promise<any>; content(id: string): Promise<any> };
  batches: { create(body: Record<string, unknown>): Promise<any>; retrieve(id: string): Promise<any> };
}

export interface Major {
  readonly name: string;
  readonly errors: SdkErrors;
  readonly toFile: (value: Uint8Array, name: string) => Promise<unknown>;
  client(mock: Mock, extra?: Record<string, unknown>): AnyClient;
}

function major(name: string, Ctor: any, toFile: any): Major {
  return {
    name,
    errors: Ctor as SdkErrors,
    toFile: (value, filename) => toFile(value, filename),
    client: (mock, extra = {}) =>
      new Ctor({ apiKey: 'sk-test-mock', baseURL: 'http://mock/v1', fetch: mock.fetch, maxRetries: 0, ...extra }) as AnyClient,
  };
}

export const MAJORS: readonly Major[] = [
  major('v4', OpenAI4, (await import('openai-v4')).toFile),
  major('v5', OpenAI5, (await import('openai-v5')).toFile),
  major('v6', OpenAI6, (await import('openai-v6')).toFile),
  major('v7', OpenAI7, (await import('openai-v7')).toFile),
];

/** Collects an async iterable into an array. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- SDK events differ across majors
export async function collect(it: AsyncIterable<any>): Promise<any[]> {
  const out: any[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Runs `fn`, expecting it to reject; returns the error. */
export async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
