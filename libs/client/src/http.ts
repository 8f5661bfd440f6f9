// The HTTP half of the SDK: tokens (login, refresh, a fixed JWT or a provider) and
// `POST /v1/api/sql`, with typed errors carrying the server's code.
import { ProtocolError, SeqlineError, serverError } from './errors.js';

export type Auth =
  | { readonly user: string; readonly password: string }
  | { readonly jwt: string }
  /** Called whenever a token is needed; `refresh` is true when the server refused the last one as expired. */
  | { readonly token: (options: { readonly refresh: boolean }) => Promise<string> };

/** `fetch`, or what the client needs of it; `signal` aborts a request that took too long. */
export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<{ status: number; text(): Promise<string> }>;

interface Session {
  readonly access: string;
  readonly accessExpiresMs: number;
  readonly refresh: string;
}

/** Access tokens for the client, refreshed a little before they expire. */
export class Tokens {
  readonly #auth: Auth;
  readonly #base: string;
  readonly #fetch: FetchLike;
  readonly #now: () => number;
  #session: Session | undefined;
  #pending: Promise<string> | undefined;
  #providerRefresh = false;

  constructor(auth: Auth, base: string, fetchImpl: FetchLike, now: () => number) {
    this.#auth = auth;
    this.#base = base;
    this.#fetch = fetchImpl;
    this.#now = now;
  }

  /** A valid access token (single-flight: concurrent callers share one login or refresh). */
  get(): Promise<string> {
    if ('jwt' in this.#auth) return Promise.resolve(this.#auth.jwt);
    if ('token' in this.#auth) {
      const refresh = this.#providerRefresh;
      this.#providerRefresh = false;
      // The app's own failure becomes a SeqlineError like every other (its error as the cause).
      return this.#auth.token({ refresh }).catch((err: unknown) => {
        throw err instanceof SeqlineError ? err : new SeqlineError('TOKEN_PROVIDER', `the token provider failed: ${err instanceof Error ? err.message : String(err)}`, undefined, { cause: err });
      });
    }
    const s = this.#session;
    if (s !== undefined && s.accessExpiresMs - this.#now() > 30_000) return Promise.resolve(s.access);
    this.#pending ??= this.#renew().finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  /** The server said the token expired (clocks disagree): renew on the next `get`. */
  invalidate(): void {
    this.#providerRefresh = true;
    if (this.#session !== undefined) this.#session = { ...this.#session, accessExpiresMs: 0 };
  }

  async #renew(): Promise<string> {
    const auth = this.#auth as { user: string; password: string };
    if (this.#session !== undefined) {
      const refreshed = await this.#call('/v1/api/auth/refresh', {}, this.#session.refresh).catch((err: unknown) => {
        if (err instanceof SeqlineError && err.status === 401) return undefined; // refresh token expired: log in again
        throw err;
      });
      if (refreshed !== undefined) return this.#keep(refreshed);
    }
    return this.#keep(await this.#call('/v1/api/auth/login', { username: auth.user, password: auth.password }));
  }

  #keep(body: Record<string, unknown>): string {
    const access = body['access_token'];
    const refresh = body['refresh_token'];
    const expires = body['expires_at'];
    if (typeof access !== 'string' || typeof refresh !== 'string') throw new ProtocolError('the login answer has no tokens');
    const expiresMs = typeof expires === 'string' ? Date.parse(expires) : this.#now() + 60_000;
    this.#session = { access, refresh, accessExpiresMs: Number.isNaN(expiresMs) ? this.#now() + 60_000 : expiresMs };
    return access;
  }

  #call(path: string, body: object, token?: string): Promise<Record<string, unknown>> {
    return postJson(this.#fetch, `${this.#base}${path}`, body, bearer(token));
  }
}

/**
 * POSTs `body` as JSON (bigints as decimal strings): the answer's body, or the server's error as
 * a SeqlineError. An unreachable gateway is whatever `fetch` throws.
 */
export async function postJson(fetch: FetchLike, url: string, body: unknown, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body, bigintAsString) });
  const parsed = parseBody(await res.text());
  if (res.status !== 200) throw errorFrom(res.status, parsed);
  return parsed;
}

/** The Authorization header for an access token, or none. */
export function bearer(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

/** A JSON.stringify replacer: bigints as decimal strings (parameters and the protocol take both). */
export function bigintAsString(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

export function parseBody(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The SQL API's error body (or a login failure's, `{"error":"unauthorized"}`) as a SeqlineError
 * with the server's code; an answer without one (a proxy's error page) is a ProtocolError.
 */
export function errorFrom(status: number, body: Record<string, unknown>): SeqlineError {
  const e = body['error'];
  if (typeof e === 'object' && e !== null) {
    const { code, message, statement_index: index, statement } = e as { code?: unknown; message?: unknown; statement_index?: unknown; statement?: unknown };
    const failed = Number.isSafeInteger(index) && (index as number) >= 0 ? { statementIndex: index as number, ...(typeof statement === 'string' ? { statement } : {}) } : undefined;
    if (typeof code === 'string') return serverError(code, typeof message === 'string' ? message : `HTTP ${status}`, status, failed);
  }
  if (typeof e === 'string') return serverError(e.toUpperCase(), typeof body['message'] === 'string' ? body['message'] : `HTTP ${status}`, status);
  return new ProtocolError(`HTTP ${status} without an error code`, status);
}

export interface SchemaEntry {
  readonly name: string;
  readonly data_type: string;
  readonly flags?: readonly string[];
}

export type BigIntMode = 'bigint' | 'string';

/** Turns a positional row (docs/protocol.md cells) into an object keyed by column, BIGINTs as asked. */
export function rowObject(schema: readonly SchemaEntry[], cells: readonly unknown[], mode: BigIntMode): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [i, col] of schema.entries()) row[col.name] = convertCell(col, cells[i], mode);
  return row;
}

export function convertCell(col: SchemaEntry, v: unknown, mode: BigIntMode): unknown {
  if (mode === 'bigint' && col.data_type === 'BigInt' && (typeof v === 'string' || typeof v === 'number')) return BigInt(v);
  return v;
}
