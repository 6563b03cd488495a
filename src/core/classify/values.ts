/**
 * Safe reading of untrusted values. Every read the classifier makes of its input goes through these:
 * a throwing getter or proxy trap reads as `undefined`, never as an exception.
 */

export type Obj = Record<string | symbol, unknown>;

export function isObj(v: unknown): v is Obj {
  return v !== null && (typeof v === 'object' || typeof v === 'function');
}

/** Read a property; a throwing getter or proxy trap reads as undefined. */
export function get(o: unknown, key: string | symbol): unknown {
  if (!isObj(o)) return undefined;
  try {
    return o[key];
  } catch {
    return undefined;
  }
}

/** A non-empty string, or a finite number as text. */
export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length > 0 ? v : undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * An HTTP status: an integer from 100 to 599, or its three digits as a string (Azure sends `"429"` as a
 * code). Anything else (0, 600, 99999, a negative, a fraction) is not a status.
 */
export function httpStatus(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d{3}$/.test(v) ? Number(v) : num(v);
  return n !== undefined && Number.isInteger(n) && n >= 100 && n <= 599 ? n : undefined;
}

/** A status a transport had that HTTP does not allow (1–99, 600 and up); 0 stays "no status" (opaque). */
export function invalidStatus(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && (v < 100 || v > 599) ? v : undefined;
}

const NORMAL_WIRE_VALUE = /^[a-z0-9]+(?:_[a-z0-9]+)*$/;

/** `DeploymentNotFound` → `deployment_not_found`, `Rate-Limit` → `rate_limit`, `API_KEY_INVALID` → `api_key_invalid`. */
export function normalizeWireValue(value: string): string {
  // Most wire values are already normal (`rate_limit_exceeded`): they come back as they are.
  if (NORMAL_WIRE_VALUE.test(value)) return value;
  let s = value.trim();
  if (/[A-Z]/.test(s)) {
    s = s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2');
  }
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

/** Case-insensitive header lookup over Headers, Map, pairs or a plain object. */
export function headerOf(headers: unknown, name: string): string | undefined {
  if (!isObj(headers)) return undefined;
  try {
    // A named load (inside this try) keeps the call site monomorphic for Headers.
    const getter: unknown = (headers as { get?: unknown }).get;
    if (typeof getter === 'function') {
      const v: unknown = getter.call(headers, name);
      return typeof v === 'string' ? v : undefined;
    }
    if (Array.isArray(headers)) {
      for (const pair of headers) {
        if (Array.isArray(pair) && typeof pair[0] === 'string' && pair[0].toLowerCase() === name) return str(pair[1]);
      }
      return undefined;
    }
    const direct = get(headers, name);
    if (direct !== undefined) return Array.isArray(direct) ? str(direct[0]) : str(direct);
    for (const k of Object.keys(headers)) {
      if (k.toLowerCase() === name) {
        const v = get(headers, k);
        return Array.isArray(v) ? str(v[0]) : str(v);
      }
    }
  } catch {
    // hostile header bag
  }
  return undefined;
}
