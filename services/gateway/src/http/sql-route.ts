// POST /v1/api/sql (docs/protocol.md §2). The checks run cheapest first, so a request that will be
// refused costs as little as possible: the Bearer access token (before reading the body; its
// user must still exist with the token's credential version, and the statement runs with the
// user's current role: auth/credential-cache.ts; a token that is not Seqline's own may be an
// identity provider's: auth/external.ts), the
// caller's rate limit, the Idempotency-Key header, then the body (size limit, JSON, shape),
// then dispatch (sql/dispatch.ts). Every refusal is the SQL API's error body with the status
// of its code; an internal failure is logged with its cause and answered 'internal error'.
import { toProtocolError, type ProtocolError } from '@seqline/protocol';
import type { Logger } from '@seqline/runtime';
import type { CredentialCache } from '../auth/credential-cache.js';
import type { ExternalAuth } from '../auth/external.js';
import type { Backend, Caller } from '../backend.js';
import type { JwtCodec } from '../jwt.js';
import type { RateLimiter } from '../rate-limit.js';
import { runBatch, successBody, type SqlParser, type SystemLive } from '../sql/dispatch.js';
import { header, type Handler } from './context.js';
import { bearerToken } from './credentials.js';
import { retryAfter, sqlErrorReply, tookMs, type NamedStatement, type Reply, type WireError } from './reply.js';
import { parseSqlBody } from './shapes.js';

export interface SqlRouteDeps {
  readonly backend: Backend;
  readonly parser: SqlParser;
  readonly jwt: JwtCodec;
  /** Whether a verified token still holds, and its user's current role. */
  readonly credentials: Pick<CredentialCache, 'admit'>;
  /** Identity providers' tokens (SEQLINE_OIDC_ISSUERS), tried when a token is not Seqline's own. */
  readonly external?: Pick<ExternalAuth, 'authenticate'>;
  /** Per-user request rate. */
  readonly limiter: RateLimiter;
  readonly maxSqlBytes: number;
  readonly logger: Logger;
  /** Monotonic ms, for `took`. */
  readonly monotonic: () => number;
  readonly systemLive?: SystemLive;
}

/** Visible ASCII, at most 255 characters (it becomes part of an op id). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function sqlRoute(deps: SqlRouteDeps): Handler {
  return async (ctx) => {
    const took = (): number => deps.monotonic() - ctx.startedAt;
    const fail = (error: WireError, extra?: Partial<Pick<Reply, 'headers' | 'close'>> & { named?: NamedStatement | undefined }): Reply => {
      const reply = sqlErrorReply(error, took(), extra?.headers, extra?.named);
      return extra?.close === true ? { ...reply, close: true } : reply;
    };

    const caller = await authenticate(deps, header(ctx, 'authorization'));
    if (!caller.ok) return fail(caller.error);
    const rate = deps.limiter.take(caller.value.userId);
    if (!rate.ok) return fail({ code: 'RATE_LIMIT_EXCEEDED', message: `too many requests; retry in ${Math.ceil(rate.retryAfterMs / 1000)} s` }, { headers: retryAfter(rate.retryAfterMs) });
    const key = header(ctx, 'idempotency-key');
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) return fail({ code: 'INVALID_INPUT', message: 'Idempotency-Key must be 1 to 255 visible ASCII characters' });

    const body = await ctx.readBody();
    if (body.kind === 'aborted') return fail({ code: 'INVALID_INPUT', message: 'request body incomplete' }, { close: true });
    if (body.kind === 'error') return fail(body, { close: body.close });
    const parsed = parseSqlBody(body.text, deps.maxSqlBytes);
    if (!parsed.ok) return fail(parsed);

    const outcome = await runBatch(deps, caller.value, { ...parsed.value, idempotencyKey: key });
    if (!outcome.ok) {
      logFailure(deps.logger, outcome.error, caller.value, outcome.index);
      return fail(outcome.error, { named: outcome.named });
    }
    return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: successBody(outcome.results, tookMs(took())) };
  };
}

type AuthOutcome = { readonly ok: true; readonly value: Caller } | { readonly ok: false; readonly error: WireError };

/** The caller of a still valid access token in `Authorization: Bearer …`, with the user's current role. */
export async function authenticate(deps: Pick<SqlRouteDeps, 'jwt' | 'credentials' | 'external'>, authorization: string | undefined): Promise<AuthOutcome> {
  const bearer = bearerToken(authorization);
  if (bearer.kind === 'none') return { ok: false, error: { code: 'MISSING_AUTHORIZATION', message: 'missing Authorization: Bearer <access token> header' } };
  if (bearer.kind === 'malformed') return { ok: false, error: { code: 'INVALID_CREDENTIALS', message: bearer.message } };
  const verified = deps.jwt.verify(bearer.token, 'access');
  if (!verified.ok && verified.code === 'INVALID_CREDENTIALS' && deps.external !== undefined) {
    const external = await deps.external.authenticate(bearer.token);
    return external.ok ? { ok: true, value: external.caller } : { ok: false, error: external };
  }
  if (!verified.ok) return { ok: false, error: verified };
  let admitted;
  try {
    admitted = await deps.credentials.admit(verified.claims);
  } catch (err) {
    return { ok: false, error: toProtocolError(err) }; // storage unreachable: UNAVAILABLE, never a guess
  }
  return admitted.ok ? { ok: true, value: admitted.caller } : { ok: false, error: admitted };
}

function logFailure(logger: Logger, error: ProtocolError, caller: Caller, index: number | undefined): void {
  const fields = { user: caller.userId, statement: index, code: error.code };
  if (error.code === 'INTERNAL_ERROR') logger.error('SQL request failed', { ...fields, err: error.cause ?? error });
  else if (error.code === 'UNAVAILABLE') logger.warn('SQL request: a service is unavailable', { ...fields, err: error.cause ?? error });
}
