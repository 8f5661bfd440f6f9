// Which gateway a command talks to and as whom, and its access tokens.
//   URL: --url, else $SEQLINE_URL, else the last login's URL, else http://127.0.0.1:8080.
//   Identity: a password (--password or $SEQLINE_PASSWORD, with --user, $SEQLINE_USER or the
//   saved session's user) logs in for this command only; otherwise the session saved for the
//   URL, whose tokens are refreshed (and saved again) shortly before they expire.
import { SeqlineError, type FetchLike } from '@seqline/client/node';
import type { ConnectionFlags } from './args.js';
import type { Credentials, CredentialsStore, SavedSession } from './credentials.js';
import { cliError, CLI_ERROR, UsageError } from './errors.js';
import { postJson } from './http.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
/** Tokens this close to expiry are renewed first. */
const RENEW_BEFORE_MS = 30_000;

export type Env = Readonly<Record<string, string | undefined>>;

export type Identity = { readonly kind: 'password'; readonly user: string; readonly password: string } | { readonly kind: 'saved'; readonly session: SavedSession };

export interface Target {
  readonly url: string;
  readonly identity: Identity;
}

/** The gateway's base URL (no trailing slash); a malformed one is a usage error. */
export function gatewayUrl(flags: ConnectionFlags, env: Env, saved: Credentials): string {
  const [text, source] = flags.url !== undefined ? [flags.url, '--url'] : env['SEQLINE_URL'] ? [env['SEQLINE_URL'], 'SEQLINE_URL'] : [saved.current ?? DEFAULT_URL, 'the saved URL'];
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${source} is not a URL: "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${source} must be an http:// or https:// URL, got "${text}"`);
  return url.href.replace(/\/+$/, '');
}

export function resolveTarget(flags: ConnectionFlags, env: Env, saved: Credentials): Target {
  const url = gatewayUrl(flags, env, saved);
  const session = saved.sessions[url];
  const user = flags.user ?? (env['SEQLINE_USER'] || undefined);
  const password = flags.password ?? (env['SEQLINE_PASSWORD'] || undefined);
  if (password !== undefined) {
    const who = user ?? session?.user;
    if (who === undefined) throw new UsageError('a password needs a user: --user or SEQLINE_USER');
    return { url, identity: { kind: 'password', user: who, password } };
  }
  if (session !== undefined && (user === undefined || user === session.user)) return { url, identity: { kind: 'saved', session } };
  const as = user === undefined ? '' : ` as ${user}`;
  throw cliError(CLI_ERROR.notLoggedIn, `not logged in to ${url}${as}: run "seqline login --url ${url}${user === undefined ? '' : ` --user ${user}`}" (or give --password)`);
}

/** POST /v1/api/auth/login: the session to keep. */
export async function login(fetch: FetchLike, url: string, user: string, password: string): Promise<SavedSession> {
  return sessionFrom(user, await postJson(fetch, `${url}/v1/api/auth/login`, { username: user, password }));
}

function sessionFrom(user: string, body: Record<string, unknown>): SavedSession {
  const { access_token, refresh_token, expires_at, refresh_expires_at } = body;
  if (typeof access_token !== 'string' || typeof refresh_token !== 'string') throw cliError(CLI_ERROR.invalidResponse, 'the gateway answered without tokens');
  const iso = (v: unknown): string => (typeof v === 'string' ? v : new Date(0).toISOString());
  return { user, access_token, refresh_token, expires_at: iso(expires_at), refresh_expires_at: iso(refresh_expires_at) };
}

export interface SessionDeps {
  readonly fetch: FetchLike;
  readonly now: () => number;
  readonly credentials: CredentialsStore;
}

/** Access tokens for one command: renewed once they near expiry, single-flight. */
export class Session {
  readonly url: string;
  readonly #identity: Identity;
  readonly #deps: SessionDeps;
  #current: SavedSession | undefined;
  #renewing: Promise<string> | undefined;

  constructor(target: Target, deps: SessionDeps) {
    this.url = target.url;
    this.#identity = target.identity;
    this.#deps = deps;
    this.#current = target.identity.kind === 'saved' ? target.identity.session : undefined;
  }

  /** A token the gateway should accept (its expiry as the gateway stated it). */
  token(): Promise<string> {
    const s = this.#current;
    if (s !== undefined && Date.parse(s.expires_at) - this.#deps.now() > RENEW_BEFORE_MS) return Promise.resolve(s.access_token);
    return this.renew();
  }

  /** A new access token (the gateway refused the last one as expired, or it is about to be). */
  renew(): Promise<string> {
    this.#renewing ??= this.#renew().finally(() => (this.#renewing = undefined));
    return this.#renewing;
  }

  async #renew(): Promise<string> {
    const { fetch, now } = this.#deps;
    const s = this.#current;
    if (s !== undefined && Date.parse(s.refresh_expires_at) > now()) {
      const refreshed = await postJson(fetch, `${this.url}/v1/api/auth/refresh`, {}, s.refresh_token).catch((err: unknown) => {
        if (err instanceof SeqlineError && err.status === 401) return undefined; // the refresh token is no longer valid
        throw err;
      });
      if (refreshed !== undefined) return this.#keep(sessionFrom(s.user, refreshed));
    }
    if (this.#identity.kind === 'password') return this.#keep(await login(fetch, this.url, this.#identity.user, this.#identity.password));
    throw cliError(CLI_ERROR.sessionExpired, `the session for ${this.url} has expired: run "seqline login --url ${this.url}"`);
  }

  async #keep(session: SavedSession): Promise<string> {
    this.#current = session;
    if (this.#identity.kind === 'saved') {
      const saved = await this.#deps.credentials.load();
      await this.#deps.credentials.save({ ...saved, sessions: { ...saved.sessions, [this.url]: session } });
    }
    return session.access_token;
  }
}
