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
import { CATALOG } from '../core/catalog.ts';
import { classify } from '../core/classify/index.ts';
import { UsageError, type CommandName } from './args.ts';
import { EXIT, SQLITE_NODE, USAGE, commandHelp, hasSqlite, version, type CliIO } from './commands.ts';
import { clean, renderCodesText, renderExplanation } from './render.ts';

export { UsageError } from './args.ts';
export { EXIT, SQLITE_NODE, commandHelp, hasSqlite, version, type CliIO } from './commands.ts';

const PARSE_ARGS_CODES = new Set(['ERR_PARSE_ARGS_UNKNOWN_OPTION', 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE', 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL']);

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const defaultIO: CliIO = { stdout: process.stdout, stderr: process.stderr, readStdin: () => readAll(process.stdin) };

/** Run the CLI with `argv` (without `node` and the script path). Resolves with the exit code. */
export async function main(argv: readonly string[], io: CliIO = defaultIO): Promise<number> {
  const [command, ...rest] = argv;
  let current: CommandName | undefined;
  try {
    switch (command) {
      case 'explain':
        current = command;
        return await explain(rest, io);
      case 'codes':
        current = command;
        return codes(rest, io);
      case 'mock': {
        current = command;
        const { runMockCommand } = await import('../mock/cli.ts');
        return await runMockCommand([...rest], io);
      }
      case 'demo': {
        current = command;
        if (wantsHelp(rest)) {
          io.stdout.write(commandHelp('demo'));
          return EXIT.ok;
        }
        if (!hasSqlite()) {
          io.stderr.write(`faultline demo: needs Node >= ${SQLITE_NODE} (its journal uses node:sqlite); this is Node ${process.version}. Run it through npm (the node devDependency brings Node 24), or install Node 22.13 or newer.\n`);
          return EXIT.usage;
        }
        const { runDemoCommand } = await import('./demo.ts');
        return await runDemoCommand([...rest], io);
      }
      case 'doctor': {
        current = command;
        const { runDoctorCommand } = await import('./doctor/index.ts');
        return await runDoctorCommand(rest, io);
      }
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.stdout.write(USAGE);
        return EXIT.ok;
      case '-v':
      case '--version':
        io.stdout.write(`${version()}\n`);
        return EXIT.ok;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(clean(command))}`);
    }
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (error instanceof UsageError || (typeof code === 'string' && PARSE_ARGS_CODES.has(code))) {
      const which = error instanceof UsageError ? (error.command ?? current) : current;
      io.stderr.write(`faultline${which ? ` ${which}` : ''}: ${clean((error as Error).message)}\n\n${which ? commandHelp(which) : USAGE}`);
      return EXIT.usage;
    }
    io.stderr.write(`faultline: internal error: ${clean((error as Error)?.stack ?? String(error))}\n`);
    return EXIT.internal;
  }
}

function wantsHelp(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}

async function explain(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  if (values.help) {
    io.stdout.write(commandHelp('explain'));
    return EXIT.ok;
  }
  if (positionals.length === 0) throw new UsageError('explain needs an argument: a code, a JSON payload, an error message, or - for stdin', 'explain');
  const input = positionals.length === 1 && positionals[0] === '-' ? await io.readStdin() : positionals.join(' ');
  const failure = classify(input);
  if (values.json) io.stdout.write(`${JSON.stringify(failure, null, 2)}\n`);
  else io.stdout.write(renderExplanation(failure));
  return failure.code === 'unknown' ? EXIT.unknown : EXIT.ok;
}

function codes(args: string[], io: CliIO): number {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: false, strict: true });
  if (values.help) {
    io.stdout.write(commandHelp('codes'));
    return EXIT.ok;
  }
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
