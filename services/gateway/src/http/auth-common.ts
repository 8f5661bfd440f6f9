// Shared by the auth endpoints: their dependencies, the user object KalamDB's clients read,
// the token-pair answer of login and refresh (with its refresh cookie), and a guard that turns
// any failure into the auth endpoints' error shape.
//
// Response shapes (docs/protocol.md §2 names the fields; KalamDB decides the rest):
//   user      {"id","username","role","email","created_at","updated_at"}: `username` equals
//             `id` (Seqline's user id is the name; KalamDB clients read either); email null
//             when unset; times RFC 3339 / ISO-8601 UTC strings, as KalamDB's to_rfc3339().
//   tokens    {"user","admin_ui_access","expires_at","access_token","refresh_token",
//             "refresh_expires_at"}, admin_ui_access = role is dba or system, times ISO-8601.
//             Both tokens carry the user's credential version (`cv`); the refresh token also
//             its family (`fam`) and its own id (`jti`), which storage records as the family's
//             current token before the pair is answered.
import { randomBytes } from 'node:crypto';
import { toProtocolError, type ProtocolError } from '@seqline/protocol';
import type { Logger } from '@seqline/runtime';
import { isAdminRole } from '@seqline/domain';
import type { ExternalAuth } from '../auth/external.js';
import type { Backend, LoginPolicy, UserRecord } from '../backend.js';
import type { JwtCodec } from '../jwt.js';
import type { RateLimiter } from '../rate-limit.js';
import type { BodyResult } from './body.js';
import type { Handler, RequestContext } from './context.js';
import { serializeCookie } from './credentials.js';
import { authErrorFromProtocol, authErrorReply, jsonReply, type Reply } from './reply.js';

export const REFRESH_COOKIE = 'seqline_refresh';
export const REFRESH_COOKIE_PATH = '/v1/api/auth';

export interface AuthRouteDeps {
  readonly backend: Backend;
  readonly jwt: JwtCodec;
  /** Login and setup attempts per client address. */
  readonly loginLimiter: RateLimiter;
  readonly logger: Logger;
  /** Wall clock, ms since the epoch (lockouts). */
  readonly now: () => number;
  readonly accessTokenTtlS: number;
  readonly refreshTokenTtlS: number;
  readonly loginPolicy: LoginPolicy;
  readonly cookieSecure: boolean;
  /** A well-formed password hash of a random password: unknown users are checked against it, so timing does not tell whether a user exists. */
  readonly dummyHash: string;
  /** Password hashing (injected: tests avoid scrypt's cost where it does not matter). */
  readonly hashPassword: (password: string) => Promise<string>;
  readonly verifyPassword: (password: string, stored: string) => Promise<boolean>;
  /** Tokens of the configured identity providers (SEQLINE_OIDC_ISSUERS), accepted by `me`. */
  readonly external?: Pick<ExternalAuth, 'authenticate'>;
}

export function isoFromMicros(us: bigint): string {
  return new Date(Number(us / 1000n)).toISOString();
}

export function isoFromSeconds(s: number): string {
  return new Date(s * 1000).toISOString();
}

export function userJson(user: UserRecord): Record<string, unknown> {
  return {
    id: user.userId,
    username: user.userId,
    role: user.role,
    email: user.email,
    created_at: isoFromMicros(user.createdAtUs),
    updated_at: isoFromMicros(user.updatedAtUs),
  };
}

export function adminUiAccess(user: UserRecord): boolean {
  return isAdminRole(user.role);
}

/** A refresh family's or token's id: 128 random bits. */
export function newTokenId(): string {
  return randomBytes(16).toString('base64url');
}

/** When a refresh token signed now expires, seconds since the epoch. */
export function refreshExpiry(deps: Pick<AuthRouteDeps, 'now' | 'refreshTokenTtlS'>): number {
  return Math.floor(deps.now() / 1000) + deps.refreshTokenTtlS;
}

/**
 * Login and refresh success: a new access + refresh pair at the user's credential version, the
 * refresh token (of family `refresh.fam`, id `refresh.jti`, already recorded by storage) also as cookie.
 */
export function tokensReply(deps: AuthRouteDeps, user: UserRecord, refreshId: { readonly fam: string; readonly jti: string }): Reply {
  const subject = { sub: user.userId, role: user.role, cv: user.credentialVersion };
  const access = deps.jwt.sign(subject, 'access', deps.accessTokenTtlS);
  const refresh = deps.jwt.sign({ ...subject, refresh: refreshId }, 'refresh', deps.refreshTokenTtlS);
  const body = {
    user: userJson(user),
    admin_ui_access: adminUiAccess(user),
    expires_at: isoFromSeconds(access.claims.exp),
    access_token: access.token,
    refresh_token: refresh.token,
    refresh_expires_at: isoFromSeconds(refresh.claims.exp),
  };
  return jsonReply(200, body, { 'set-cookie': refreshCookie(deps, refresh.token, deps.refreshTokenTtlS), 'cache-control': 'no-store' });
}

export function refreshCookie(deps: Pick<AuthRouteDeps, 'cookieSecure'>, token: string, maxAgeS: number): string {
  return serializeCookie(REFRESH_COOKIE, token, { path: REFRESH_COOKIE_PATH, maxAgeS, secure: deps.cookieSecure });
}

/** A body problem in the auth endpoints' shape, or the body text. */
export function bodyText(body: BodyResult): { ok: true; text: string } | { ok: false; reply: Reply } {
  if (body.kind === 'body') return { ok: true, text: body.text };
  if (body.kind === 'aborted') return { ok: false, reply: { ...authErrorReply('invalid_input', 'request body incomplete'), close: true } };
  const reply = authErrorReply(body.code === 'PAYLOAD_TOO_LARGE' ? 'payload_too_large' : 'invalid_input', body.message);
  return { ok: false, reply: body.close ? { ...reply, close: true } : reply };
}

/** Runs a handler; a thrown error (a service's ProtocolError or a bug) becomes an auth error reply. */
export function guarded(logger: Logger, name: string, fn: (ctx: RequestContext) => Promise<Reply>): Handler {
  return async (ctx) => {
    try {
      return await fn(ctx);
    } catch (err) {
      const error: ProtocolError = toProtocolError(err);
      if (error.code === 'INTERNAL_ERROR') logger.error(`${name} failed`, { err: error.cause ?? error });
      else if (error.code === 'UNAVAILABLE') logger.warn(`${name}: a service is unavailable`, { err: error.cause ?? error });
      return authErrorFromProtocol(error);
    }
  };
}
