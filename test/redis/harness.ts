/**
 * Real Redis for the tests. Tests that leave the server alone use `FAULTLINE_REDIS_URL` (which `.ci/run`
 * exports) when it is set, with keys unique to the run so parallel files never meet; otherwise each file
 * starts its own `redis-server` (Debian's, 127.0.0.1, a free port, no persistence files). Tests that kill
 * and restart Redis always start their own (they must not take a shared server down), so they need the
 * binary, which `.ci/run` installs. With neither, the tests skip locally with a message naming
 * FAULTLINE_REDIS_URL, and fail in CI (`CI=true`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export function redisBinary(): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/bin', '/usr/local/bin', '/usr/sbin'];
  for (const d of dirs) {
    const p = join(d, 'redis-server');
    if (d !== '' && existsSync(p)) return p;
  }
  return undefined;
}

const ENV_URL = process.env['FAULTLINE_REDIS_URL'];
const MISSING = 'no redis-server binary and FAULTLINE_REDIS_URL is not set: set FAULTLINE_REDIS_URL=redis://127.0.0.1:6379 (or install redis-server) to run the Redis tests';

/**
 * `false` when Redis tests can run; a skip message otherwise. In CI, a missing Redis throws (the test
 * file fails loudly instead of skipping). `needsBinary`: the tests kill and restart their own server.
 */
export function redisSkip(needsBinary = false): string | false {
  const ok = redisBinary() !== undefined || (!needsBinary && ENV_URL !== undefined);
  if (ok) return false;
  const why = needsBinary ? 'no redis-server binary (these tests kill and restart their own server)' : MISSING;
  if (process.env['CI'] === 'true') throw new Error(`faultline/redis tests cannot reach Redis in CI: ${why}`);
  return why;
}

/** A unique key prefix per test run (so runs sharing FAULTLINE_REDIS_URL never collide). */
export function uniqueKey(name: string): string {
  return `t-${name}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A redis-server process of this test. */
export interface RedisProcess {
  readonly url: string;
  readonly port: number;
  /** Kills it with SIGKILL (no clean shutdown) and waits for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty, as after a crash with no persistence). */
  restart(): Promise<void>;
  /** Stops it and removes its folder. */
  stop(): Promise<void>;
}

async function spawnRedis(bin: string, port: number, dir: string): Promise<ChildProcess> {
  const proc = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--enable-debug-command', 'local', '--loglevel', 'notice'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start in 10 s: ${out}`)), 10_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}): ${out}`));
    });
  });
  proc.stdout!.resume();
  proc.stderr!.resume();
  return proc;
}

/** Starts a private redis-server (requires the binary). */
export async function startRedis(): Promise<RedisProcess> {
  const bin = redisBinary();
  if (bin === undefined) throw new Error(MISSING);
  const dir = mkdtempSync(join(tmpdir(), 'faultline-redis-'));
  const port = await freePort();
  let proc = await spawnRedis(bin, port, dir);
  const killNow = async (signal: NodeJS.Signals): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill(signal);
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => killNow('SIGKILL'),
    restart: async () => {
      await killNow('SIGKILL');
      proc = await spawnRedis(bin, port, dir);
    },
    stop: async () => {
      await killNow('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A Redis URL for tests that do not kill the server: FAULTLINE_REDIS_URL when set (CI's server; keys are
 * unique per run, see {@link uniqueKey}), else a private server of this file.
 */
export async function anyRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (ENV_URL !== undefined) return { url: ENV_URL, stop: async () => {} };
  if (redisBinary() !== undefined) return startRedis();
  throw new Error(MISSING);
}

/** Runs a worker script under this Node with `args`; resolves with its stdout, rejects on a non-zero exit (killed after `timeoutMs`). */
export function runWorker(file: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`worker exited ${code}: ${err}`));
    });
  });
}
