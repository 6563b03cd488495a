/** Credentials checks: the base URL's kind and the key's kind. Never any character of the key. */
import { KEY_KIND_TEXT, type BadTarget, type Credentials, type Target } from './config.ts';
import type { CheckResult } from './types.ts';

const PROVIDER_TEXT = { openai: 'OpenAI', azure: 'Azure OpenAI', other: 'another provider (OpenAI-compatible)' } as const;

export function checkBaseUrl(target: Target | BadTarget): CheckResult {
  const base = { id: 'base-url', group: 'credentials' as const, title: 'base URL' };
  if ('error' in target) {
    return { ...base, status: 'fail', summary: target.error, problem: 'credentials', fix: 'Set OPENAI_BASE_URL (or --base-url) to the API base, such as https://api.openai.com/v1.', data: { source: target.source } };
  }
  const data = { url: target.shown, provider: target.provider, source: target.source, ...(target.provider === 'azure' ? { azureApiVersion: target.azureApiVersion ?? null, azureV1: target.azureV1 } : {}) };
  const summary = `${target.shown} · ${PROVIDER_TEXT[target.provider]} (from ${target.source})`;
  if (target.hadCredentials) {
    return { ...base, status: 'fail', summary: `${summary} · the URL carries credentials (hidden)`, problem: 'credentials', fix: 'Remove user:password@ from the URL (fetch refuses such URLs); put the key in OPENAI_API_KEY.', data };
  }
  if (target.provider === 'azure' && !target.azureV1 && target.azureApiVersion === undefined) {
    return { ...base, status: 'fail', summary: `${summary} · OPENAI_API_VERSION is not set`, problem: 'credentials', fix: 'Set OPENAI_API_VERSION (for example 2024-10-21), which AzureOpenAI requires, or use the /openai/v1 base URL.', data };
  }
  const version = target.provider === 'azure' ? (target.azureV1 ? ' · Azure v1 API' : ` · api-version ${target.azureApiVersion}`) : '';
  return { ...base, status: 'ok', summary: `${summary}${version}`, data };
}

export function checkKey(creds: Credentials, target: Target | BadTarget, env: Readonly<Record<string, string | undefined>>): CheckResult {
  const base = { id: 'api-key', group: 'credentials' as const, title: 'API key' };
  const provider = 'error' in target ? 'openai' : target.provider;
  const expected = provider === 'azure' ? 'AZURE_OPENAI_API_KEY (or OPENAI_API_KEY)' : 'OPENAI_API_KEY';
  const ids = { ...(env['OPENAI_ORG_ID'] ? { organization: env['OPENAI_ORG_ID'] } : {}), ...(env['OPENAI_PROJECT_ID'] ? { project: env['OPENAI_PROJECT_ID'] } : {}) };
  const scope = provider === 'azure' ? '' : Object.entries(ids).map(([k, v]) => ` · ${k} ${v}`).join('');
  const { info } = creds;
  if (info.source === undefined) {
    if (provider === 'other') return { ...base, status: 'warn', summary: `${expected} is not set (fine for a server that needs no key)`, fix: `Set ${expected} if the server needs a key.`, data: { set: false } };
    return {
      ...base,
      status: 'fail',
      summary: `${expected} is not set`,
      problem: 'credentials',
      code: 'authentication_error',
      fix: `Set ${expected} to a valid key (the SDK reads it from there).`,
      data: { set: false },
    };
  }
  const kind = info.kind ?? 'other';
  const data = { set: true, source: info.source, kind, padded: info.padded, ...ids };
  const summary = `${info.source} is set · ${KEY_KIND_TEXT[kind]}${scope}`;
  if (info.padded) return { ...base, status: 'warn', summary: `${summary} · has white space or quotes around it`, fix: 'Store the secret without surrounding quotes, spaces or a trailing newline: the SDK sends it as it is.', data };
  if (kind === 'admin') return { ...base, status: 'warn', summary, fix: 'Use a project or service account key for API calls; admin keys are for the Admin API.', data };
  if (provider === 'openai' && kind === 'other') return { ...base, status: 'warn', summary, fix: 'OpenAI keys start with sk-: check that the secret is an OpenAI API key.', data };
  return { ...base, status: 'ok', summary, data };
}
