/**
 * The clock contract now lives in `src/internal/clock.ts` (shared by retry, background, journal and the
 * mock); this module re-exports it so existing imports keep working.
 */
export { resolveClock, systemClock } from '../internal/clock.ts';
export type { Clock } from '../internal/clock.ts';
