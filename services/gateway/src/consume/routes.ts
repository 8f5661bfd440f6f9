// The change-consumer routes (docs/protocol.md §2, "Change consumers"):
//   POST /v1/api/consume          the next batch of one of the worker's lanes
//   POST /v1/api/consume/ack      acknowledge (or nak) a change by its token
//   POST /v1/api/consume/release  the worker leaves its group
//   POST /v1/api/consume/drop     the group and its position are removed
// Checks run as for SQL, cheapest first: the Bearer token (with the user's current role), the
// per-user request rate, then the body, parsed once against its schema. Errors are the SQL API's
// error body with the status of their code.
import { parseAckRequest, parseConsumeRequest, parseDropRequest, parseReleaseRequest, toProtocolError, type BodyParse } from '@seqline/protocol';
import type { Caller } from '../backend.js';
import { header, type Handler, type RequestContext } from '../http/context.js';
import { jsonReply, retryAfter, sqlErrorReply, type Reply } from '../http/reply.js';
import { parseJsonObject } from '../http/shapes.js';
import { authenticate, type SqlRouteDeps } from '../http/sql-route.js';
import type { ChangeConsumers } from './consumers.js';

export interface ConsumeRouteDeps extends Pick<SqlRouteDeps, 'jwt' | 'credentials' | 'external' | 'limiter' | 'logger' | 'monotonic'> {
  /** Undefined until realtime (NATS) is up: answered UNAVAILABLE. */
  readonly consumers: () => ChangeConsumers | undefined;
}

export function consumeRoutes(deps: ConsumeRouteDeps): Readonly<Record<'consume' | 'consumeAck' | 'consumeRelease' | 'consumeDrop', Handler>> {
  return {
    consume: route(deps, parseConsumeRequest, async (c, caller, body) => jsonReply(200, await c.fetch(caller, body))),
    consumeAck: route(deps, parseAckRequest, async (c, caller, body) => {
      await c.ack(caller, body);
      return jsonReply(200, { acknowledged: body.nak !== true, nak: body.nak === true });
    }),
    consumeRelease: route(deps, parseReleaseRequest, async (c, caller, body) => {
      await c.release(caller, body);
      return jsonReply(200, { released: true });
    }),
    consumeDrop: route(deps, parseDropRequest, async (c, caller, body) => jsonReply(200, { dropped: await c.drop(caller, body) })),
  };
}

function route<T>(deps: ConsumeRouteDeps, parse: (value: unknown) => BodyParse<T>, run: (consumers: ChangeConsumers, caller: Caller, body: T) => Promise<Reply>): Handler {
  return async (ctx: RequestContext) => {
    const took = (): number => deps.monotonic() - ctx.startedAt;
    const caller = await authenticate(deps, header(ctx, 'authorization'));
    if (!caller.ok) return sqlErrorReply(caller.error, took());
    const rate = deps.limiter.take(caller.value.userId);
    if (!rate.ok) return sqlErrorReply({ code: 'RATE_LIMIT_EXCEEDED', message: `too many requests; retry in ${Math.ceil(rate.retryAfterMs / 1000)} s` }, took(), retryAfter(rate.retryAfterMs));
    const body = await ctx.readBody();
    if (body.kind === 'aborted') return { ...sqlErrorReply({ code: 'INVALID_INPUT', message: 'request body incomplete' }, took()), close: true };
    if (body.kind === 'error') return { ...sqlErrorReply(body, took()), close: body.close };
    const json = parseJsonObject(body.text);
    if (!json.ok) return sqlErrorReply(json, took());
    const parsed = parse(json.value);
    if (!parsed.ok) return sqlErrorReply({ code: 'INVALID_INPUT', message: parsed.message }, took());
    const consumers = deps.consumers();
    if (consumers === undefined) return sqlErrorReply({ code: 'UNAVAILABLE', message: 'change consumers are not started yet' }, took());
    try {
      return await run(consumers, caller.value, parsed.value);
    } catch (err) {
      const error = toProtocolError(err);
      if (error.code === 'INTERNAL_ERROR' || error.code === 'UNAVAILABLE') deps.logger.error('consume request failed', { user: caller.value.userId, path: ctx.path, code: error.code, err: error.cause ?? err });
      return sqlErrorReply(error, took());
    }
  };
}
