/** Shared helpers for the doctor's tests: fake keys built at run time, injected deps, a captured run. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../src/internal/clock.ts';
import { runDoctorCommand, type DoctorDeps } from '../../src/cli/doctor/index.ts';

/** A key-shaped value made at run time (no key-shaped literal in the repository), random per call. */
export function fakeKey(prefix: 'proj' | 'svcacct' | 'legacy' = 'proj'): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  let body = '';
  for (let i = 0; i < 45; i++) body += alphabet[Math.floor(Math.random() * alphabet.length)];
  return prefix === 'legacy' ? ['sk', body].join('-') : ['sk', prefix, body].join('-');
}

/** An Azure-shaped key (32 hex characters), made at run time. */
export function fakeAzureKey(): string {
  let out = '';
  for (let i = 0; i < 32; i++) out += Math.floor(Math.random() * 16).toString(16);
  return out;
}

/** One folder per test process for every folder the tests make, removed when the process exits. */
const ROOT = mkdtempSync(join(tmpdir(), 'faultline-doctor-'));
process.on('exit', () => rmSync(ROOT, { recursive: true, force: true }));

/** An empty folder: no `openai` SDK is found from it (walking up from /tmp finds none either). */
export function emptyDir(): string {
  return mkdtempSync(join(ROOT, 'd-'));
}

/** Deps for a test: nothing read from the real machine unless given. */
export function testDeps(overrides: Partial<DoctorDeps> = {}): DoctorDeps {
  return {
    env: {},
    fetch: (input, init) => globalThis.fetch(input, init),
    clock: systemClock as Clock,
    lookup: async () => [{ address: '127.0.0.1', family: 4 }],
    cwd: emptyDir(),
    nodeVersion: 'v24.0.0',
    hasSqlite: () => true,
    journal: { hostname: 'test-host', isAlive: () => true },
    ...overrides,
  };
}

/** Runs `faultline doctor args` with captured output. */
export async function doctor(args: readonly string[], deps: DoctorDeps, isTTY = false): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runDoctorCommand(args, { stdout: { write: (s: string) => (out += s), isTTY }, stderr: { write: (s: string) => (err += s) }, readStdin: async () => '' }, deps);
  return { code, out, err };
}

/** Runs with `--json` and parses the report. */
export async function doctorJson(args: readonly string[], deps: DoctorDeps): Promise<{ code: number; report: any; out: string }> {
  const r = await doctor(['--json', ...args], deps);
  return { code: r.code, report: JSON.parse(r.out), out: r.out };
}

/** The check with this id (the first, or the one whose title matches). */
export function check(report: any, id: string, title?: string): any {
  const found = report.checks.find((c: any) => c.id === id && (title === undefined || c.title === title));
  if (found === undefined) throw new Error(`no check ${id}${title ? ` (${title})` : ''} in ${JSON.stringify(report.checks.map((c: any) => c.id))}`);
  return found;
}

/** A small independent server written from the wire protocol (node:http), on 127.0.0.1. */
export interface Loopback {
  readonly url: string;
  readonly origin: string;
  readonly requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  close(): Promise<void>;
}

export async function loopback(handler: (req: IncomingMessage & { body: string }, res: ServerResponse) => void, make: (h: (req: IncomingMessage, res: ServerResponse) => void) => Server = (h) => createServer(h), scheme: 'http' | 'https' = 'http'): Promise<Loopback> {
  const requests: Loopback['requests'] = [];
  const server = make((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(Object.assign(req, { body }), res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `${scheme}://127.0.0.1:${port}`;
  return {
    url: `${origin}/v1`,
    origin,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Sends a JSON answer. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The OpenAI error envelope. */
export function envelope(message: string, type: string, code: string | null, param: string | null = null): unknown {
  return { error: { message, type, param, code } };
}
