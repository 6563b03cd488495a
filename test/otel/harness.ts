/**
 * The OpenTelemetry side of the tests: the SDK's in-memory span exporter, an in-memory metric reader,
 * and a context manager on AsyncLocalStorage (the SDK's own lives in a package we do not install), so a
 * test reads exactly what an app's exporter would receive.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import { context, ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { instrument } from '../../src/otel/index.ts';

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

class StorageContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.#storage.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#storage.disable();
    return this;
  }
}

let contextSet = false;

/** Point the global context API at AsyncLocalStorage once per process (the SDK's setup does this in an app). */
export function useAsyncContext(): void {
  if (contextSet) return;
  contextSet = true;
  context.setGlobalContextManager(new StorageContextManager());
}

export interface Recorder {
  readonly tracerProvider: BasicTracerProvider;
  readonly meterProvider: MeterProvider;
  spans(): ReadableSpan[];
  /** The data points of one metric, after a collection. */
  points(name: string): Promise<DataPoint<number | Histogram>[]>;
  stop(): Promise<void>;
}

/** An instrumented process: faultline/otel attached to fresh in-memory providers (`mode`: the `record` option). */
export function record(mode?: 'spans' | 'events'): Recorder {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const otel = instrument({ tracerProvider, meterProvider, ...(mode !== undefined ? { record: mode } : {}) });
  return {
    tracerProvider,
    meterProvider,
    spans: () => exporter.getFinishedSpans(),
    async points(name) {
      const { resourceMetrics } = await reader.collect();
      const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
      return (metric?.dataPoints ?? []) as DataPoint<number | Histogram>[];
    },
    async stop() {
      otel.uninstrument();
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** A fake API key built at run time (no key-shaped literal in the repository). */
export const fakeKey = (): string => ['sk', 'test', 'otel', '0'.repeat(8)].join('-');

/**
 * An independent loopback server for one test file (node:http, no faultline code): `handler` answers
 * each request once its body has arrived. Listens before the file's tests, closes after them, and sets
 * up the async context so spans nest.
 */
export function serveLoopback(handler: (req: IncomingMessage, res: ServerResponse) => void): { readonly base: string } {
  const state = { base: '' };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(req, res));
  });
  before(async () => {
    useAsyncContext();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    state.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  return state;
}

/** One scripted answer of a loopback server. */
export type Answer = (req: IncomingMessage, res: ServerResponse) => void;

/** Answers `status` with `body` as JSON. */
export const reply =
  (status: number, body: unknown, headers: Record<string, string> = {}): Answer =>
  (_req, res) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

/** The API's error envelope. */
export const apiError = (status: number, code: string | null, type: string, headers: Record<string, string> = {}): Answer =>
  reply(status, { error: { message: `failure ${code ?? type}`, type, param: null, code } }, headers);

/** A chat completion. */
export const completion = (headers: Record<string, string> = {}): Answer =>
  reply(200, { id: 'chatcmpl_1', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'hi' } }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }, headers);
