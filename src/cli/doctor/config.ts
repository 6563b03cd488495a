/**
 * Which server `faultline doctor` talks to and with which key, read the way the `openai` SDK reads
 * them: `OPENAI_BASE_URL` (else `https://api.openai.com/v1`), `OPENAI_API_KEY`, `OPENAI_ORG_ID`,
 * `OPENAI_PROJECT_ID`; for `AzureOpenAI`, `AZURE_OPENAI_ENDPOINT` (its base is `${endpoint}/openai`),
 * `AZURE_OPENAI_API_KEY` and `OPENAI_API_VERSION`. `--base-url` overrides the environment.
 *
 * Nothing here keeps any part of a key in what it returns for display: the key is kept only in
 * {@link Target.headers}, which is sent and never printed.
 */

/** Who serves the base URL. */
export type Provider = 'openai' | 'azure' | 'other';

/** The server to check, resolved from the flags and the environment. */
export interface Target {
  readonly provider: Provider;
  /** The API base the SDK would call, without credentials, query or trailing slash. */
  readonly base: string;
  /** The base as shown (the same string; credentials in the URL are never part of it). */
  readonly shown: string;
  /** Where the base came from. */
  readonly source: '--base-url' | 'OPENAI_BASE_URL' | 'AZURE_OPENAI_ENDPOINT' | 'default';
  /** True when the URL carried `user:password@` (removed from {@link base}; the SDK's fetch refuses such a URL). */
  readonly hadCredentials: boolean;
  /** Azure's classic data-plane API takes `?api-version=`; the `/openai/v1` API does not. */
  readonly azureApiVersion?: string;
  /** Azure `/openai/v1` (OpenAI-shaped paths, `model` = deployment name). */
  readonly azureV1: boolean;
}

/** A base URL that cannot be used, and why. */
export interface BadTarget {
  readonly error: string;
  readonly source: Target['source'];
}

const DEFAULT_BASE = 'https://api.openai.com/v1';

/** Azure OpenAI / Azure AI Foundry hosts. */
const AZURE_HOST = /\.(?:openai\.azure\.com|cognitiveservices\.azure\.com|services\.ai\.azure\.com)$/i;

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value.trim() : undefined;
}

/** The base URL to check, or why it cannot be used. Never throws. */
export function resolveTarget(env: Readonly<Record<string, string | undefined>>, baseUrl: string | undefined): Target | BadTarget {
  let raw = nonEmpty(baseUrl);
  let source: Target['source'] = '--base-url';
  if (raw === undefined && (raw = nonEmpty(env['OPENAI_BASE_URL'])) !== undefined) source = 'OPENAI_BASE_URL';
  if (raw === undefined && (raw = nonEmpty(env['AZURE_OPENAI_ENDPOINT'])) !== undefined) source = 'AZURE_OPENAI_ENDPOINT';
  if (raw === undefined) {
    raw = DEFAULT_BASE;
    source = 'default';
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The text itself is not shown: a mistyped URL may hold a key pasted into it.
    return { error: `${source} is not a URL`, source };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { error: `${source} must be an http: or https: URL, got ${url.protocol}`, source };
  const hadCredentials = url.username !== '' || url.password !== '';
  const queryVersion = url.searchParams.get('api-version') ?? undefined;
  const azure = AZURE_HOST.test(url.hostname) || source === 'AZURE_OPENAI_ENDPOINT';
  let path = url.pathname.replace(/\/+$/, '');
  let azureV1 = false;
  if (azure) {
    if (/\/openai\/v1$/.test(path)) azureV1 = true;
    else if (!/\/openai$/.test(path)) path = `${path.replace(/\/openai\/deployments\/[^/]+.*$/, '')}/openai`;
  }
  const base = `${url.protocol}//${url.host}${path}`;
  const provider: Provider = azure ? 'azure' : url.hostname === 'api.openai.com' ? 'openai' : 'other';
  const apiVersion = azure && !azureV1 ? (nonEmpty(env['OPENAI_API_VERSION']) ?? queryVersion) : undefined;
  return { provider, base, shown: base, source, hadCredentials, azureV1, ...(apiVersion !== undefined ? { azureApiVersion: apiVersion } : {}) };
}

/** The kind of a key, read from its shape. Never any character of the key itself. */
export type KeyKind = 'project' | 'service_account' | 'admin' | 'legacy' | 'azure' | 'other';

/** What is known about the key, for display. */
export interface KeyInfo {
  /** The variable the key came from, or undefined when none is set. */
  readonly source?: 'AZURE_OPENAI_API_KEY' | 'OPENAI_API_KEY';
  readonly kind?: KeyKind;
  /** The key has white space or quotes around it (a frequent cause of 401s in CI secrets). */
  readonly padded: boolean;
}

/** A key and what the display may say of it. */
export interface Credentials {
  readonly info: KeyInfo;
  /** The headers that authenticate (sent, never printed). */
  readonly headers: Readonly<Record<string, string>>;
  /** Every secret value the output must never contain (the key, passwords in URLs). */
  readonly secrets: readonly string[];
}

export const KEY_KIND_TEXT: Readonly<Record<KeyKind, string>> = {
  project: 'project key (sk-proj-…)',
  service_account: 'service account key (sk-svcacct-…)',
  admin: 'admin key (sk-admin-…): for the Admin API only, it cannot call models',
  legacy: 'legacy user key (sk-…)',
  azure: 'Azure OpenAI key',
  other: 'not an OpenAI key shape',
};

function kindOf(key: string, provider: Provider): KeyKind {
  if (key.startsWith('sk-proj-')) return 'project';
  if (key.startsWith('sk-svcacct-')) return 'service_account';
  if (key.startsWith('sk-admin-')) return 'admin';
  if (key.startsWith('sk-')) return 'legacy';
  return provider === 'azure' ? 'azure' : 'other';
}

/** The key the SDK would send to `target`, its kind, and the headers that carry it. */
export function resolveCredentials(env: Readonly<Record<string, string | undefined>>, target: Pick<Target, 'provider'>): Credentials {
  const azure = target.provider === 'azure';
  const source = azure && nonEmpty(env['AZURE_OPENAI_API_KEY']) !== undefined ? 'AZURE_OPENAI_API_KEY' : nonEmpty(env['OPENAI_API_KEY']) !== undefined ? 'OPENAI_API_KEY' : undefined;
  if (source === undefined) return { info: { padded: false }, headers: {}, secrets: [] };
  const raw = env[source] as string;
  const secrets = [raw];
  // The SDK sends the value as it is; a quoted or padded secret is what CI stores get wrong most.
  const padded = raw !== raw.trim() || /^["'].*["']$/.test(raw.trim());
  const key = raw.trim().replace(/^["']|["']$/g, '');
  secrets.push(key);
  const headers: Record<string, string> = azure ? { 'api-key': raw } : { authorization: `Bearer ${raw}` };
  const org = nonEmpty(env['OPENAI_ORG_ID']);
  const project = nonEmpty(env['OPENAI_PROJECT_ID']);
  if (!azure && org !== undefined) headers['openai-organization'] = org;
  if (!azure && project !== undefined) headers['openai-project'] = project;
  return { info: { source, kind: kindOf(key, target.provider), padded }, headers, secrets };
}

/** A URL as it may be shown: scheme, host and path, never `user:password@` or the query. */
export function shownUrl(text: string): string {
  try {
    const u = new URL(text);
    const hidden = u.username !== '' || u.password !== '' ? ' (credentials hidden)' : '';
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}${hidden}`;
  } catch {
    return 'set, but not a URL';
  }
}

/**
 * The password in a URL, for the output's last check (a user name is not a secret, and a short one
 * would cut ordinary words out of the output).
 */
export function urlSecrets(text: string | undefined): string[] {
  if (text === undefined) return [];
  try {
    const u = new URL(text);
    const password = ((): string => {
      try {
        return decodeURIComponent(u.password);
      } catch {
        return u.password;
      }
    })();
    return [u.password, password].filter((s) => s.length >= 4);
  } catch {
    return [];
  }
}
