// gRPC handlers of the Storage service: each parses its request once, runs, and answers either
// a result or a protocol error (code in metadata; never a stack trace).
import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { busPb, type storagePb } from '@seqline/proto';
import { ProtocolError, toProtocolError } from '@seqline/protocol';
import type { Logger } from '@seqline/runtime';
import { ROLES, type Actor, type Role } from '@seqline/domain';
import { actAs, classify, parseStatements } from '@seqline/sql';
import type { Sql } from 'postgres';
import { runAdmin, type AdminContext } from './admin.js';
import type { CatalogCache } from './catalog.js';
import { isIntrospection, runIntrospection } from './introspect.js';
import { parseParams, runQuery, type QueryContext } from './query.js';
import { streamCatchUp, streamSnapshot, type SnapshotContext } from './snapshot.js';
import type { UserSlots } from './user-slots.js';
import { readWindow } from './window.js';
import { getCredentials, getUser, needsSetup, recordLogin, revokeRefreshFamily, rotateRefresh, setup, startRefreshFamily } from './users.js';

export interface HandlerDeps {
  readonly sql: Sql;
  readonly catalog: CatalogCache;
  readonly logger: Logger;
  readonly query: QueryContext;
  readonly admin: AdminContext;
  readonly snapshot: SnapshotContext;
  /** Per-user limits on SELECTs, and on snapshots and catch-ups, running at a time. */
  readonly slots: { readonly queries: UserSlots; readonly snapshots: UserSlots };
  /** Called after DDL committed, to tell other services the catalog moved. */
  readonly catalogChanged: (version: bigint) => void;
  /** Called after a user's record changed (created, altered, dropped, locked), so every gateway forgets what it cached of that user. */
  readonly userChanged: (userId: string) => void;
}

type Handler<Req, Res> = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void;

function unary<Req, Res>(logger: Logger, name: string, fn: (req: Req) => Promise<Res>): Handler<Req, Res> {
  return (call, callback) => {
    fn(call.request).then(
      (res) => callback(null, res),
      (err: unknown) => {
        const e = toProtocolError(err);
        if (e.code === 'INTERNAL_ERROR') logger.error(`${name} failed`, { err });
        callback(e.toGrpc());
      },
    );
  };
}

/**
 * A server-streaming handler with flow control: `send` resolves when the stream can take
 * more, so a client that stops reading pauses the producer; a cancelled call stops it.
 */
function serverStream<Req, Res>(logger: Logger, name: string, fn: (req: Req, send: (msg: Res) => Promise<void>, cancelled: () => boolean) => Promise<void>): (call: ServerWritableStream<Req, Res>) => void {
  return (call) => {
    let cancelled = false;
    call.on('cancelled', () => {
      cancelled = true;
    });
    const send = (msg: Res): Promise<void> =>
      call.write(msg) || cancelled
        ? Promise.resolve()
        : new Promise((resolve) => {
            const done = (): void => {
              call.off('drain', done);
              call.off('cancelled', done);
              resolve();
            };
            call.on('drain', done);
            call.on('cancelled', done);
          });
    Promise.resolve()
      .then(() => fn(call.request, send, () => cancelled))
      .then(
        () => call.end(),
        (err: unknown) => {
          const e = toProtocolError(err);
          if (e.code === 'INTERNAL_ERROR') logger.error(`${name} failed`, { err });
          if (!cancelled) call.emit('error', e.toGrpc());
        },
      );
  };
}

export function actorOf(caller: storagePb.Caller | undefined): Actor {
  const role = ROLES.find((r) => r === caller?.role);
  if (caller === undefined || caller.userId === '' || role === undefined) throw new ProtocolError('MISSING_AUTHORIZATION', 'the request has no authenticated caller');
  return { userId: caller.userId, role: role satisfies Role };
}

/** EXECUTE AS USER for a read: the target must exist and the caller's role may act as it. */
async function impersonate(sql: Sql, caller: Actor, userId: string): Promise<Actor> {
  const target = await getUser(sql, userId);
  return actAs(caller, userId, target.found ? target.role : undefined);
}

export function storageHandlers(deps: HandlerDeps): storagePb.StorageServer {
  const { logger } = deps;
  return {
    query: unary(logger, 'Query', async (req: storagePb.QueryRequest) => {
      const actor = req.asUser === '' ? actorOf(req.caller) : await impersonate(deps.sql, actorOf(req.caller), req.asUser);
      const namespace = req.namespace || 'default';
      const [stmt, ...rest] = parseStatements(req.sql, { defaultNamespace: namespace });
      if (stmt === undefined || rest.length > 0 || (stmt.kind !== 'select' && !isIntrospection(stmt))) throw new ProtocolError('INVALID_SQL', 'Query takes exactly one SELECT, SHOW or DESCRIBE');
      const result = await deps.slots.queries.run(actor.userId, () =>
        stmt.kind === 'select' ? runQuery(deps.query, stmt, actor, parseParams(req.paramsJson), namespace) : runIntrospection(deps.query, stmt, actor),
      );
      return { resultJson: JSON.stringify(result) };
    }),
    admin: unary(logger, 'Admin', async (req: storagePb.AdminRequest) => {
      const actor = actorOf(req.caller);
      const [stmt, ...rest] = parseStatements(req.sql, { defaultNamespace: req.namespace || 'default' });
      if (stmt === undefined || rest.length > 0) throw new ProtocolError('INVALID_SQL', 'Admin takes exactly one statement');
      const cls = classify(stmt);
      if ((cls !== 'ddl' && cls !== 'user') || stmt.kind === 'execute_as') throw new ProtocolError('INVALID_SQL', 'Admin takes DDL or user management only');
      const result = await runAdmin(deps.admin, stmt as Parameters<typeof runAdmin>[1], actor);
      if (cls === 'ddl') deps.catalogChanged(deps.catalog.version);
      else if (stmt.kind === 'create_user' || stmt.kind === 'alter_user' || stmt.kind === 'drop_user') deps.userChanged(stmt.name);
      return { resultJson: JSON.stringify(result), catalogVersion: deps.catalog.version };
    }),
    getCatalog: unary(logger, 'GetCatalog', async () => {
      await deps.catalog.reload();
      return { version: deps.catalog.version, namespaces: deps.catalog.namespaces(), tablesJson: JSON.stringify(deps.catalog.tables()) };
    }),
    getUser: unary(logger, 'GetUser', (req: storagePb.GetUserRequest) => getUser(deps.sql, req.userId)),
    getCredentials: unary(logger, 'GetCredentials', (req: storagePb.GetCredentialsRequest) => getCredentials(deps.sql, req.userIds)),
    recordLogin: unary(logger, 'RecordLogin', async (req: storagePb.RecordLoginRequest) => {
      const { user, locked } = await recordLogin(deps.sql, req);
      if (locked) deps.userChanged(req.userId);
      return user;
    }),
    startRefreshFamily: unary(logger, 'StartRefreshFamily', (req: storagePb.StartRefreshFamilyRequest) => startRefreshFamily(deps.sql, req)),
    rotateRefresh: unary(logger, 'RotateRefresh', (req: storagePb.RotateRefreshRequest) => rotateRefresh(deps.sql, req)),
    revokeRefreshFamily: unary(logger, 'RevokeRefreshFamily', (req: storagePb.RevokeRefreshFamilyRequest) => revokeRefreshFamily(deps.sql, req)),
    setup: unary(logger, 'Setup', (req: storagePb.SetupRequest) => setup(deps.sql, req)),
    setupStatus: unary(logger, 'SetupStatus', async () => ({ needsSetup: await needsSetup(deps.sql) })),
    snapshot: serverStream(logger, 'Snapshot', (req: storagePb.SnapshotRequest, send, cancelled) => {
      const actor = actorOf(req.caller);
      return deps.slots.snapshots.run(actor.userId, () => streamSnapshot(deps.snapshot, req, actor, send, cancelled));
    }),
    catchUp: serverStream(logger, 'CatchUp', (req: storagePb.CatchUpRequest, send, cancelled) => {
      const actor = actorOf(req.caller);
      return deps.slots.snapshots.run(actor.userId, () => streamCatchUp(deps.snapshot, req, actor, send, cancelled));
    }),
    window: unary(logger, 'Window', (req: storagePb.WindowRequest) => {
      const actor = actorOf(req.caller);
      return deps.slots.snapshots.run(actor.userId, () => readWindow(deps.snapshot, req, actor));
    }),
    getOpResult: unary(logger, 'GetOpResult', async (req: storagePb.GetOpResultRequest) => {
      const deadline = Date.now() + Math.min(req.waitMs, 30_000);
      for (;;) {
        const [row] = await deps.sql<{ result: Buffer }[]>`SELECT result FROM seqline.op_results WHERE op_id = ${req.opId}`;
        if (row !== undefined) return busPb.OpResult.decode(row.result);
        if (Date.now() >= deadline) throw new ProtocolError('NOT_FOUND', `no result for op ${req.opId} yet`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }),
  };
}
