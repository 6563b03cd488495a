/**
 * Azure OpenAI mode (`createMock({ azure: true })`): Azure's paths mapped onto the OpenAI ones, Azure's
 * headers, and Azure's own wording of a rate-limit 429.
 */
import type { Ctx } from './context.ts';

/**
 * Maps an Azure path (`/openai/deployments/{name}/…`, `/openai/v1/…`, `/openai/…`) onto the OpenAI one
 * in `ctx.path`; returns the deployment name when the path has one. Other paths are left as they are.
 */
export function normaliseAzurePath(ctx: Ctx): string | undefined {
  if (!ctx.path.startsWith('/openai/')) return undefined;
  const dep = /^\/openai\/deployments\/([^/]+)(\/.*)$/.exec(ctx.path);
  if (dep) {
    ctx.path = '/v1' + dep[2]!;
    return decodeURIComponent(dep[1]!);
  }
  ctx.path = ctx.path.startsWith('/openai/v1/') ? ctx.path.slice('/openai'.length) : '/v1' + ctx.path.slice('/openai'.length);
  return undefined;
}

/** Azure's headers in place of OpenAI's `openai-organization`/`openai-version`. */
export function azureHeaders(h: Record<string, string>, requestId: string): void {
  h['apim-request-id'] = requestId.slice(4);
  h['x-ms-region'] = 'East US';
}

/** The body of Azure's 429 for a request (`call`) or token limit. */
export function azureRateLimitBody(reason: 'requests' | 'tokens', retryAfterMs: number): object {
  return {
    error: {
      code: '429',
      message: `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded ${reason === 'requests' ? 'call' : 'token'} rate limit of your current OpenAI S0 pricing tier. Please retry after ${Math.max(1, Math.ceil(retryAfterMs / 1000))} seconds. Please contact Azure support service if you would like to further increase the default rate limit.`,
    },
  };
}
