/**
 * How to make the mock play an account or a server in trouble: the cases a health check such as
 * `faultline doctor` must recognise. Data, so docs/scenario.md renders it and test/mock/recipes.test.ts
 * runs every recipe against the mock and checks the answer it documents.
 */
import type { Rule } from './scenario.ts';

export interface Recipe {
  /** What the mock plays. */
  readonly title: string;
  /** How, in a sentence (what a client sees). */
  readonly how: string;
  /** The `createMock` options (JSON-serialisable ones; `clockOffsetMs` stands for a manual clock). */
  readonly options: {
    readonly apiKeys?: readonly string[];
    readonly modelAccess?: Readonly<Record<string, readonly string[]>>;
    readonly azure?: boolean;
    readonly scenario?: readonly Rule[];
  };
  /** A manual clock this many ms away from real time (`createMock({ clock: createManualClock(Date.now() + offset) })`). */
  readonly clockOffsetMs?: number;
  /** The `faultline mock` flags that play it (besides a scenario file, see `rule`). */
  readonly cli?: string;
  /** A scenario rule that plays it from a file (`faultline mock --scenario FILE`), when `options` are not a scenario. */
  readonly rule?: Rule;
  /** A request that shows it, and what comes back. */
  readonly example: {
    readonly method: 'GET' | 'POST';
    readonly path: string;
    readonly key: string;
    readonly body?: object;
    /** The status; the body's `error.code` (null: none); for `clockOffsetMs`, the `Date` header's offset. */
    readonly status: number;
    readonly code: string | null;
  };
}

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ping' }] };

export const RECIPES: readonly Recipe[] = [
  {
    title: 'A revoked or mistyped API key',
    how: 'With `apiKeys`, any other key gets the real 401 `invalid_api_key` (no key at all gets the real "You didn\'t provide an API key" 401); in a scenario file, a rule on `match.key` with the `invalid_api_key` preset does the same for one key',
    options: { apiKeys: ['key-good'] },
    rule: { match: { key: 'key-revoked' }, fault: { type: 'http', preset: 'invalid_api_key' } },
    example: { method: 'GET', path: '/v1/models', key: 'key-revoked', status: 401, code: 'invalid_api_key' },
  },
  {
    title: 'An account out of quota',
    how: 'The `insufficient_quota` preset (429, never worth a retry), for every key or one `match.key`',
    options: { scenario: [{ id: 'empty-wallet', match: { key: 'key-empty' }, fault: { type: 'http', preset: 'insufficient_quota' } }] },
    example: { method: 'POST', path: '/v1/chat/completions', key: 'key-empty', body: chat, status: 429, code: 'insufficient_quota' },
  },
  {
    title: 'A model one key may not use',
    how: '`modelAccess` lists the models each key may use: `GET /v1/models` lists only those, `GET /v1/models/{id}` and inference on another model get the real 404 `model_not_found`; a scenario rule on `match.key` + `match.path: "/v1/models/gpt-4o"` with the `model_not_found` preset does it for the retrieve alone',
    options: { modelAccess: { 'key-small': ['gpt-4o-mini'] } },
    rule: { match: { key: 'key-small', path: '/v1/models/gpt-4o' }, fault: { type: 'http', preset: 'model_not_found' } },
    example: { method: 'GET', path: '/v1/models/gpt-4o', key: 'key-small', status: 404, code: 'model_not_found' },
  },
  {
    title: 'A slow API',
    how: 'A `delay` fault waits on the mock\'s clock before answering (a client timeout shorter than it sees a timeout)',
    options: { scenario: [{ id: 'slow', match: { path: '/v1/models' }, fault: { type: 'delay', ms: 5_000 } }] },
    example: { method: 'GET', path: '/v1/models', key: 'key-any', status: 200, code: null },
  },
  {
    title: 'A server whose clock is off',
    how: 'Every answer carries a `Date` header from the mock\'s own clock, so a manual clock set away from real time plays a skewed server clock (here ten minutes behind): what a client that checks `Date` against its own clock, or signs webhooks with timestamps, must notice',
    options: {},
    clockOffsetMs: -600_000,
    example: { method: 'GET', path: '/v1/models', key: 'key-any', status: 200, code: null },
  },
  {
    title: 'Azure OpenAI',
    how: '`azure: true` serves Azure paths (`/openai/deployments/{name}/…`, `/openai/v1/…`), Azure error bodies and headers (`apim-request-id`, no `openai-organization`); the `azure_*` presets above are its errors',
    options: { azure: true },
    cli: '--azure',
    example: { method: 'POST', path: '/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21', key: 'key-any', body: { messages: chat.messages }, status: 200, code: null },
  },
];
