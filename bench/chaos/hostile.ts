/**
 * Hostile mode: a small OpenAI-compatible Responses server written here from the wire protocol (node:http,
 * nothing from src/mock), on 127.0.0.1, real clock. Each job is treated as its plan's `hostility` says
 * (see plan.ts): a plain JSON answer to a `stream: true` create, keep-alive comments forever, absurd
 * `openai-poll-after-ms` / `retry-after` values, sockets cut mid-body. It keeps its own ground-truth log
 * of creates, and signs and sends webhooks itself (Standard Webhooks: HMAC-SHA256 over
 * `id.timestamp.body`, computed here independently of src/webhooks/standard-webhooks.ts).
 *
 * Endpoints: POST /v1/responses, GET /v1/responses/{id} (with `stream=true&starting_after=N`).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Hostility } from './plan.ts';
import type { ChaosServer, CreateRecord, ServerHooks } from './types.ts';

export interface HostileOptions {
  readonly hostilityOf: (key: string) => Hostility;
  readonly hooks: ServerHooks;
  /** Time a job spends `queued`, then `in_progress`, in ms. */
  readonly queuedMs: number;
  readonly runMs: number;
  readonly webhooks?: { readonly secret: string; readonly fetch: (input: string, init: RequestInit) => Promise<Response> };
}

interface Job {
  readonly id: string;
  readonly key: string;
  readonly createdAt: number;
  readonly hostility: Hostility;
  readonly metadata: Record<string, string>;
  readonly queuedMs: number;
  /** When it completes, in ms after creation. */
  readonly endMs: number;
  polls: number;
  resumes: number;
}

const TEXT = ['Chaos ', 'is a ', 'ladder.'];

function statusAt(job: Job, t: number): string {
  const age = t - job.createdAt;
  return age < job.queuedMs ? 'queued' : age < job.endMs ? 'in_progress' : 'completed';
}

function responseObject(job: Job, status: string): Record<string, unknown> {
  const done = status === 'completed';
  const text = TEXT.join('');
  return {
    id: job.id,
    object: 'response',
    created_at: Math.floor(job.createdAt / 1000),
    status,
    background: true,
    model: 'gpt-4o-mini',
    metadata: job.metadata,
    error: null,
    incomplete_details: null,
    output: done ? [{ id: `msg_${job.id.slice(5)}`, type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] }] : [],
    usage: done ? { input_tokens: 4, output_tokens: 5, total_tokens: 9 } : null,
  };
}

/** The job's events with the ms after creation at which each is due. */
function events(job: Job): { at: number; type: string; data: Record<string, unknown> }[] {
  const q = job.queuedMs;
  const end = job.endMs;
  const out = [
    { at: 0, type: 'response.created', data: { response: responseObject(job, 'queued') } },
    { at: 0, type: 'response.queued', data: { response: responseObject(job, 'queued') } },
    { at: q, type: 'response.in_progress', data: { response: responseObject(job, 'in_progress') } },
    ...TEXT.map((delta, i) => ({ at: q + ((end - q) * (i + 1)) / (TEXT.length + 1), type: 'response.output_text.delta', data: { item_id: `msg_${job.id.slice(5)}`, output_index: 0, content_index: 0, delta } })),
    { at: end, type: 'response.completed', data: { response: responseObject(job, 'completed') } },
  ];
  return out.map((e, seq) => ({ ...e, data: { type: e.type, ...e.data, sequence_number: seq } }));
}

const frame = (type: string, data: unknown): string => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 1 << 20) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), 'x-request-id': `req_${randomBytes(8).toString('hex')}`, ...headers });
  res.end(text);
}

/** Sends the head and half of a JSON body, then drops the socket (a proxy dying mid-answer). */
function cutJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.write(text.slice(0, Math.floor(text.length / 2)), () => res.socket?.resetAndDestroy());
}

export async function serveHostile(o: HostileOptions): Promise<ChaosServer> {
  const jobs = new Map<string, Job>();
  const creates: CreateRecord[] = [];
  const sockets = new Set<Socket>();
  const closing = new AbortController();
  const timers = new Set<NodeJS.Timeout>();
  let requests = 0;
  let streamedWindows = 0;
  const later = (ms: number, signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const t = setTimeout(done, ms);
      timers.add(t);
      function done(): void {
        clearTimeout(t);
        timers.delete(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });

  function webhookFor(job: Job): void {
    const hook = o.webhooks;
    if (hook === undefined) return;
    void (async () => {
      await later(job.endMs - (Date.now() - job.createdAt) + 5, closing.signal);
      const id = `evt_${randomBytes(12).toString('hex')}`;
      const body = JSON.stringify({ id, object: 'event', created_at: Math.floor(Date.now() / 1000), type: 'response.completed', data: { id: job.id } });
      const key = Buffer.from(hook.secret.replace(/^whsec_/, ''), 'base64');
      for (let attempt = 0; attempt < 6 && !closing.signal.aborted; attempt++) {
        const ts = String(Math.floor(Date.now() / 1000));
        const sig = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
        const headers = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${sig}` };
        const ok = await hook.fetch('http://127.0.0.1/chaos-webhooks', { method: 'POST', headers, body, signal: AbortSignal.any([closing.signal, AbortSignal.timeout(2000)]) }).then(
          (r) => r.body?.cancel().then(() => r.ok, () => r.ok) ?? r.ok,
          () => false,
        );
        if (ok) return;
        await later(100 * 3 ** attempt, closing.signal);
      }
    })();
  }

  /** Streams the job's events after `after`, each when due; `keepalive_forever` never ends. */
  async function stream(res: ServerResponse, job: Job, after: number, tag: string | null, cut: boolean, create = false): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const signal = AbortSignal.any([gone.signal, closing.signal]);
    let sent = 0;
    for (const e of events(job)) {
      if (e.data['sequence_number'] as number <= after) continue;
      if (job.hostility === 'keepalive_forever' && e.type !== 'response.created' && e.type !== 'response.queued') break;
      const wait = job.createdAt + e.at - Date.now();
      if (wait > 0) await later(wait, signal);
      if (signal.aborted) return;
      const text = frame(e.type, e.data);
      if (cut && sent === (create ? 1 : 0)) {
        // Half of this event, then the socket goes (the id, in the first event, did get through).
        res.write(text.slice(0, Math.floor(text.length / 2)), () => res.socket?.resetAndDestroy());
        return;
      }
      res.write(text);
      sent++;
      await o.hooks.afterStreamEvent(job.key, tag, e.type);
    }
    if (job.hostility === 'keepalive_forever') {
      while (!signal.aborted) {
        res.write(': keep-alive\n\n');
        await later(50, signal);
      }
      return;
    }
    res.end();
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requests++;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const tag = typeof req.headers['x-bench-id'] === 'string' ? req.headers['x-bench-id'] : null;
    if (req.method === 'POST' && url.pathname === '/v1/responses') {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(await readBody(req)) as Record<string, unknown>;
      } catch {
        return sendJson(res, 400, { error: { message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error', param: null, code: null } });
      }
      const window = (body['background_options'] as { completion_window?: unknown } | undefined)?.completion_window;
      if (body['stream'] === true && window !== undefined) {
        streamedWindows++;
        return sendJson(res, 400, { error: { message: 'Streaming is not supported with background_options.completion_window.', type: 'invalid_request_error', param: 'stream', code: null } });
      }
      const metadata = (typeof body['metadata'] === 'object' && body['metadata'] !== null ? body['metadata'] : {}) as Record<string, string>;
      const key = metadata['faultline_job'] ?? '';
      const job: Job = { id: `resp_${randomBytes(12).toString('hex')}`, key, createdAt: Date.now(), hostility: o.hostilityOf(key), metadata, queuedMs: o.queuedMs, endMs: o.queuedMs + o.runMs, polls: 0, resumes: 0 };
      jobs.set(job.id, job);
      creates.push({ key, id: job.id, tag });
      webhookFor(job);
      if ((await o.hooks.beforeCreateReply(key, tag)) || res.destroyed) return;
      const cut = job.hostility === 'cut_mid_body';
      if (body['stream'] === true && job.hostility !== 'json_for_stream') return stream(res, job, -1, tag, cut, true);
      const snapshot = responseObject(job, statusAt(job, Date.now()));
      if (cut) return cutJson(res, snapshot);
      sendJson(res, 200, snapshot);
      return;
    }
    const m = /^\/v1\/responses\/([^/]+)$/.exec(url.pathname);
    const job = m !== null && req.method === 'GET' ? jobs.get(m[1]!) : undefined;
    if (job === undefined) {
      return sendJson(res, 404, { error: { message: `No such response: ${url.pathname}`, type: 'invalid_request_error', param: null, code: null } });
    }
    if (url.searchParams.get('stream') === 'true') {
      const after = Number(url.searchParams.get('starting_after') ?? -1);
      job.resumes++;
      return stream(res, job, Number.isInteger(after) ? after : -1, tag, job.hostility === 'cut_mid_body' && job.resumes % 2 === 1);
    }
    job.polls++;
    const snapshot = responseObject(job, statusAt(job, Date.now()));
    if (job.hostility === 'huge_retry_after' && job.polls === 1) {
      return sendJson(res, 429, { error: { message: 'Rate limit reached for requests. Please try again in 999999s.', type: 'requests', param: null, code: 'rate_limit_exceeded' } }, { 'retry-after': '999999', 'retry-after-ms': '1000000000000' });
    }
    if (job.hostility === 'cut_mid_body' && job.polls % 2 === 1) return cutJson(res, snapshot);
    sendJson(res, 200, snapshot, job.hostility === 'huge_poll_after' ? { 'openai-poll-after-ms': '1000000000000' } : {});
  }

  const server = createServer({ keepAlive: true }, (req, res) => {
    route(req, res).catch(() => res.socket?.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    creates: () => creates,
    requests: () => requests,
    streamedWindows: () => streamedWindows,
    close: () =>
      (closed ??= (async () => {
        closing.abort();
        for (const t of timers) clearTimeout(t);
        const done = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await done;
      })()),
  };
}
