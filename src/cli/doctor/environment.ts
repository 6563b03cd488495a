/**
 * Environment checks: the Node version, `node:sqlite`, the installed `openai` SDK(s) and the proxy
 * variables. Local facts only: a failure here has no catalog code (the catalog names API failures).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { shownUrl } from './config.ts';
import type { CheckResult } from './types.ts';

/** The oldest Node faultline supports (`engines` in package.json): `node:sqlite` is unflagged from it. */
export const MIN_NODE = '22.13';

/**
 * The `openai` majors faultline supports: the ones its test suite runs against (the `openai-v4` …
 * `openai-v7` devDependencies; test/doctor/environment.test.ts fails if the two lists part).
 */
export const SUPPORTED_SDK_MAJORS: readonly number[] = [4, 5, 6, 7];

function parts(version: string): [number, number, number] {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  return m === null ? [0, 0, 0] : [Number(m[1]), Number(m[2]), Number(m[3])];
}

function atLeast(version: string, min: string): boolean {
  const [a, b, c] = parts(version);
  const [x, y, z] = parts(`${min}.0`);
  return a !== x ? a > x : b !== y ? b > y : c >= z;
}

export function checkNode(nodeVersion: string): CheckResult {
  const ok = atLeast(nodeVersion, MIN_NODE);
  return {
    id: 'node',
    group: 'environment',
    title: 'Node',
    status: ok ? 'ok' : 'fail',
    summary: ok ? `${nodeVersion} (faultline needs >= ${MIN_NODE})` : `${nodeVersion} is older than faultline supports (>= ${MIN_NODE})`,
    ...(ok ? {} : { problem: 'environment' as const, fix: `Install Node ${MIN_NODE} or newer (an LTS: 22 or 24).` }),
    data: { version: nodeVersion, required: `>=${MIN_NODE}` },
  };
}

/**
 * `node:sqlite`, which the journal needs. Missing, it is a warning here (only `--journal` and
 * `faultline/journal` need it) with the fix for this exact Node.
 */
export function checkSqlite(nodeVersion: string, hasSqlite: boolean): CheckResult {
  const base = { id: 'sqlite', group: 'environment' as const, title: 'node:sqlite' };
  if (hasSqlite) return { ...base, status: 'ok', summary: 'available (the journal can run)', data: { available: true } };
  let fix: string;
  if (!atLeast(nodeVersion, '22.5')) fix = `node:sqlite does not exist before Node 22.5: install Node ${MIN_NODE} or newer.`;
  else if (!atLeast(nodeVersion, MIN_NODE)) fix = `On Node ${nodeVersion} node:sqlite is behind a flag: run with NODE_OPTIONS=--experimental-sqlite, or install Node ${MIN_NODE} or newer.`;
  else fix = 'This Node was built without SQLite (--without-sqlite): use an official Node build from nodejs.org.';
  return { ...base, status: 'warn', summary: 'not available: faultline/journal and --journal cannot work', fix, data: { available: false } };
}

/** One installed copy of the SDK. */
export interface SdkCopy {
  readonly dir: string;
  /** The name it is installed under (`openai`, or an alias such as `openai-v4`). */
  readonly name: string;
  readonly version: string;
  readonly supported: boolean;
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every `openai` SDK that `import 'openai'` (or an `npm:openai@…` alias in a package.json) would find
 * from `cwd`, walking up to the root like Node's resolution does.
 */
export function findSdks(cwd: string): SdkCopy[] {
  const found: SdkCopy[] = [];
  const seen = new Set<string>();
  const add = (dir: string, name: string): void => {
    const pkgPath = join(dir, 'node_modules', name, 'package.json');
    if (seen.has(pkgPath)) return;
    seen.add(pkgPath);
    const pkg = readJson(pkgPath);
    if (pkg?.['name'] !== 'openai' || typeof pkg['version'] !== 'string') return;
    const version = pkg['version'];
    found.push({ dir, name, version, supported: SUPPORTED_SDK_MAJORS.includes(parts(version)[0]) });
  };
  for (let dir = cwd, depth = 0; depth < 64; depth++) {
    add(dir, 'openai');
    const manifest = readJson(join(dir, 'package.json'));
    for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
      const deps = manifest?.[field];
      if (typeof deps !== 'object' || deps === null) continue;
      for (const [name, spec] of Object.entries(deps)) if (typeof spec === 'string' && spec.startsWith('npm:openai@') && !name.includes('..')) add(dir, name);
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return found;
}

export function checkSdk(copies: readonly SdkCopy[], cwd: string): CheckResult {
  const base = { id: 'openai-sdk', group: 'environment' as const, title: 'openai SDK' };
  const supported = `faultline supports openai ${SUPPORTED_SDK_MAJORS[0]}–${SUPPORTED_SDK_MAJORS[SUPPORTED_SDK_MAJORS.length - 1]}`;
  const data = { copies: copies.map((c) => ({ name: c.name, version: c.version, dir: c.dir, supported: c.supported })), supportedMajors: SUPPORTED_SDK_MAJORS };
  if (copies.length === 0) return { ...base, status: 'skip', summary: `none found from ${cwd} (faultline works with any fetch; ${supported})`, data };
  const list = copies.map((c) => `${c.name === 'openai' ? '' : `${c.name}=`}${c.version}${c.supported ? '' : ' (unsupported)'}`).join(', ');
  const bad = copies.filter((c) => !c.supported);
  if (bad.length === 0) return { ...base, status: 'ok', summary: `${list} (${supported})`, data };
  return { ...base, status: 'warn', summary: `${list}: ${supported}`, fix: `Install a supported SDK: npm install openai@${SUPPORTED_SDK_MAJORS[SUPPORTED_SDK_MAJORS.length - 1]}`, data };
}

const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy'] as const;
const NO_PROXY_VARS = ['NO_PROXY', 'no_proxy'] as const;

/**
 * The proxy variables, shown without credentials. Node's `fetch` (and so the `openai` SDK from v5, and
 * this command) honours them only with `NODE_USE_ENV_PROXY=1` or `--use-env-proxy` (Node 24 / 22.21);
 * set without it, they are ignored, which is worth a warning: what works in a shell with curl may not
 * work in Node.
 * @see https://nodejs.org/api/cli.html#node_use_env_proxy1
 */
function proxyInEffect(env: Readonly<Record<string, string | undefined>>): boolean {
  return env['NODE_USE_ENV_PROXY'] === '1' || /(?:^|\s)--use-env-proxy(?:\s|$)/.test(env['NODE_OPTIONS'] ?? '');
}

/**
 * The proxy Node's `fetch` sends a request for `url` through, as shown (no credentials), or undefined
 * for a direct connection: proxies in effect, the scheme's variable, and `NO_PROXY` (`*`, host names,
 * `.suffix` or `suffix` domains, `host:port`).
 */
export function proxyFor(env: Readonly<Record<string, string | undefined>>, url: URL): string | undefined {
  if (!proxyInEffect(env)) return undefined;
  const names = url.protocol === 'https:' ? (['HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy'] as const) : (['HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy'] as const);
  const proxy = names.map((n) => env[n]).find((v) => v !== undefined && v !== '');
  if (proxy === undefined) return undefined;
  const host = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const noProxy = (NO_PROXY_VARS.map((v) => env[v]).find((v) => v !== undefined && v !== '') ?? '').split(/[\s,]+/).filter((e) => e !== '');
  for (const entry of noProxy.map((e) => e.toLowerCase())) {
    if (entry === '*') return undefined;
    const [name = '', entryPort] = entry.split(/:(?=\d+$)/);
    if (entryPort !== undefined && entryPort !== port) continue;
    const domain = name.replace(/^\*?\./, '');
    if (host === domain || host.endsWith(`.${domain}`)) return undefined;
  }
  return shownUrl(proxy);
}

export function checkProxy(env: Readonly<Record<string, string | undefined>>): CheckResult {
  const base = { id: 'proxy', group: 'environment' as const, title: 'proxy' };
  const set = PROXY_VARS.filter((v) => (env[v] ?? '') !== '');
  const noProxy = NO_PROXY_VARS.map((v) => env[v]).find((v) => v !== undefined && v !== '');
  const inEffect = proxyInEffect(env);
  const proxies = set.map((v) => `${v}=${shownUrl(env[v] as string)}`);
  const data = { variables: Object.fromEntries(set.map((v) => [v, shownUrl(env[v] as string)])), noProxy: noProxy ?? null, inEffect };
  if (set.length === 0) return { ...base, status: 'ok', summary: 'none set (direct connection)', data };
  const tail = noProxy !== undefined ? `; NO_PROXY=${noProxy}` : '';
  if (inEffect) return { ...base, status: 'ok', summary: `${proxies.join(', ')}${tail} (in effect: NODE_USE_ENV_PROXY)`, data };
  return {
    ...base,
    status: 'warn',
    summary: `${proxies.join(', ')}${tail}: set, but Node's fetch ignores them`,
    fix: 'Set NODE_USE_ENV_PROXY=1 (Node 24 / 22.21+) so fetch and the openai SDK use the proxy, or pass a proxy agent to the SDK.',
    data,
  };
}
