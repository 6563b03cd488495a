/**
 * An independent rate-limited loopback server for the budget tests, written here from the wire protocol
 * (node:http), sharing nothing with faultline's mock or client: GCRA on requests per minute (a burst of
 * `burst` requests) and, optionally, tokens per minute, charging each request what `charge(body)` says
 * (not what faultline estimates). Every answer carries `x-ratelimit-*` headers; a rejection is a 429
 * with `retry-after-ms`, charged nothing. The log is the ground truth the tests judge by.
 */
import { createServer, type Server } from 'node:http';

export interface GcraServerOptions {
  /** Requests per minute. */
  readonly rpm: number;
  /** Requests a fresh key may send at once. @default 1 */
  readonly burst?: number;
  /** Tokens per minute. @default no token limit (1e9 reported) */
  readonly tpm?: number;
  /** The tokens bucket's burst, in ms of refill. @default 1000 */
  readonly tokenBurstMs?: number;
  /** Tokens a request costs at admission, from its parsed body. @default 0 */
  readonly charge?: (body: Record<string, unknown>) => number;
  /** `usage` to put in a 200's body (what the service reports, which need not be what it charged). @default none */
  readonly usage?: (body: Record<string, unknown>) => { prompt_tokens: number; completion_tokens: number };
  /** Time between admission and the answer, in ms (the headers describe the moment of admission). @default 0 */
  readonly latencyMs?: number;
}

export interface Attempt {
  readonly t: number;
  readonly status: number;
  readonly tokens: number;
  readonly proc: string;
}

export interface GcraServer {
  readonly url: string;
  readonly log: Attempt[];
  close(): Promise<void>;
}

const go = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(3)}s` : `${Math.ceil(ms)}ms`);

export async function gcraServer(o: GcraServerOptions): Promise<GcraServer> {
  const ri = 60_000 / o.rpm;
  const rCap = (o.burst ?? 1) * ri;
  const tpm = o.tpm ?? 1e9;
  const ti = 60_000 / tpm;
  const tCap = o.tokenBurstMs ?? 1000;
  let rTat = 0;
  let tTat = 0;
  const log: Attempt[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        // an empty body costs nothing
      }
      const now = performance.now() + performance.timeOrigin;
      const tokens = o.charge?.(body) ?? 0;
      const rNext = Math.max(rTat, now) + ri;
      const tNext = Math.max(tTat, now) + tokens * ti;
      const rWait = rNext - now - rCap;
      const tWait = tNext - now - Math.max(tCap, tokens * ti);
      const admitted = rWait <= 0 && tWait <= 0;
      if (admitted) {
        rTat = rNext;
        tTat = tNext;
      }
      const rBacklog = Math.max(0, rTat - now);
      const tBacklog = Math.max(0, tTat - now);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-ratelimit-limit-requests': String(o.rpm),
        'x-ratelimit-remaining-requests': String(Math.max(0, Math.floor((rCap - rBacklog) / ri))),
        'x-ratelimit-reset-requests': go(rBacklog),
        'x-ratelimit-limit-tokens': String(tpm),
        'x-ratelimit-remaining-tokens': String(Math.max(0, Math.floor((tCap - tBacklog) / ti))),
        'x-ratelimit-reset-tokens': go(tBacklog),
      };
      log.push({ t: now, status: admitted ? 200 : 429, tokens: admitted ? tokens : 0, proc: String(req.headers['x-proc'] ?? '') });
      const answer = (): void => {
        if (!admitted) {
          headers['retry-after-ms'] = String(Math.ceil(Math.max(rWait, tWait)));
          res.writeHead(429, headers);
          res.end(JSON.stringify({ error: { message: `Rate limit reached on ${rWait > 0 ? 'requests' : 'tokens'} per min`, type: rWait > 0 ? 'requests' : 'tokens', code: 'rate_limit_exceeded' } }));
          return;
        }
        res.writeHead(200, headers);
        const usage = o.usage?.(body);
        res.end(JSON.stringify({ id: `chatcmpl-${log.length}`, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], ...(usage !== undefined ? { usage } : {}) }));
      };
      if (o.latencyMs === undefined) answer();
      else setTimeout(answer, o.latencyMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/chat/completions`,
    log,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
