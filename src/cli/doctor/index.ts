/**
 * `faultline doctor`: a preflight for CI and container start-up. It reads what the `openai` SDK reads
 * (see config.ts), runs the checks in order (environment, credentials, reachability, access, journal)
 * and reports each as a line; every failed check that the API or the transport reported carries its
 * catalog code (from the core `classify()`) and the catalog's one-line fix. Local checks (Node, the
 * journal file) have no catalog code: the catalog names API failures, and the doctor does not invent
 * a mapping. The exit code names the class of the first problem ({@link DOCTOR_EXIT}).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { systemClock } from '../../internal/clock.ts';
import { isAlive } from '../../internal/holder.ts';
import { integerFlag, UsageError } from '../args.ts';
import { commandHelp, hasSqlite, version, type CliIO } from '../commands.ts';
import { resolveCredentials, resolveTarget, urlSecrets } from './config.ts';
import { checkBaseUrl, checkKey } from './credentials.ts';
import { checkNode, checkProxy, checkSdk, checkSqlite, findSdks, proxyFor } from './environment.ts';
import { checkJournal } from './journal.ts';
import { checkAuth, checkClock, checkConnect, checkDns, checkModel, checkProbe, listedIds, listModels } from './network.ts';
import { renderJson, renderTable, useColour, withoutSecrets } from './render.ts';
import { DOCTOR_EXIT, DOCTOR_REPORT_SCHEMA, type CheckResult, type DoctorDeps, type DoctorReport, type DoctorRequest } from './types.ts';

export { DOCTOR_EXIT, DOCTOR_REPORT_SCHEMA } from './types.ts';
export type { CheckResult, DoctorDeps, DoctorReport, DoctorRequest } from './types.ts';

/** The default bound of each HTTP request, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** The real machine. */
export function defaultDeps(): DoctorDeps {
  return {
    env: process.env,
    fetch: (input, init) => globalThis.fetch(input, init),
    clock: systemClock,
    lookup: (host) => dnsLookup(host, { all: true }),
    cwd: process.cwd(),
    nodeVersion: process.version,
    hasSqlite,
    journal: { hostname: hostname(), isAlive },
  };
}

/** Runs every check and returns the report. Never throws for anything the machine or the server does. */
export async function runDoctor(req: DoctorRequest, deps: DoctorDeps): Promise<DoctorReport> {
  const { env } = deps;
  const checks: CheckResult[] = [];
  const sqlite = deps.hasSqlite();
  checks.push(checkNode(deps.nodeVersion), checkSqlite(deps.nodeVersion, sqlite), checkSdk(findSdks(deps.cwd), deps.cwd), checkProxy(env));

  const target = resolveTarget(env, req.baseUrl);
  const creds = resolveCredentials(env, 'error' in target ? { provider: 'openai' } : target);
  const urlCheck = checkBaseUrl(target);
  checks.push(checkKey(creds, target, env), urlCheck);

  if ('error' in target || (urlCheck.status === 'fail' && !target.hadCredentials)) {
    checks.push({ id: 'dns', group: 'reachability', title: 'network', status: 'skip', summary: 'no usable base URL' });
  } else {
    const dns = await checkDns(deps, target, req.timeoutMs, proxyFor(env, new URL(target.base)));
    checks.push(dns);
    if (dns.status !== 'fail') {
      const first = await listModels(deps, target, creds, req.timeoutMs);
      const now = deps.clock.now();
      checks.push(checkConnect(first, target, now), checkClock(first));
      const auth = checkAuth(first, creds, target, now);
      checks.push(auth);
      if (auth.status === 'ok') {
        const listed = first.kind === 'answer' ? listedIds(first.body) : undefined;
        for (const model of req.models) checks.push(await checkModel(deps, target, creds, model, listed, req.timeoutMs));
        const probeModel = req.models[0];
        if (req.probe && probeModel !== undefined) checks.push(...(await checkProbe(deps, target, creds, probeModel, req.timeoutMs)));
      } else if (req.models.length > 0 || req.probe) {
        checks.push({ id: 'model', group: 'access', title: 'models', status: 'skip', summary: 'not checked: the key was not accepted' });
      }
    }
  }

  if (req.journal !== undefined) checks.push(checkJournal(req.journal, { ...deps.journal, hasSqlite: sqlite }, deps.clock.now()));

  const firstFail = checks.find((c) => c.status === 'fail');
  const problem = firstFail?.problem ?? (firstFail !== undefined ? 'environment' : undefined);
  return {
    schema: DOCTOR_REPORT_SCHEMA,
    ok: firstFail === undefined,
    exitCode: problem === undefined ? DOCTOR_EXIT.ok : DOCTOR_EXIT[problem],
    ...(problem !== undefined ? { problem } : {}),
    faultline: version(),
    checks,
  };
}

/** Every secret the output must not contain: the keys, and credentials in any URL the doctor read. */
export function secretsOf(env: Readonly<Record<string, string | undefined>>, baseUrl: string | undefined): string[] {
  const keys = ['OPENAI_API_KEY', 'AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_AD_TOKEN'].map((k) => env[k]).filter((v): v is string => v !== undefined && v.trim().length >= 4);
  const urls = [baseUrl, env['OPENAI_BASE_URL'], env['AZURE_OPENAI_ENDPOINT'], env['HTTPS_PROXY'], env['https_proxy'], env['HTTP_PROXY'], env['http_proxy'], env['ALL_PROXY'], env['all_proxy']];
  return [...keys.flatMap((k) => [k, k.trim()]), ...urls.flatMap(urlSecrets)];
}

/** The exit codes, for `--help`. */
export const EXIT_HELP = `Exit codes:
  0   every check passed (warnings allowed)
  1   internal error
  2   usage error
  5   environment: Node too old, or this machine's clock off by more than 5 minutes
  6   credentials: no key, key rejected (401), or an unusable base URL
  7   reachability: DNS, connection, TLS, timeout, or a server error
  8   access: a --model that is not available, or a 403
  9   quota or rate limit: the --probe request got a 429
  10  journal: the --journal file is missing or unreadable
With several failures, the first failed check (in the order shown) decides.
`;

/** `faultline doctor [options]`. */
export async function runDoctorCommand(args: readonly string[], io: CliIO, deps: DoctorDeps = defaultDeps()): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      'base-url': { type: 'string' },
      model: { type: 'string', multiple: true },
      probe: { type: 'boolean' },
      journal: { type: 'string' },
      json: { type: 'boolean' },
      'timeout-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
    strict: true,
  });
  if (values.help) {
    io.stdout.write(`${commandHelp('doctor')}\n${EXIT_HELP}`);
    return DOCTOR_EXIT.ok;
  }
  const timeoutMs = integerFlag('timeout-ms', values['timeout-ms'], 1, 600_000, 'doctor') ?? DEFAULT_TIMEOUT_MS;
  const models = [...new Set((values.model ?? []).map((m) => m.trim()))];
  if (models.some((m) => m === '')) throw new UsageError('--model must be a non-empty model (or Azure deployment) name', 'doctor');
  if (values.probe === true && models.length === 0) throw new UsageError('--probe needs a --model to send its one request to', 'doctor');
  if (values.journal !== undefined && values.journal === '') throw new UsageError('--journal must be a file path', 'doctor');
  const req: DoctorRequest = {
    models,
    probe: values.probe === true,
    timeoutMs,
    ...(values['base-url'] !== undefined ? { baseUrl: values['base-url'] } : {}),
    ...(values.journal !== undefined ? { journal: values.journal } : {}),
  };
  const report = await runDoctor(req, deps);
  const text = values.json === true ? renderJson(report) : renderTable(report, useColour(io.stdout, deps.env));
  io.stdout.write(withoutSecrets(text, secretsOf(deps.env, req.baseUrl)));
  return report.exitCode;
}
