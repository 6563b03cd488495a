/**
 * Scripted fetches and responses for the retry tests. Time is driven by the public
 * `createManualClock({ autoAdvance: true })` from `faultline/mock` (it replaced this file's own clock).
 */
/** A scripted `fetch`: each call takes the next step (a Response factory or an error to throw). */
export type Step = (() => Response) | Error;

export function scriptedFetch(steps: readonly Step[]) {
  const calls: { url: string; body: string | undefined }[] = [];
  let i = 0;
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    calls.push({ url: String(input instanceof Request ? input.url : input), body: typeof init?.body === 'string' ? init.body : undefined });
    const step = steps[Math.min(i++, steps.length - 1)];
    if (step === undefined) throw new Error('script is empty');
    if (step instanceof Error) throw step;
    return step();
  };
  return { fetch, calls };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): () => Response {
  return () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export function apiError(status: number, code: string | null, type: string, message = 'failure', headers: Record<string, string> = {}) {
  return json(status, { error: { message, type, param: null, code } }, headers);
}

export const OK = json(200, { id: 'resp_1', object: 'response', status: 'completed', output: [], usage: { input_tokens: 5, output_tokens: 7, total_tokens: 12 } });

/** A connection reset as undici reports it. */
export function reset(): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
}
