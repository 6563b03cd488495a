/**
 * Token cost of a request as OpenAI's rate limiter counts it at admission: the prompt's characters / 4
 * (OpenAI's documented rule of thumb; no tokenizer, no dependency) plus the output it may produce
 * (`max_output_tokens` / `max_completion_tokens` / `max_tokens`, times `n`). When no output cap is set
 * the server charges what was actually produced, so the estimate uses the output seen so far and
 * {@link actualCost} corrects it from `usage` once the answer arrives.
 * @see https://platform.openai.com/docs/guides/rate-limits
 */

/** What the request body says about its cost. */
export interface CostEstimate {
  /** Estimated prompt tokens. */
  readonly promptTokens: number;
  /** The output cap from the body (times `n`), if one was set. */
  readonly maxOutputTokens: number | undefined;
  /** The tokens to charge before sending. */
  readonly tokens: number;
  /** The `model` field, if any. */
  readonly model: string | undefined;
  /** Whether the body asks for `stream: true`. */
  readonly stream: boolean;
}

// Structural keys whose strings the service does not count as prompt text.
const SKIP = new Set(['type', 'role', 'id']);

function promptChars(v: unknown, depth: number): number {
  if (depth > 32) return 0;
  if (typeof v === 'string') return v.length;
  if (Array.isArray(v)) {
    let n = 0;
    for (const x of v) n += promptChars(x, depth + 1);
    return n;
  }
  if (v !== null && typeof v === 'object') {
    // Object.keys, not Object.entries: one array per object instead of one more per key (every request).
    const o = v as Record<string, unknown>;
    let n = 0;
    for (const k of Object.keys(o)) if (!SKIP.has(k)) n += promptChars(o[k], depth + 1);
    return n;
  }
  return 0;
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/**
 * Estimates the cost of a parsed JSON request body. `expectedOutputTokens` stands in for the output
 * when the body sets no cap.
 */
export function estimateCost(body: unknown, expectedOutputTokens: number): CostEstimate {
  const b = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const chars = promptChars(b['messages'], 0) + promptChars(b['input'], 0) + promptChars(b['instructions'], 0) + promptChars(b['prompt'], 0);
  const promptTokens = Math.ceil(chars / 4);
  const cap = positiveInt(b['max_output_tokens']) ?? positiveInt(b['max_completion_tokens']) ?? positiveInt(b['max_tokens']);
  const n = positiveInt(b['n']) ?? 1;
  const maxOutputTokens = cap === undefined ? undefined : cap * Math.max(1, n);
  const tokens = promptTokens + (maxOutputTokens ?? Math.max(0, expectedOutputTokens) * Math.max(1, n));
  const model = typeof b['model'] === 'string' ? b['model'] : undefined;
  return { promptTokens, maxOutputTokens, tokens, model, stream: b['stream'] === true };
}

/** `usage` of a Responses API object or a chat completion, normalised. */
export interface UsageTokens {
  readonly input: number;
  readonly output: number;
}

/** Reads `usage` (`input_tokens`/`output_tokens` or `prompt_tokens`/`completion_tokens`), if present. */
export function readUsage(json: unknown): UsageTokens | undefined {
  if (json === null || typeof json !== 'object') return undefined;
  const u = (json as { usage?: unknown }).usage;
  if (u === null || typeof u !== 'object') return undefined;
  const r = u as Record<string, unknown>;
  const input = positiveInt(r['input_tokens']) ?? positiveInt(r['prompt_tokens']);
  const output = positiveInt(r['output_tokens']) ?? positiveInt(r['completion_tokens']);
  if (input === undefined || output === undefined) return undefined;
  return { input, output };
}

/**
 * The cost the service charged at admission, reconstructed from `usage`: the prompt plus the output
 * cap when one was set (the cap is reserved whatever is produced), otherwise the output produced.
 */
export function actualCost(estimate: CostEstimate, usage: UsageTokens): number {
  return usage.input + (estimate.maxOutputTokens ?? usage.output);
}
