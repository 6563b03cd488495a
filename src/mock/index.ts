/**
 * faultline/mock: a fault-injecting mock of the OpenAI API.
 *
 * A fetch handler first (`createMock().fetch`, usable as the `fetch` option of the `openai` SDK), a
 * thin node adapter (`listen()`) for other processes, a clock you can drive (`createManualClock()`),
 * JSON scenarios of faults, per-key RPM/TPM limits, and a ground-truth JSONL log of every attempt.
 *
 * Left out on purpose: the CLI command (`runMockCommand` lives in `faultline/mock`'s `cli.ts` and is
 * wired into the `faultline` bin); webhook signing and verification (they are production code, in
 * `faultline/webhooks`: the mock signs with its own signer); wire helpers such as the Go-style
 * durations of `x-ratelimit-reset-*`; and any dependency. Only the node adapter (`listen()`) and the
 * CLI import `node:` modules: the fetch handler runs on Web APIs alone.
 */
export { createMock } from './handler.ts';
export type { Mock } from './handler.ts';
export { listen } from './node.ts';
export type { ListenOptions, MockServerHandle } from './node.ts';
export { createManualClock, realClock } from './clock.ts';
export type { ManualClock, ManualClockOptions } from './clock.ts';
export type { Clock } from '../internal/clock.ts';
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
export type { ErrorEnvelope } from './wire.ts';
export type { MockCostModel } from './cost.ts';
