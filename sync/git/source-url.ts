/** Where a Git source lives (http(s) remote or local repository), its credentials, and its display form. */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Credentials for an http(s) remote. A token alone is sent as Basic `x-access-token:<token>`. */
export interface GitAuth {
  token?: string;
  username?: string;
  password?: string;
}

export interface BasicCredentials {
  username: string;
  password: string;
}

export type SourceLocation =
  | { transport: 'http'; fetchUrl: string; displayUrl: string; credentials?: BasicCredentials; secrets: string[] }
  | { transport: 'local'; path: string; displayUrl: string; secrets: string[] }
  | { transport: 'unsupported'; displayUrl: string; problem: string; secrets: string[] };

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
// `user@host:path`, the scp-like form of an SSH remote (but not a Windows drive or a URL).
const SCP_LIKE = /^[^/\\@:\s]+@[^/\\:\s]+:(?!\/\/)/;

/**
 * The URL without user-info, query string or fragment, safe for logs, errors, the API and the UI.
 * Local paths and scp-like remotes come back unchanged (they carry no password).
 */
export function stripCredentials(url: string): string {
  const scheme = SCHEME.exec(url);
  if (!scheme) return url;
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    // Unparseable (e.g. a password with an unencoded '/' or '#'): drop everything up to the last '@',
    // which may also drop part of a path, but never shows any of the user-info.
    let rest = url.slice(scheme[0].length);
    const at = rest.lastIndexOf('@');
    if (at !== -1) rest = rest.slice(at + 1);
    return `${scheme[0]}${rest.split(/[?#]/, 1)[0]}`;
  }
}

/** Classifies `url` and works out the credentials to send: explicit `auth` wins over user-info in the URL. */
export function parseSourceUrl(url: string, auth: GitAuth | undefined, cwd: string = process.cwd()): SourceLocation {
  const authSecrets = [auth?.password, auth?.token].filter((value): value is string => !!value);
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (SCP_LIKE.test(url)) {
      return { transport: 'unsupported', displayUrl: url, secrets: authSecrets, problem: `SSH remotes are not supported (${url}); use an https URL with a token` };
    }
    const path = isAbsolute(url) ? url : resolve(cwd, url);
    return { transport: 'local', path, displayUrl: path, secrets: authSecrets };
  }

  const displayUrl = stripCredentials(url);
  const urlSecrets = rawUserInfoSecrets(url);
  const secrets = [...authSecrets, ...urlSecrets];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { transport: 'unsupported', displayUrl, secrets, problem: `${displayUrl} is not a valid URL` };
  }
  if (scheme === 'file') {
    try {
      return { transport: 'local', path: fileURLToPath(parsed), displayUrl, secrets };
    } catch (error) {
      return { transport: 'unsupported', displayUrl, secrets, problem: `${displayUrl} is not a usable file URL: ${(error as Error).message}` };
    }
  }
  if (scheme !== 'http' && scheme !== 'https') {
    return { transport: 'unsupported', displayUrl, secrets, problem: `unsupported URL scheme '${scheme}:' in ${displayUrl}; Baton fetches over http(s) or reads a local path` };
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    // Git appends `/info/refs?service=…` to the URL, so a query cannot work; and a query there is
    // usually a credential, which belongs in `auth`.
    return { transport: 'unsupported', displayUrl, secrets, problem: `a git URL cannot have a query string or fragment (${displayUrl}); pass credentials as auth` };
  }
  const fromUrl = parsed.username !== '' || parsed.password !== '' ? { username: decodeLoosely(parsed.username), password: decodeLoosely(parsed.password) } : undefined;
  const credentials = resolveCredentials(auth, fromUrl);
  for (const used of [credentials, fromUrl]) {
    if (!used) continue;
    secrets.push(used.password, `${used.username}:${used.password}`);
    if (used.password === '' && isTokenLike(used.username)) secrets.push(used.username);
  }
  return { transport: 'http', fetchUrl: displayUrl, displayUrl, credentials, secrets: secrets.filter((secret) => secret !== '') };
}

function resolveCredentials(auth: GitAuth | undefined, fromUrl: BasicCredentials | undefined): BasicCredentials | undefined {
  // GitHub takes any user name with a token, and documents x-access-token; GitLab and Gitea accept any
  // non-empty user name with a personal access token (use `username: 'oauth2'` for GitLab OAuth tokens).
  if (auth?.token) return { username: auth.username || 'x-access-token', password: auth.token };
  if (auth?.username !== undefined || auth?.password !== undefined) return { username: auth.username ?? '', password: auth.password ?? '' };
  return fromUrl;
}

/** The user-info of `url` as typed (percent-encoded or not), which error texts may quote verbatim. */
function rawUserInfoSecrets(url: string): string[] {
  const scheme = SCHEME.exec(url);
  if (!scheme) return [];
  const rest = url.slice(scheme[0].length);
  const at = rest.lastIndexOf('@');
  if (at === -1) return [];
  const userInfo = rest.slice(0, at);
  const colon = userInfo.indexOf(':');
  if (colon === -1) return isTokenLike(userInfo) ? [userInfo, decodeLoosely(userInfo)] : [];
  const password = userInfo.slice(colon + 1);
  return [userInfo, password, decodeLoosely(password)].filter((value) => value !== '');
}

/**
 * A user name with no password (`https://<token>@host/…`) is usually a token; short names such as
 * `git` are not, and redacting every "git" from messages would make them unreadable.
 */
function isTokenLike(userName: string): boolean {
  return userName.length >= 8;
}

function decodeLoosely(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
