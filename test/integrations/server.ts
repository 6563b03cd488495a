/**
 * A scripted OpenAI-compatible server on 127.0.0.1 for the integration recipes, written from the wire
 * protocol (node:http, no faultline code). Each request takes the next answer of the script (the last
 * one repeats); `hits` counts what reached the wire, which is what the recipes are about: how many
 * requests one call really sends.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';

export interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ScriptedServer {
  /** The base URL, ending in `/v1`. */
  readonly base: string;
  /** Requests received since the last {@link ScriptedServer.play}, with their method and path. */
  readonly hits: string[];
  /** Answer the next requests with `answers`, in order, and reset `hits`. */
  play(...answers: Answer[]): void;
}

export const serverError: Answer = { status: 500, body: { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } } };
export const emptyWallet: Answer = { status: 429, body: { error: { message: 'You exceeded your current quota.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } } };

/** A completed Responses API answer saying `text`. */
export const responseOf = (text: string): Answer => ({
  status: 200,
  body: {
    id: 'resp_int', object: 'response', created_at: 1, status: 'completed', model: 'gpt-4o-mini', error: null, incomplete_details: null,
    output: [{ type: 'message', id: 'msg_int', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] }],
    usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } },
  },
});

/** A Chat Completions answer saying `text`. */
export const completionOf = (text: string): Answer => ({
  status: 200,
  body: { id: 'chatcmpl_int', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content: text, refusal: null } }], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } },
});

function send(res: ServerResponse, a: Answer): void {
  const text = JSON.stringify(a.body);
  res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-request-id': `req_${a.status}`, ...a.headers });
  res.end(text);
}

/** One server per test file: listening before its tests, closed after them. */
export function scriptedServer(): ScriptedServer {
  let answers: Answer[] = [];
  const state = { base: '', hits: [] as string[], play(...a: Answer[]) { answers = a; state.hits.length = 0; } };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.hits.push(`${req.method} ${(req.url ?? '').split('?')[0]}`);
      send(res, answers[Math.min(state.hits.length - 1, answers.length - 1)] ?? serverError);
    });
  });
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    state.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  return state;
}
