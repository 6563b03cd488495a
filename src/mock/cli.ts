/**
 * `faultline mock`: serve the mock over HTTP until interrupted.
 *
 *   faultline mock [--port N] [--host H] [--scenario file.json] [--seed N] [--rpm N] [--tpm N]
 *                  [--burst-window-ms N] [--log file.jsonl] [--max-body-bytes N] [--azure] [--strip-headers]
 *
 * Prints the base URL on the first line of stdout (so scripts can read it), then one status line.
 * Stops on SIGINT/SIGTERM (handlers added for the command's lifetime only) or when `io.signal` aborts.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseDecimal } from '../internal/decimal.ts';
import { assertAppendable, listen } from './node.ts';
import { parseScenario, type Scenario } from './scenario.ts';
import type { MockOptions } from './types.ts';

/** Where the command writes, and an optional signal that stops it (tests). */
export interface MockCommandIO {
  readonly stdout: { write(chunk: string): unknown };
  readonly stderr: { write(chunk: string): unknown };
  /** Aborting it stops the server and resolves the command with 0. @default SIGINT/SIGTERM */
  readonly signal?: AbortSignal;
}

const HELP = `Usage: faultline mock [options]

Runs the fault-injecting mock OpenAI server on 127.0.0.1 and prints its base URL.

Options:
  --port N              TCP port (default: a free one)
  --host H              interface to bind (default: 127.0.0.1; other hosts only when asked)
  --scenario FILE       JSON scenario: { "rules": [...] } (see faultline/mock's Scenario type)
  --seed N              PRNG seed for ids and rule probabilities (default: 1)
  --rpm N               requests per minute per API key (default: unlimited)
  --tpm N               tokens per minute per API key (default: unlimited)
  --burst-window-ms N   how much of a minute may be spent at once, in ms, with --rpm/--tpm (default: 60000)
  --log FILE            append the ground-truth log as JSON lines to FILE (must be writable)
  --max-body-bytes N    largest request body accepted, in bytes; larger ones get 413 (default: 16777216)
  --azure               Azure OpenAI paths, error bodies and headers
  --strip-headers       proxy mode: drop x-ratelimit-*, retry-after(-ms), x-request-id, x-should-retry
  -h, --help            show this help
`;

function integer(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = parseDecimal(raw);
  if (!(n >= min)) throw new RangeError(`--${name} must be an integer >= ${min} (got ${JSON.stringify(raw)})`);
  return n;
}

/**
 * Where a JSON text stops being JSON, as `line L, column C: reason`. V8's JSON.parse messages give a
 * position for some errors and none for others (`Unexpected token ']', ..."x" is not valid JSON`), so the
 * place is found by {@link jsonErrorOffset}, a strict JSON scanner, and the reason kept from V8.
 */
export function jsonErrorPlace(text: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const reason = message.replace(/\s*(?:in JSON )?at position \d+.*$/s, '').replace(/,\s*"[\s\S]*" is not valid JSON$/, '');
  const offset = jsonErrorOffset(text) ?? Number(/at position (\d+)/.exec(message)?.[1] ?? Number.NaN);
  if (!Number.isInteger(offset)) return reason;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `line ${line}, column ${column}: ${reason}`;
}

/** The offset of the first character that makes `text` invalid JSON (RFC 8259), or undefined if valid. */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string): void => {
    for (const ch of word) if (text[i++] !== ch) (i--, fail());
  };
  const string = (): void => {
    i++; // the opening quote
    for (;;) {
      const ch = text[i];
      if (ch === undefined || ch < ' ') fail();
      if (ch === '"') return void i++;
      if (ch === '\\') {
        i++;
        const e = text[i];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else fail();
      } else i++;
    }
  };
  const number = (): void => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail();
    i += (m as RegExpExecArray)[0].length;
  };
  // An explicit stack instead of recursion: a hostile file of 100,000 `[` must not overflow the stack.
  const value = (): void => {
    const stack: Array<'[' | '{'> = [];
    for (;;) {
      ws();
      const ch = text[i];
      if (ch === '{' || ch === '[') {
        i++;
        ws();
        if (text[i] === (ch === '{' ? '}' : ']')) i++;
        else {
          stack.push(ch);
          if (ch === '{') {
            if (text[i] !== '"') fail();
            string();
            ws();
            if (text[i++] !== ':') (i--, fail());
          }
          continue;
        }
      } else if (ch === '"') string();
      else if (ch === 't') literal('true');
      else if (ch === 'f') literal('false');
      else if (ch === 'n') literal('null');
      else if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) number();
      else fail();
      // After a value: close containers or go on to the next element.
      for (;;) {
        const top = stack.at(-1);
        if (top === undefined) return;
        ws();
        const next = text[i];
        if (next === ',') {
          i++;
          if (top === '{') {
            ws();
            if (text[i] !== '"') fail();
            string();
            ws();
            if (text[i++] !== ':') (i--, fail());
          }
          break;
        }
        if (next === (top === '{' ? '}' : ']')) {
          i++;
          stack.pop();
          continue;
        }
        fail();
      }
    }
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return undefined;
  } catch (at) {
    if (typeof at === 'number') return at;
    throw at;
  }
}

/** Runs `faultline mock`. Resolves with the exit code: 0 after a clean stop, 2 for a usage error. */
export async function runMockCommand(argv: string[], io: MockCommandIO): Promise<number> {
  let options: MockOptions;
  let port: number;
  let host: string;
  let logFile: string | undefined;
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        scenario: { type: 'string' },
        seed: { type: 'string' },
        rpm: { type: 'string' },
        tpm: { type: 'string' },
        'burst-window-ms': { type: 'string' },
        log: { type: 'string' },
        'max-body-bytes': { type: 'string' },
        azure: { type: 'boolean' },
        'strip-headers': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    port = integer('port', values.port, 0) ?? 0;
    if (port > 65535) throw new RangeError('--port must be at most 65535');
    host = values.host ?? '127.0.0.1';
    let scenario: Scenario | undefined;
    if (values.scenario !== undefined) {
      let text: string;
      try {
        text = await readFile(values.scenario, 'utf8');
      } catch (err) {
        throw new TypeError(`--scenario: cannot read ${values.scenario} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new TypeError(`--scenario: ${values.scenario} is not valid JSON (${jsonErrorPlace(text, err)})`);
      }
      scenario = parseScenario(json);
    }
    const rpm = integer('rpm', values.rpm, 1);
    const tpm = integer('tpm', values.tpm, 1);
    const burst = integer('burst-window-ms', values['burst-window-ms'], 1);
    if (burst !== undefined && rpm === undefined && tpm === undefined) throw new TypeError('--burst-window-ms shapes the rate limits: give --rpm or --tpm with it');
    const seed = integer('seed', values.seed, 0);
    const maxBodyBytes = integer('max-body-bytes', values['max-body-bytes'], 1);
    // An unwritable log would lose every entry in silence: refuse to start instead.
    if (values.log !== undefined) await assertAppendable(values.log, '--log');
    logFile = values.log;
    options = {
      ...(seed !== undefined ? { seed } : {}),
      ...(scenario ? { scenario } : {}),
      ...(rpm !== undefined || tpm !== undefined
        ? { rateLimit: { ...(rpm !== undefined ? { rpm } : {}), ...(tpm !== undefined ? { tpm } : {}), ...(burst !== undefined ? { burstWindowMs: burst } : {}) } }
        : {}),
      ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
      ...(values.azure ? { azure: true } : {}),
      ...(values['strip-headers'] ? { stripHeaders: true } : {}),
    };
  } catch (err) {
    io.stderr.write(`faultline mock: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }

  let server;
  try {
    server = await listen({ port, host, mock: options, ...(logFile !== undefined ? { logFile } : {}) });
  } catch (err) {
    io.stderr.write(`faultline mock: cannot listen on ${host}:${port}: ${(err as Error).message}\n`);
    return 1;
  }
  io.stdout.write(`${server.url}\n`);
  const limits = options.rateLimit ? ` rpm=${options.rateLimit.rpm ?? '∞'} tpm=${options.rateLimit.tpm ?? '∞'}` : '';
  const rules = options.scenario && 'rules' in options.scenario ? options.scenario.rules.length : 0;
  io.stdout.write(`mock OpenAI server listening (seed=${options.seed ?? 1}, ${rules} rule(s)${limits}); Ctrl-C to stop\n`);

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      io.signal?.removeEventListener('abort', stop);
      resolve();
    };
    if (io.signal) {
      if (io.signal.aborted) return stop();
      io.signal.addEventListener('abort', stop, { once: true });
    } else {
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }
  });
  await server.close();
  return 0;
}
