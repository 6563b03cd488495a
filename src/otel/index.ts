/**
 * faultline/otel: OpenTelemetry spans (or span events on the caller's span) and metrics for `createFetch`
 * requests and background waits, with `error.type` set to the stable catalog code on the final outcome only.
 *
 * Needs the optional peer dependency `@opentelemetry/api` (and an SDK the app configures). Importing
 * the root `faultline` never loads this: until {@link instrument} is called, the library's emit sites
 * cost one boolean check.
 *
 * Left out on purpose: auto-registration on import (call `instrument()`), and prompt or completion
 * content (faultline never reads message text into telemetry).
 */
export { instrument } from './instrument.ts';
export type { FaultlineInstrumentation, InstrumentOptions } from './instrument.ts';
export { ATTR, ERROR_TYPES, METRIC, REQUEST_EVENT, RETRY_EVENT, SUCCESS, WAIT_EVENT, WAIT_RETRY_EVENT, WAIT_STATUS_EVENT } from './semconv.ts';
export type { CATALOG, FailureCode } from '../core/catalog.ts';
