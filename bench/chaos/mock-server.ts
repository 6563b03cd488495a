/**
 * Normal mode: faultline's mock served by `listen()` on 127.0.0.1 (real clock, background runs of a
 * couple of hundred ms), with a few of its own faults (background failures, streams cut mid-way, 5xx on
 * polls) and, optionally, signed webhooks. A thin wrapper around `mock.handle` reads each create's
 * `metadata.faultline_job` and fires the server-side kills; the creates themselves are counted from the
 * mock's ground-truth log (joined to the job key by request id).
 */
import { createMock, listen, type Mock, type MockReply, type MockRequest, type Rule } from '../../src/mock/index.ts';
import type { ChaosServer, CreateRecord, ServerHooks } from './types.ts';

export interface MockServerOptions {
  readonly seed: number;
  readonly hooks: ServerHooks;
  /** Webhook delivery: the mock signs, `fetch` carries the POST to the current receiver. */
  readonly webhooks?: { readonly secret: string; readonly fetch: (input: string, init: RequestInit) => Promise<Response> };
}

const RULES: readonly Rule[] = [
  { match: { path: '/v1/responses', method: 'POST', every: 5 }, fault: { type: 'outcome', status: 'failed', code: 'rate_limit_exceeded' } },
  { match: { path: '/v1/responses', method: 'POST', stream: true, every: 7 }, fault: { type: 'stream', action: 'reset', afterEvents: 4 } },
  { match: { path: '/v1/responses/*', method: 'GET', probability: 0.15 }, fault: { type: 'stream', action: 'reset', afterEvents: 2 } },
  { match: { path: '/v1/responses/*', method: 'GET', probability: 0.05 }, fault: { type: 'http', preset: 'server_error' } },
];

function eventType(chunk: string): string {
  return /^event: (\S+)/.exec(chunk)?.[1] ?? '';
}

export async function serveMock(o: MockServerOptions): Promise<ChaosServer> {
  const mock = createMock({
    seed: o.seed,
    background: { queuedMs: 20, runMs: 200 },
    scenario: RULES,
    ...(o.webhooks !== undefined
      ? { webhooks: { url: 'http://127.0.0.1/chaos-webhooks', secret: o.webhooks.secret, fetch: o.webhooks.fetch, retries: 5, retryDelaysMs: [100, 300, 1000], attemptTimeoutMs: 2000 } }
      : {}),
  });
  const keyByRequest = new Map<string, string>();
  const keyById = new Map<string, string>();
  const records = new Map<string, CreateRecord>(); // by request id
  let requests = 0;
  let streamedWindows = 0;

  async function* watched(stream: AsyncIterable<string>, key: string, tag: string | null): AsyncGenerator<string> {
    for await (const chunk of stream) {
      yield chunk;
      await o.hooks.afterStreamEvent(key, tag, eventType(chunk));
    }
  }

  const handle = async (req: MockRequest): Promise<MockReply> => {
    requests++;
    const path = req.url.split('?')[0] ?? '';
    const tag = req.header('x-bench-id') ?? null;
    let key: string | undefined;
    const isCreate = req.method === 'POST' && path === '/v1/responses';
    if (isCreate) {
      try {
        const body = JSON.parse(await req.text()) as { metadata?: Record<string, unknown>; stream?: unknown; background_options?: { completion_window?: unknown } };
        key = typeof body.metadata?.['faultline_job'] === 'string' ? body.metadata['faultline_job'] : undefined;
        if (body.stream === true && body.background_options?.completion_window !== undefined) streamedWindows++;
      } catch {
        key = undefined;
      }
    } else if (req.method === 'GET' && path.startsWith('/v1/responses/')) {
      key = keyById.get(path.slice('/v1/responses/'.length));
    }
    const reply = await mock.handle(req);
    const requestId = reply.headers['x-request-id'];
    if (isCreate && key !== undefined && requestId !== undefined) {
      keyByRequest.set(requestId, key);
      const entry = [...mock.log].reverse().find((e) => e.kind === 'request' && e.requestId === requestId);
      const id = entry?.kind === 'request' ? entry.objectId : null;
      if (id !== null && id !== undefined) {
        keyById.set(id, key);
        records.set(requestId, { key, id, tag });
        await o.hooks.beforeCreateReply(key, tag);
      }
    }
    if (reply.stream !== undefined && key !== undefined) return { ...reply, stream: watched(reply.stream, key, tag) };
    return reply;
  };
  const served: Mock = { ...mock, handle };
  const server = await listen({ mock: served });
  return {
    url: server.url,
    // Ground truth: the mock's log says which creates made a Response; the wrapper knows their keys.
    creates: () =>
      mock.log.flatMap((e) => {
        if (e.kind !== 'request' || e.method !== 'POST' || e.path !== '/v1/responses' || e.objectId === null) return [];
        const key = keyByRequest.get(e.requestId);
        return key === undefined ? [] : [records.get(e.requestId) ?? { key, id: e.objectId, tag: e.benchId }];
      }),
    requests: () => requests,
    streamedWindows: () => streamedWindows,
    close: () => server.close(),
  };
}
