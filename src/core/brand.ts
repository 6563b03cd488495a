/**
 * The brands: how a faultline error is recognised across every installed copy and version of faultline
 * (two copies of the package have two `FaultlineError` classes, but one `Symbol.for` registry).
 * The one place that owns them: the errors stamp them, `classify()` reads them to pass a faultline error
 * through without importing the classes.
 */

/** Carried by every faultline error (`FaultlineError` and its subclasses, `RetryError` included). */
export const ERROR_BRAND: unique symbol = Symbol.for('faultline.error') as never;

/** Carried by a `RetryError` as well as {@link ERROR_BRAND}, so `RetryError.isInstance()` works across copies. */
export const RETRY_ERROR_BRAND: unique symbol = Symbol.for('faultline.retry-error') as never;

/** Whether `value` carries `brand`; a throwing getter or proxy trap reads as "not branded". */
export function isBranded(value: unknown, brand: symbol): boolean {
  if (typeof value !== 'object' || value === null) return false;
  try {
    return (value as Record<symbol, unknown>)[brand] === true;
  } catch {
    return false;
  }
}

/** Stamps `brand` on `target`: not enumerable, not writable, so it never shows in JSON or a spread. */
export function stampBrand(target: object, brand: symbol): void {
  Object.defineProperty(target, brand, { value: true });
}
