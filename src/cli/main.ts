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
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CATALOG } from '../core/catalog.ts';
import { classify } from '../core/classify/index.ts';
import { UsageError, type CommandName } from './args.ts';
import { clean, renderCodesText, renderExplanation } from './render.ts';

/** Where the CLI writes; injected in tests. */
export interface CliIO {
  readonly stdout: { write(chunk: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(chunk: string): unknown };
  /** Reads all of standard input (for `explain -`). */
  readonly readStdin: () => Promise<string>;
}

export { UsageError } from './args.ts';

export const EXIT = { ok: 0, internal: 1, usage: 2, unknown: 3, demoFailed: 4 } as const;

/** The oldest Node whose `node:sqlite` works unflagged (the journal, and so `demo`, need it). */
export const SQLITE_NODE = '22.13';

/**
 * One help text per command; the top-level usage is built from them, so it lists every command and
 * flag that exists. The mock's own help lives beside its parser (src/mock/cli.ts) and is shown there.
 */
const COMMANDS: Readonly<Record<CommandName, { readonly synopsis: string; readonly summary: string; readonly options: readonly string[] }>> = {
  explain: {
    synopsis: 'explain [--json] <code | JSON payload | error message | ->',
    summary: 'classify a failure and explain it (- reads standard input)',
    options: ['--json        print the classified Failure as JSON'],
  },
  codes: {
    synopsis: 'codes [--json]',
    summary: 'list the failure catalog',
    options: ['--json        print the catalog as JSON'],
  },
  mock: {
    synopsis: 'mock [--port N] [--host H] [--scenario FILE] [--seed N] [--rpm N] [--tpm N] [--burst-window-ms N] [--max-body-bytes N] [--log FILE] [--azure] [--strip-headers]',
    summary: 'run the fault-injecting mock OpenAI server (faultline mock --help for each flag)',
    options: [],
  },
  demo: {
    synopsis: 'demo [--json] [--seed N] [--requests N] [--jobs N] [--concurrency N]',
    summary: `run the demo workload against the embedded mock (needs Node >= ${SQLITE_NODE})`,
    options: [
      '--json            print the report as JSON',
      '--seed N          seed of the mock\'s faults and ids (default 7)',
      '--requests N      chat completion requests (default 400)',
      '--jobs N          background responses (default 40)',
      '--concurrency N   requests in flight at once, >= 1 (default 24)',
    ],
  },
  doctor: {
    synopsis: 'doctor [--json] [--base-url URL] [--model NAME]... [--probe] [--journal FILE] [--timeout-ms N]',
    summary: 'check the environment, key, network, models and journal before CI depends on them (exit codes in doctor --help)',
    options: [
      '--json            print the report as JSON',
      '--base-url URL    the API base (default OPENAI_BASE_URL, AZURE_OPENAI_ENDPOINT, then api.openai.com)',
      '--model NAME      a model (an Azure deployment) that must be available; repeatable',
      '--probe           send one minimal request to the first --model and report the rate-limit headroom',
      '--journal FILE    check a faultline journal (opened read-only)',
      '--timeout-ms N    bound of each HTTP request (default 10000)',
    ],
  },
} as const;


const USAGE = `Usage: faultline <command> [options]

Commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.synopsis}\n      ${c.summary}`)
  .join('\n')}

Options:
  -h, --help      show this help (also: faultline <command> --help)
  -v, --version   print faultline's version

Exit codes: 0 done, 1 internal error, 2 usage error, 3 explain: unknown, 4 demo: a job was lost
`;

/** The help text of one command. */
export function commandHelp(name: CommandName): string {
  const c = COMMANDS[name];
  const rows = [...c.options, '-h, --help  show this help'].map((o) => /^(\S+(?: \S+)?)\s{2,}(.*)$/.exec(o) ?? [o, o, '']);
  const width = Math.max(...rows.map((r) => (r[1] ?? '').length));
  const options = rows.map((r) => `  ${(r[1] ?? '').padEnd(width)}  ${r[2] ?? ''}`);
  return `Usage: faultline ${c.synopsis}\n\n${c.summary[0]?.toUpperCase()}${c.summary.slice(1)}.\n\nOptions:\n${options.join('\n')}\n`;
}

const PARSE_ARGS_CODES = new Set(['ERR_PARSE_ARGS_UNKNOWN_OPTION', 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE', 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL']);

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const defaultIO: CliIO = { stdout: process.stdout, stderr: process.stderr, readStdin: () => readAll(process.stdin) };

/** faultline's version, read from its package.json (two levels up from src/cli or dist/cli). */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Whether this Node has `node:sqlite` (Node >= 22.13 unflagged; Node 20 has none). */
export function hasSqlite(): boolean {
  try {
    return process.getBuiltinModule?.('node:sqlite') !== undefined;
  } catch {
    return false;
  }
}

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
