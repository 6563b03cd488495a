/**
 * What the mock's rate limiter charges a request at admission, when `rateLimit.cost` asks for a model of
 * its own. By default the mock charges prompt characters / 4 plus the output cap, the rule of thumb a
 * client estimator also uses, so a pacing benchmark could never see an estimation error. A real
 * server's charge differs from any client's estimate; this model makes it differ on purpose, in the ways
 * real ones do: a fixed overhead per message (role and separators), another characters-per-token ratio
 * (tokenizers vary by language and model), a scale on the whole charge, and seeded noise.
 *
 * Its own walk over the body: it shares no code or table with the client estimator it is there to test.
 */
import { createPrng, type Prng } from './prng.ts';

/** The charge model of `rateLimit.cost`. Every field is optional. */
export interface MockCostModel {
  /** Prompt characters per token. @default 4 */
  readonly charsPerToken?: number;
  /** Tokens added for each entry of `messages` / `input` (role, separators). @default 0 */
  readonly perMessageTokens?: number;
  /** A factor on the whole charge (1.15: 15 % more than the formula). @default 1 */
  readonly scale?: number;
  /** Relative noise: each charge is multiplied by a seeded draw in [1 − noise, 1 + noise]. @default 0 */
  readonly noise?: number;
  /** Seed of the noise. @default 1 */
  readonly seed?: number;
}

function textChars(v: unknown, depth: number): number {
  if (depth > 32) return 0;
  if (typeof v === 'string') return v.length;
  let n = 0;
  if (Array.isArray(v)) for (const x of v) n += textChars(x, depth + 1);
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (k !== 'type' && k !== 'role' && k !== 'id') n += textChars(x, depth + 1);
  return n;
}

function check(name: string, v: number | undefined, min: number, max: number): void {
  if (v !== undefined && !(typeof v === 'number' && v >= min && v <= max)) throw new RangeError(`createMock: options.rateLimit.cost.${name} must be a number in [${min}, ${max}], got ${String(v)}`);
}

/** What one request is charged at admission, given its body and its output cap (or the reply's tokens). */
export type Charge = (body: Record<string, unknown>, outputTokens: number) => number;

/** A charge function for one mock (the noise draws from its own seeded stream). */
export function costModel(model: MockCostModel): Charge {
  check('charsPerToken', model.charsPerToken, 0.1, 100);
  check('perMessageTokens', model.perMessageTokens, 0, 1000);
  check('scale', model.scale, 0.01, 100);
  check('noise', model.noise, 0, 0.9);
  const cpt = model.charsPerToken ?? 4;
  const perMessage = model.perMessageTokens ?? 0;
  const scale = model.scale ?? 1;
  const noise = model.noise ?? 0;
  const rng: Prng = createPrng(model.seed ?? 1);
  return (body, outputTokens) => {
    const messages = [body['messages'], body['input']].reduce<number>((n, m) => n + (Array.isArray(m) ? m.length : typeof m === 'string' ? 1 : 0), 0);
    const chars = textChars(body['messages'], 0) + textChars(body['input'], 0) + textChars(body['instructions'], 0);
    const raw = (Math.ceil(chars / cpt) + perMessage * messages + outputTokens) * scale;
    const factor = noise > 0 ? 1 - noise + 2 * noise * rng.next() : 1;
    return Math.max(0, Math.round(raw * factor));
  };
}
