#!/usr/bin/env node
/**
 * The `faultline` command.
 *
 * Argument parsing uses `node:util`'s `parseArgs`: it is built into every supported Node, well kept,
 * and enough for a handful of sub-commands, so the CLI adds no dependency to the package.
 *
 * Exit codes (also in the README):
 *   0  done (explain: the input was recognised as a catalog code)
 *   1  an unexpected internal error
 *   2  usage error (unknown command or option, missing argument)
 *   3  explain: the input was classified as `unknown`
 *   4  demo: a job was lost or a check failed
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CATALOG } from '../catalog.ts';
import { classify } from '../classify.ts';
import { renderCodesText, renderExplanation } from './render.ts';

/** Where the CLI writes; injected in tests. */
export interface CliIO {
  readonly stdout: { write(chunk: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(chunk: string): unknown };
  /** Reads all of standard input (for `explain -`). */
  readonly readStdin: () => Promise<string>;
}

export const EXIT = { ok: 0, internal: 1, usage: 2, unknown: 3, demoFailed: 4 } as const;

const USAGE = `Usage: faultline <command> [options]

Commands:
  explain <code | JSON payload | error message | ->   classify a failure and explain it (- reads stdin)
  codes                                              list the failure catalog
  mock [--port N] [--host H] [--scenario file.json] [--seed N] [--rpm N --tpm N] [--log file.jsonl]
                                                     run the fault-injecting mock OpenAI server
  demo [--json] [--seed N]                           run the demo workload against the embedded mock

Options:
  --json        machine-readable output (explain, codes, demo)
  -h, --help    show this help
`;

class UsageError extends Error {}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const defaultIO: CliIO = { stdout: process.stdout, stderr: process.stderr, readStdin: () => readAll(process.stdin) };

/** Run the CLI with `argv` (without `node` and the script path). Resolves with the exit code. */
export async function main(argv: readonly string[], io: CliIO = defaultIO): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'explain':
        return await explain(rest, io);
      case 'codes':
        return codes(rest, io);
      case 'mock': {
        const { runMockCommand } = await import('../mock/cli.ts');
        return await runMockCommand([...rest], io);
      }
      case 'demo': {
        const { runDemoCommand } = await import('./demo.ts');
        return await runDemoCommand([...rest], io);
      }
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.stdout.write(USAGE);
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || (error as { code?: unknown }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || (error as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      io.stderr.write(`faultline: ${(error as Error).message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    io.stderr.write(`faultline: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
    return EXIT.internal;
  }
}

async function explain(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  if (values.help) {
    io.stdout.write(USAGE);
    return EXIT.ok;
  }
  if (positionals.length === 0) throw new UsageError('explain needs an argument: a code, a JSON payload, an error message, or - for stdin');
  const input = positionals.length === 1 && positionals[0] === '-' ? await io.readStdin() : positionals.join(' ');
  const failure = classify(input);
  if (values.json) io.stdout.write(`${JSON.stringify(failure, null, 2)}\n`);
  else io.stdout.write(renderExplanation(failure));
  return failure.code === 'unknown' ? EXIT.unknown : EXIT.ok;
}

function codes(args: string[], io: CliIO): number {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, allowPositionals: false, strict: true });
  io.stdout.write(values.json ? `${JSON.stringify(CATALOG, null, 2)}\n` : renderCodesText());
  return EXIT.ok;
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`faultline: ${String(error)}\n`);
      process.exitCode = EXIT.internal;
    },
  );
}
