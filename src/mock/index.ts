/**
 * faultline/mock: a fault-injecting mock of the OpenAI API.
 *
 * A fetch handler first (`createMock().fetch`, usable as the `fetch` option of the `openai` SDK), a
 * thin node adapter (`listen()`) for other processes, a clock you can drive (`createManualClock()`),
 * JSON scenarios of faults, per-key RPM/TPM limits, and a ground-truth JSONL log of every attempt.
 *
 * Left out on purpose: the CLI command (`runMockCommand` lives in `faultline/mock`'s `cli.ts` and is
 * wired into the `faultline` bin), and any dependency: everything here is Node built-ins.
 */
export { createMock } from './server.ts';
export type { Mock } from './server.ts';
export { listen } from './node.ts';
export type { ListenOptions, MockServerHandle } from './node.ts';
export { createManualClock, realClock } from './clock.ts';
export type { ManualClock, MockClock } from './clock.ts';
export { parseScenario } from './scenario.ts';
export type {
  BatchFault,
  DelayFault,
  ExpireFault,
  Fault,
  HttpFault,
  OutcomeFault,
  ResetFault,
  Rule,
  RuleMatch,
  Scenario,
  StreamFault,
  StripHeadersFault,
} from './scenario.ts';
export { AZURE_PRESETS, PRESETS } from './presets.ts';
export type { HttpPreset, PresetName } from './presets.ts';
export type { FetchInit, FetchInput, MockRequest, MockReply } from './http.ts';
export type {
  LogOutcome,
  MockLogEntry,
  MockOptions,
  MockRateLimitOptions,
  MockWebhookOptions,
  RequestLogEntry,
  WebhookLogEntry,
} from './types.ts';
export type { MockCostModel } from './cost.ts';
export { goDuration } from './wire.ts';
export { generateWebhookSecret, signWebhook, verifyWebhook } from '../webhooks/signature.ts';
export type { WebhookHeaders, WebhookRejection, WebhookVerification } from '../webhooks/signature.ts';
