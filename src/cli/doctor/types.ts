/**
 * The data `faultline doctor` works with: what each check reports, the classes of problem its exit code
 * names, and the I/O every check takes injected (so each one is a function of its inputs, tested without
 * the machine it runs on).
 */
import type { Clock } from '../../internal/clock.ts';
import type { FailureCode } from '../../core/catalog.ts';

/** How one check came out. `warn` never changes the exit code; `fail` always does. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/**
 * The classes of problem, each with its own exit code (see {@link DOCTOR_EXIT}). A failed check names
 * the class of the problem it found, which is not always its group: a 401 seen while testing
 * reachability is a credentials problem.
 */
export type ProblemClass = 'environment' | 'credentials' | 'reachability' | 'access' | 'quota' | 'journal';

/**
 * Exit codes of `faultline doctor` (README and `faultline doctor --help` list them). 0, 1 and 2 mean
 * what they mean for every command; the others follow the CLI's 3 and 4, one per class of problem.
 * With several failures the first failed check decides, in the order the checks run (environment,
 * credentials, reachability, access, quota, journal): the most basic problem first.
 */
export const DOCTOR_EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  environment: 5,
  credentials: 6,
  reachability: 7,
  access: 8,
  quota: 9,
  journal: 10,
} as const satisfies Record<'ok' | 'internal' | 'usage' | ProblemClass, number>;

/** The group a check is shown under. */
export type CheckGroup = 'environment' | 'credentials' | 'reachability' | 'access' | 'journal';

/** One line of the report. Plain data, safe to print: no field ever holds any part of a key. */
export interface CheckResult {
  /** A stable id (`node`, `sqlite`, `openai-sdk`, `proxy`, `api-key`, `base-url`, `dns`, `connect`, `clock`, `auth`, `model`, `probe`, `rate-limits`, `journal`). */
  readonly id: string;
  readonly group: CheckGroup;
  /** What was checked, for the table (`model gpt-4o` for one `--model`). */
  readonly title: string;
  readonly status: CheckStatus;
  /** One line: what was found. */
  readonly summary: string;
  /** For `fail`: the class of the problem (decides the exit code). */
  readonly problem?: ProblemClass;
  /** For a failure the API (or the transport) reported: its catalog code, from `classify()`. */
  readonly code?: FailureCode;
  /** For `fail` and `warn`: the one-line fix. */
  readonly fix?: string;
  /** Figures and raw values for `--json` (status, request id, headers read, counts…). */
  readonly data?: Readonly<Record<string, unknown>>;
}

/** A DNS lookup: every address of `hostname` (as `dns.promises.lookup(host, { all: true })`). */
export type Lookup = (hostname: string) => Promise<readonly { readonly address: string; readonly family: number }[]>;

/** The `fetch` the checks call (the global one by default). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** What a journal check needs from the machine. */
export interface JournalDeps {
  /** This machine's host name (a lease holder is `host:pid:random`). */
  readonly hostname: string;
  /** Whether a process with this id runs on this machine. */
  readonly isAlive: (pid: number) => boolean;
}

/** Everything the checks read from the outside world, injected. */
export interface DoctorDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly fetch: FetchLike;
  readonly clock: Clock;
  readonly lookup: Lookup;
  /** Where the `openai` SDK is looked for (walking up to the root). */
  readonly cwd: string;
  /** `process.version`. */
  readonly nodeVersion: string;
  /** Whether `node:sqlite` loads. */
  readonly hasSqlite: () => boolean;
  readonly journal: JournalDeps;
}

/** What the user asked for (flags, already parsed). */
export interface DoctorRequest {
  /** `--base-url`, overriding `OPENAI_BASE_URL` / `AZURE_OPENAI_ENDPOINT`. */
  readonly baseUrl?: string;
  /** `--model`, repeatable: each must be available (an Azure deployment name on Azure). */
  readonly models: readonly string[];
  /** `--probe`: one minimal request to the first `--model`, for the rate-limit headroom. */
  readonly probe: boolean;
  /** `--journal path`. */
  readonly journal?: string;
  /** `--timeout-ms`: the bound of each HTTP request. */
  readonly timeoutMs: number;
}

/**
 * The version of the `--json` report's shape, {@link DoctorReport.schema}. It goes up by one when a
 * field is removed, renamed or changes meaning; adding a field, a check or a check id does not change
 * it, so a consumer reads the fields it knows and ignores the rest.
 */
export const DOCTOR_REPORT_SCHEMA = 1;

/** The whole report (`--json` prints it). */
export interface DoctorReport {
  /**
   * The version of this shape ({@link DOCTOR_REPORT_SCHEMA}): the first key of the JSON, so a CI step
   * can refuse a shape it does not know (`jq -e '.schema == 1'`). Independent of the faultline version.
   */
  readonly schema: typeof DOCTOR_REPORT_SCHEMA;
  /** True when no check failed. */
  readonly ok: boolean;
  /** The exit code (see {@link DOCTOR_EXIT}). */
  readonly exitCode: number;
  /** The class of the first failure, when one failed. */
  readonly problem?: ProblemClass;
  /** The faultline version that wrote the report. */
  readonly faultline: string;
  readonly checks: readonly CheckResult[];
}
