/**
 * Option checks of `faultline/redis`, in the house format `owner: options.x must be …, got …`.
 * Issue 11 brings one shared set of validators (`src/internal/options.ts`); these few are written to its
 * announced signatures (`durationMs`, `fraction`, `nonEmptyString`, `fn`) so that switching is an import.
 */
function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return typeof value;
}

/** A finite number (or, with `infinity`, `Infinity`) at least `min`; `default` when absent. */
export function numberAtLeast(owner: string, name: string, value: unknown, spec: { default: number; min: number; exclusiveMin?: boolean; infinity?: boolean }): number {
  if (value === undefined) return spec.default;
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`${owner}: options.${name} must be a number, got ${describe(value)}`);
  const okInfinity = spec.infinity === true && value === Infinity;
  if ((!Number.isFinite(value) && !okInfinity) || value < spec.min || (spec.exclusiveMin === true && value === spec.min)) {
    throw new RangeError(`${owner}: options.${name} must be a finite number ${spec.exclusiveMin === true ? '>' : '>='} ${spec.min}, got ${describe(value)}`);
  }
  return value;
}

/** A number in (0, 1]. */
export function share(owner: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`${owner}: options.${name} must be a number, got ${describe(value)}`);
  if (!(value > 0 && value <= 1)) throw new RangeError(`${owner}: options.${name} must be a number in (0, 1], got ${describe(value)}`);
  return value;
}

export function nonEmptyString(owner: string, name: string, value: unknown, opts: { secret?: boolean } = {}): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`${owner}: options.${name} must be a non-empty string, got ${opts.secret === true && typeof value === 'string' ? '[REDACTED]' : describe(value)}`);
  }
  return value;
}

export function fn<F>(owner: string, name: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new TypeError(`${owner}: options.${name} must be a function, got ${describe(value)}`);
  return value as F;
}

export function optionsObject(owner: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) throw new TypeError(`${owner}: options must be an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}
