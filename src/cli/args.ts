/**
 * Argument helpers shared by the CLI's commands. Parsing itself is `node:util`'s `parseArgs`; this adds
 * the one number rule every command follows and the error that means "exit 2 with the help".
 */
import { parseDecimal } from '../internal/decimal.ts';

/** The commands that have their own help text (see `commandHelp()` in main.ts). */
export type CommandName = 'explain' | 'codes' | 'mock' | 'demo' | 'doctor';

/** A usage error: the CLI exits 2 with the message and the help of the command it concerns. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly command: CommandName | undefined;
  constructor(message: string, command?: CommandName) {
    super(message);
    this.command = command;
  }
}

/**
 * A number flag: decimal digits only ({@link parseDecimal}), within `[min, max]`. `undefined` when the
 * flag was not given.
 */
export function integerFlag(flag: string, raw: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER, command?: CommandName): number | undefined {
  if (raw === undefined) return undefined;
  const n = parseDecimal(raw);
  if (!(n >= min && n <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${flag} must be a whole decimal number ${range}, got ${JSON.stringify(raw)}`, command);
  }
  return n;
}
