/**
 * Named HTTP faults with the bodies and headers the real services send. A scenario rule says
 * `{ "type": "http", "preset": "insufficient_quota" }` instead of spelling out a body.
 *
 * `expect` is the faultline catalog code each preset must classify to; the mock's tests check it, so a
 * preset and the classifier cannot drift apart silently.
 */
import { errorEnvelope } from './wire.ts';

export interface HttpPreset {
  readonly status: number;
  /** A JSON value (sent as application/json) or a string (sent with `contentType`). */
  readonly body: unknown;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The catalog code faultline classifies this to. */
  readonly expect: string;
}

const CLOUDFLARE_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n';
const CLOUDFLARE_504 =
  '<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n';

/** OpenAI-shaped presets. */
export const PRESETS = {
  insufficient_quota: {
    status: 429,
    body: errorEnvelope(
      'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
      'insufficient_quota',
      'insufficient_quota',
    ),
    expect: 'insufficient_quota',
  },
  billing_not_active: {
    status: 429,
    body: errorEnvelope(
      'Your account is not active, please check your billing details on our website.',
      'billing_not_active',
      'billing_not_active',
    ),
    expect: 'insufficient_quota',
  },
  billing_hard_limit_reached: {
    status: 400,
    body: errorEnvelope('Billing hard limit has been reached', 'invalid_request_error', 'billing_hard_limit_reached'),
    expect: 'insufficient_quota',
  },
  rate_limit_tokens: {
    status: 429,
    body: errorEnvelope(
      'Rate limit reached for gpt-4o-mini in organization org-mock on tokens per min (TPM): Limit 100000, Used 99000, Requested 2000. Please try again in 494ms. Visit https://platform.openai.com/account/rate-limits to learn more.',
      'tokens',
      'rate_limit_exceeded',
    ),
    headers: { 'retry-after': '1', 'retry-after-ms': '494' },
    expect: 'rate_limit_exceeded',
  },
  rate_limit_requests: {
    status: 429,
    body: errorEnvelope(
      'Rate limit reached for gpt-4o-mini in organization org-mock on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms. Visit https://platform.openai.com/account/rate-limits to learn more.',
      'requests',
      'rate_limit_exceeded',
    ),
    headers: { 'retry-after': '1', 'retry-after-ms': '120' },
    expect: 'rate_limit_exceeded',
  },
  request_too_large: {
    status: 429,
    body: errorEnvelope(
      'Request too large for gpt-4o-mini in organization org-mock on tokens per min (TPM): Limit 30000, Requested 31000. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.',
      'tokens',
      'rate_limit_exceeded',
    ),
    expect: 'request_too_large',
  },
  context_length_exceeded: {
    status: 400,
    body: errorEnvelope(
      "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.",
      'invalid_request_error',
      'context_length_exceeded',
      'messages',
    ),
    expect: 'context_length_exceeded',
  },
  invalid_prompt: {
    status: 400,
    body: errorEnvelope(
      'Invalid prompt: your prompt was flagged as potentially violating our usage policy. Please try again with a different prompt: https://platform.openai.com/docs/guides/reasoning#advice-on-prompting',
      'invalid_request_error',
      'invalid_prompt',
    ),
    expect: 'content_policy_violation',
  },
  invalid_api_key: {
    status: 401,
    body: errorEnvelope(
      'Incorrect API key provided: sk-mock***. You can find your API key at https://platform.openai.com/account/api-keys.',
      'invalid_request_error',
      'invalid_api_key',
    ),
    expect: 'authentication_error',
  },
  mismatched_organization: {
    status: 401,
    body: errorEnvelope(
      'OpenAI-Organization header should match organization for API key',
      'invalid_request_error',
      'mismatched_organization',
    ),
    expect: 'authentication_error',
  },
  unsupported_country: {
    status: 403,
    body: errorEnvelope('Country, region, or territory not supported', 'request_forbidden', 'unsupported_country_region_territory'),
    expect: 'permission_denied',
  },
  model_access_denied: {
    status: 403,
    body: errorEnvelope(
      'Project `proj_mock` does not have access to model `gpt-4o`',
      'invalid_request_error',
      'model_not_found',
    ),
    expect: 'model_not_found',
  },
  model_not_found: {
    status: 404,
    body: errorEnvelope(
      'The model `gpt-mock-unknown` does not exist or you do not have access to it.',
      'invalid_request_error',
      'model_not_found',
    ),
    expect: 'model_not_found',
  },
  not_found: {
    status: 404,
    body: errorEnvelope("Response with id 'resp_mock' not found.", 'invalid_request_error'),
    expect: 'not_found',
  },
  conflict: {
    status: 409,
    body: errorEnvelope('Another request is already in progress for this resource.', 'invalid_request_error', 'conflict'),
    expect: 'conflict',
  },
  server_error: {
    status: 500,
    body: errorEnvelope(
      'The server had an error while processing your request. Sorry about that!',
      'server_error',
      'server_error',
    ),
    expect: 'server_error',
  },
  bad_gateway: { status: 502, body: CLOUDFLARE_502, contentType: 'text/html', expect: 'server_error' },
  overloaded: {
    status: 503,
    body: errorEnvelope(
      'That model is currently overloaded with other requests. You can retry your request, or contact us through our help center at help.openai.com if the error persists.',
      'server_error',
      null,
    ),
    expect: 'overloaded',
  },
  slow_down: {
    status: 503,
    body: errorEnvelope(
      'Please reduce your rate of requests to allow the service to scale up.',
      'service_unavailable_error',
      'slow_down',
    ),
    expect: 'overloaded',
  },
  gateway_timeout: { status: 504, body: CLOUDFLARE_504, contentType: 'text/html', expect: 'timeout' },
  cloudflare_timeout: { status: 524, body: 'error code: 524', contentType: 'text/plain', expect: 'timeout' },
} as const satisfies Record<string, HttpPreset>;

/** Azure OpenAI-shaped presets (numeric-string or PascalCase codes, `retry-after` in seconds). */
export const AZURE_PRESETS = {
  azure_rate_limit: {
    status: 429,
    body: {
      error: {
        code: '429',
        message:
          'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current AIServices S0 pricing tier. Please retry after 6 seconds. Please contact Azure support service if you would like to further increase the default rate limit.',
      },
    },
    headers: { 'retry-after': '6' },
    expect: 'rate_limit_exceeded',
  },
  azure_deployment_not_found: {
    status: 404,
    body: {
      error: {
        code: 'DeploymentNotFound',
        message:
          'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
      },
    },
    expect: 'model_not_found',
  },
  azure_unauthorized: {
    status: 401,
    body: {
      error: {
        code: '401',
        message:
          'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
      },
    },
    expect: 'authentication_error',
  },
  azure_content_filter: {
    status: 400,
    body: {
      error: {
        message:
          "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
        type: null,
        param: 'prompt',
        code: 'content_filter',
        status: 400,
        innererror: {
          code: 'ResponsibleAIPolicyViolation',
          content_filter_result: {
            hate: { filtered: false, severity: 'safe' },
            self_harm: { filtered: false, severity: 'safe' },
            sexual: { filtered: false, severity: 'safe' },
            violence: { filtered: true, severity: 'high' },
          },
        },
      },
    },
    expect: 'content_policy_violation',
  },
  azure_server_error: {
    status: 500,
    body: {
      error: {
        code: 'InternalServerError',
        message: 'The service is temporarily unable to process your request. Please try again later.',
      },
    },
    expect: 'server_error',
  },
} as const satisfies Record<string, HttpPreset>;

export type PresetName = keyof typeof PRESETS | keyof typeof AZURE_PRESETS;

export const ALL_PRESETS: Readonly<Record<PresetName, HttpPreset>> = { ...PRESETS, ...AZURE_PRESETS };

export function isPresetName(name: unknown): name is PresetName {
  return typeof name === 'string' && Object.hasOwn(ALL_PRESETS, name);
}
