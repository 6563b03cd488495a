/**
 * What every `faultline` command shares: the IO it writes to, the exit codes, each command's help text
 * (the top-level usage is built from them) and the facts about this install (version, node:sqlite).
 * `main.ts` dispatches; the commands import from here, never from `main.ts`.
 */
import { readFileSync } from 'node:fs';
import type { CommandName } from './args.ts';

/** Where the CLI writes; injected in tests. */
export interface CliIO {
  readonly stdout: { write(chunk: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(chunk: string): unknown };
  /** Reads all of standard input (for `explain -`). */
  readonly readStdin: () => Promise<string>;
}

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


export const USAGE = `Usage: faultline <command> [options]

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

