/**
 * The one decimal parser of the command lines (`faultline demo`, `faultline mock`, ...): digits only, so
 * `0x1F`, `1e3`, `+5`, `2.0` and blanks — which `Number()` would all take — are refused.
 */

/** `raw` as a safe non-negative integer when it is 1 to 16 decimal digits; `NaN` otherwise. */
export function parseDecimal(raw: string): number {
  const n = /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  return Number.isSafeInteger(n) ? n : Number.NaN;
}
