// The auth endpoints of docs/protocol.md §2, in KalamDB's shapes (errors `{"error","message"}`):
//
//   POST /v1/api/auth/login    per-address rate limit → user look-up → password → lockout →
//                              record the outcome → a new refresh family → token pair + cookie
//   POST /v1/api/auth/refresh  refresh token (Bearer, else the cookie) → storage rotates its
//                              family (only the family's current token is accepted; a reused
//                              one revokes the family; a family of an older credential version
//                              is over) → a new pair at the user's current role and version
//   POST /v1/api/auth/logout   ends the refresh family of the refresh token presented (Bearer,
//                              else the cookie), if it is one of ours, and clears the cookie
//   GET  /v1/api/auth/me       access token (still valid: user exists, same `cv`), or an
//                              identity provider's token (admitted as for SQL) → the user, with
//                              the role the token runs with
//   POST /v1/api/auth/setup, GET /v1/api/auth/status   first run, loopback peers only
//
// Login never says whether a user exists or is locked: an unknown user, a wrong password and a
// locked account (whatever the password) get the same 401 and the same message, after the same
// work (one user look-up, one password check, against a dummy hash for an unknown user, and one
// recorded failure), so neither the answer nor its time tells them apart. Only the per-address
// rate limit answers 429, and it does not depend on the user.
import { USER_ID_PATTERN } from '@seqline/domain';
import type { UserRecord } from '../backend.js';
import { judge } from '../auth/credential-cache.js';
import { adminUiAccess, bodyText, guarded, newTokenId, refreshCookie, refreshExpiry, REFRESH_COOKIE, tokensReply, userJson, type AuthRouteDeps } from './auth-common.js';
import { header, type Handler, type RequestContext } from './context.js';
import { bearerToken, clientKey, isLoopback, parseCookies } from './credentials.js';
import { authErrorFromProtocol, authErrorReply, jsonReply, retryAfter, type Reply } from './reply.js';
import { parseLoginBody, parseSetupBody } from './shapes.js';

export type AuthRouteName = 'login' | 'refresh' | 'logout' | 'me' | 'setup' | 'status';

const BAD_LOGIN = 'invalid username or password';

export function authRoutes(deps: AuthRouteDeps): Readonly<Record<AuthRouteName, Handler>> {
  const { logger } = deps;
  return {
    login: guarded(logger, 'login', (ctx) => login(deps, ctx)),
    refresh: guarded(logger, 'refresh', (ctx) => refresh(deps, ctx)),
    logout: guarded(logger, 'logout', (ctx) => logout(deps, ctx)),
    me: guarded(logger, 'me', (ctx) => me(deps, ctx)),
    setup: guarded(logger, 'setup', (ctx) => setup(deps, ctx)),
    status: guarded(logger, 'status', (ctx) => status(deps, ctx)),
  };
}

function limited(deps: AuthRouteDeps, ctx: RequestContext, what: string): Reply | undefined {
  const rate = deps.loginLimiter.take(clientKey(ctx.remoteAddress));
  if (rate.ok) return undefined;
  return authErrorReply('rate_limited', `too many ${what} attempts; retry in ${Math.ceil(rate.retryAfterMs / 1000)} s`, retryAfter(rate.retryAfterMs));
}

async function login(deps: AuthRouteDeps, ctx: RequestContext): Promise<Reply> {
  const refused = limited(deps, ctx, 'login');
  if (refused !== undefined) return refused;
  const body = bodyText(await ctx.readBody());
  if (!body.ok) return body.reply;
  const creds = parseLoginBody(body.text);
  if (!creds.ok) return authErrorReply('invalid_input', creds.message);
  const { username, password } = creds.value;
  const user = USER_ID_PATTERN.test(username) ? await deps.backend.getUser(username) : undefined;
  const locked = user !== undefined && user.lockedUntilUs > BigInt(deps.now()) * 1000n;
  const ok = (await deps.verifyPassword(password, user?.passwordHash ?? deps.dummyHash)) && user !== undefined && !locked;
  if (USER_ID_PATTERN.test(username)) await deps.backend.recordLogin(username, ok, deps.loginPolicy); // a name that cannot exist needs no disguise
  if (!ok) return authErrorReply('unauthorized', BAD_LOGIN);
  const refreshId = { fam: newTokenId(), jti: newTokenId() };
  const current = await deps.backend.startRefreshFamily({ userId: user.userId, familyId: refreshId.fam, jti: refreshId.jti, credentialVersion: user.credentialVersion, expiresAtS: refreshExpiry(deps) });
  deps.logger.info('login', { user: user.userId, address: ctx.remoteAddress });
  return tokensReply(deps, current, refreshId);
}

/** The refresh token of a request: `Authorization: Bearer`, else the refresh cookie. */
function presentedRefresh(ctx: RequestContext): { bearer: ReturnType<typeof bearerToken>; token: string | undefined } {
  const bearer = bearerToken(header(ctx, 'authorization'));
  return { bearer, token: bearer.kind === 'bearer' ? bearer.token : parseCookies(header(ctx, 'cookie')).get(REFRESH_COOKIE) };
}

async function logout(deps: AuthRouteDeps, ctx: RequestContext): Promise<Reply> {
  const { token } = presentedRefresh(ctx);
  const verified = token === undefined || token === '' ? undefined : deps.jwt.verify(token, 'refresh');
  if (verified?.ok === true) await deps.backend.revokeRefreshFamily(verified.claims.sub, verified.claims.fam!);
  return jsonReply(200, { message: 'Logged out successfully' }, { 'set-cookie': refreshCookie(deps, '', 0), 'cache-control': 'no-store' });
}

async function refresh(deps: AuthRouteDeps, ctx: RequestContext): Promise<Reply> {
  const { bearer, token } = presentedRefresh(ctx);
  if (token === undefined || token === '') return authErrorReply('unauthorized', bearer.kind === 'malformed' ? bearer.message : 'missing refresh token');
  const verified = deps.jwt.verify(token, 'refresh');
  if (!verified.ok) return authErrorReply('unauthorized', verified.code === 'TOKEN_EXPIRED' ? 'refresh token expired' : 'invalid refresh token');
  const { sub, fam, jti } = verified.claims;
  const next = { fam: fam!, jti: newTokenId() };
  let user: UserRecord;
  try {
    user = await deps.backend.rotateRefresh({ userId: sub, familyId: next.fam, jti: jti!, nextJti: next.jti, expiresAtS: refreshExpiry(deps) });
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'INVALID_CREDENTIALS') throw err;
    deps.logger.info('refresh refused (reused, revoked or outdated family)', { user: sub, address: ctx.remoteAddress });
    return authErrorReply('unauthorized', 'invalid refresh token', { 'set-cookie': refreshCookie(deps, '', 0) });
  }
  return tokensReply(deps, user, next);
}

async function me(deps: AuthRouteDeps, ctx: RequestContext): Promise<Reply> {
  const user = await currentUser(deps, ctx);
  if (isReply(user)) return user;
  return jsonReply(200, { user: userJson(user), admin_ui_access: adminUiAccess(user) }, { 'cache-control': 'no-store' });
}

/** The user of the access token in the Authorization header, re-read from storage. */
async function currentUser(deps: AuthRouteDeps, ctx: RequestContext): Promise<UserRecord | Reply> {
  const bearer = bearerToken(header(ctx, 'authorization'));
  if (bearer.kind === 'none') return authErrorReply('unauthorized', 'missing Authorization: Bearer <access token> header');
  if (bearer.kind === 'malformed') return authErrorReply('unauthorized', bearer.message);
  const verified = deps.jwt.verify(bearer.token, 'access');
  if (!verified.ok && verified.code === 'INVALID_CREDENTIALS' && deps.external !== undefined) {
    const external = await deps.external.authenticate(bearer.token);
    if (!external.ok) return external.code === 'UNAVAILABLE' ? authErrorFromProtocol(external) : authErrorReply('unauthorized', external.message);
    const user = await deps.backend.getUser(external.caller.userId);
    return user === undefined ? authErrorReply('unauthorized', 'token revoked: the user no longer exists') : { ...user, role: external.caller.role };
  }
  if (!verified.ok) return authErrorReply('unauthorized', verified.message);
  const user = await deps.backend.getUser(verified.claims.sub);
  const admitted = judge(verified.claims, user && { role: user.role, version: user.credentialVersion });
  return admitted.ok && user !== undefined ? user : authErrorReply('unauthorized', admitted.ok ? 'token revoked' : admitted.message);
}

function isReply(value: UserRecord | Reply): value is Reply {
  return 'status' in value && 'body' in value;
}

function loopbackOnly(ctx: RequestContext, what: string): Reply | undefined {
  return isLoopback(ctx.remoteAddress) ? undefined : authErrorReply('forbidden', `${what} is only available from localhost`);
}

async function setup(deps: AuthRouteDeps, ctx: RequestContext): Promise<Reply> {
  const refused = loopbackOnly(ctx, 'setup') ?? limited(deps, ctx, 'setup');
  if (refused !== undefined) return refused;
  const body = bodyText(await ctx.readBody());
  if (!body.ok) return body.reply;
  const parsed = parseSetupBody(body.text);
  if (!parsed.ok) return authErrorReply('invalid_input', parsed.message);
  const { username, password, email } = parsed.value;
  if (!USER_ID_PATTERN.test(username) || username.startsWith('_')) {
    return authErrorReply('invalid_input', 'username must be 1 to 63 letters, digits, _ or -, not starting with _');
  }
  let user: UserRecord;
  try {
    user = await deps.backend.setup({ userId: username, passwordHash: await deps.hashPassword(password), email });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'PERMISSION_DENIED') return authErrorReply('already_configured', 'setup is already done: a DBA exists');
    if ((err as { code?: unknown }).code === 'SQL_EXECUTION_ERROR') return authErrorReply('invalid_input', (err as Error).message); // the name is taken (or was)
    throw err;
  }
  deps.logger.info('first-run setup: DBA created', { user: user.userId, address: ctx.remoteAddress });
  return jsonReply(200, { user: userJson(user), message: `setup complete: DBA user '${user.userId}' created; log in to continue` });
}

async function status(deps: AuthRouteDeps, ctx: RequestContext): Promise<Reply> {
  const refused = loopbackOnly(ctx, 'setup status');
  if (refused !== undefined) return refused;
  const needsSetup = await deps.backend.needsSetup();
  const message = needsSetup ? 'no DBA exists yet: POST /v1/api/auth/setup with username, password and optional email' : 'setup is done';
  return jsonReply(200, { needs_setup: needsSetup, message });
}
