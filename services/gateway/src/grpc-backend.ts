// The Backend over gRPC: one storage client and one write client, created once per gateway
// (grpc-js multiplexes every call over one HTTP/2 connection per address and reconnects by
// itself). Mutations go over Write.ExecuteStream, one long-lived stream (see ExecuteMux). Each call has a deadline; failures become ProtocolErrors through
// ProtocolError.fromGrpc, so a client sees exactly the code the service behind decided, or
// UNAVAILABLE when it could not be reached in time. User records are parsed here, at the
// boundary: a role storage sends that we do not know is an internal error, not a guess.
import { credentials } from '@grpc/grpc-js';
import { storagePb, writePb } from '@seqline/proto';
import { ProtocolError, toProtocolError, unaryCall, type UnaryMethod } from '@seqline/protocol';
import { traceparentOf } from '@seqline/runtime';
import { ROLES } from '@seqline/domain';
import type { Backend, ExecuteCall, LoginPolicy, QueryCall, RefreshFamilyStart, RefreshRotation, UserCredentials, UserRecord } from './backend.js';
import { ExecuteMux } from './execute-mux.js';
import type { GatewayMetrics } from './metrics.js';

export interface GrpcBackendOptions {
  readonly storageAddr: string;
  readonly writeAddr: string;
  /** Deadline of each call. */
  readonly timeoutMs: number;
  /** Wall clock for deadlines (ms). */
  readonly now?: () => number;
  /** Write latency (seqline_gateway_write_duration_seconds). */
  readonly metrics?: GatewayMetrics;
}

/** Query results can be large; storage sends up to 16 MiB (libs/runtime startGrpcServer). */
const MAX_RECEIVE_BYTES = 16 * 1024 * 1024 + 64 * 1024;


export function createGrpcBackend(options: GrpcBackendOptions): Backend {
  const channelOptions = { 'grpc.max_receive_message_length': MAX_RECEIVE_BYTES };
  const storage = new storagePb.StorageClient(options.storageAddr, credentials.createInsecure(), channelOptions);
  const write = new writePb.WriteClient(options.writeAddr, credentials.createInsecure(), channelOptions);
  const executes = new ExecuteMux(write, options.timeoutMs);
  const now = options.now ?? Date.now;
  const call = <Req, Res>(method: UnaryMethod<Req, Res>, req: Req): Promise<Res> => unaryCall(method, req, options.timeoutMs, now);
  let closed = false;

  return {
    query: async (q: QueryCall) => {
      const res = await call(storage.query.bind(storage), { caller: q.caller, sql: q.sql, paramsJson: q.paramsJson, namespace: q.namespace, asUser: q.asUser });
      return res.resultJson;
    },
    // The request's trace continues in the write service (ExecuteRequest.traceparent).
    execute: async (e: ExecuteCall) => {
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      try {
        const result = await executes.execute({ caller: e.caller, sql: e.sql, paramsJson: e.paramsJson, namespace: e.namespace, idempotencyKey: e.idempotencyKey, traceparent: traceparentOf() });
        options.metrics?.writeSeconds.observe({ code: 'ok' }, seconds());
        return result;
      } catch (err) {
        options.metrics?.writeSeconds.observe({ code: toProtocolError(err).code }, seconds());
        throw err;
      }
    },
    getUser: async (userId: string) => {
      const rec = await call(storage.getUser.bind(storage), { userId });
      return rec.found ? toUserRecord(rec) : undefined;
    },
    getCredentials: async (userIds: readonly string[]) => {
      const res = await call(storage.getCredentials.bind(storage), { userIds: [...userIds] });
      return new Map(res.users.map((u): [string, UserCredentials] => [u.userId, { role: roleOf(u.userId, u.role), version: Number(u.credentialVersion) }]));
    },
    recordLogin: async (userId: string, success: boolean, policy: LoginPolicy) => {
      await call(storage.recordLogin.bind(storage), { userId, success, maxFailures: policy.maxFailures, lockoutMs: policy.lockoutMs });
    },
    setup: async (user) => {
      const rec = await call(storage.setup.bind(storage), { userId: user.userId, passwordHash: user.passwordHash, email: user.email ?? '' });
      if (!rec.found) throw new ProtocolError('INTERNAL_ERROR', 'internal error', { cause: new Error('Storage.Setup answered no user') });
      return toUserRecord(rec);
    },
    needsSetup: async () => (await call(storage.setupStatus.bind(storage), {})).needsSetup,
    startRefreshFamily: async (start: RefreshFamilyStart) =>
      toUserRecord(await call(storage.startRefreshFamily.bind(storage), { ...start, credentialVersion: BigInt(start.credentialVersion), expiresAtS: BigInt(start.expiresAtS) })),
    revokeRefreshFamily: async (userId: string, familyId: string) => {
      await call(storage.revokeRefreshFamily.bind(storage), { userId, familyId });
    },
    rotateRefresh: async (rotation: RefreshRotation) => toUserRecord(await call(storage.rotateRefresh.bind(storage), { ...rotation, expiresAtS: BigInt(rotation.expiresAtS) })),
    close: () => {
      if (closed) return;
      closed = true;
      storage.close();
      executes.close();
      write.close();
    },
  };
}

/** A role storage sent; one we do not know is an internal error, not a guess. */
function roleOf(userId: string, role: string): UserRecord['role'] {
  const known = ROLES.find((r) => r === role);
  if (known === undefined) throw new ProtocolError('INTERNAL_ERROR', 'internal error', { cause: new Error(`storage sent user ${JSON.stringify(userId)} with unknown role ${JSON.stringify(role)}`) });
  return known;
}

/** Parses storage's UserRecord. Exported for tests. */
export function toUserRecord(rec: storagePb.UserRecord): UserRecord {
  return {
    userId: rec.userId,
    role: roleOf(rec.userId, rec.role),
    email: rec.email === '' ? null : rec.email,
    passwordHash: rec.passwordHash,
    createdAtUs: rec.createdAtUs,
    updatedAtUs: rec.updatedAtUs,
    lockedUntilUs: rec.lockedUntilUs,
    credentialVersion: Number(rec.credentialVersion),
  };
}
