// The gateway's contract with the services behind it. HTTP handlers (and later the WebSocket
// endpoint) code against this interface; grpc-backend.ts implements it over the storage and
// write gRPC clients, and unit tests implement it in memory.
//
// Every method rejects with a ProtocolError (@seqline/protocol): the code the service behind
// chose, or UNAVAILABLE / INTERNAL_ERROR when it could not be reached or answered nonsense.
import type { Role } from '@seqline/domain';

/** An authenticated caller, as the JWT says. */
export interface Caller {
  readonly userId: string;
  readonly role: Role;
}

export interface QueryCall {
  readonly caller: Caller;
  /** One SELECT. */
  readonly sql: string;
  /** A JSON array of scalars, or '' for none. */
  readonly paramsJson: string;
  /** Namespace of unqualified table names ('' = default). */
  readonly namespace: string;
  /** EXECUTE AS target ('' = the caller). */
  readonly asUser: string;
}

export interface ExecuteCall {
  readonly caller: Caller;
  /** One DML, DDL or user-management statement (EXECUTE AS included). */
  readonly sql: string;
  readonly paramsJson: string;
  readonly namespace: string;
  /** '' = none. */
  readonly idempotencyKey: string;
}

/** What a user's tokens are checked against: the user's current role and credential version. */
export interface UserCredentials {
  readonly role: Role;
  readonly version: number;
}

/** A user as storage keeps it; timestamps in microseconds since the epoch. */
export interface UserRecord {
  readonly userId: string;
  readonly role: Role;
  /** null when the user has none. */
  readonly email: string | null;
  readonly passwordHash: string;
  readonly createdAtUs: bigint;
  readonly updatedAtUs: bigint;
  /** 0n = not locked. */
  readonly lockedUntilUs: bigint;
  /** Moved by DROP, a role or password change and a lock; tokens carry the one they were issued at (`cv`). */
  readonly credentialVersion: number;
}

/** A refresh-token family's start (login) or rotation (refresh); `expiresAtS` in seconds since the epoch. */
export interface RefreshFamilyStart {
  readonly userId: string;
  readonly familyId: string;
  readonly jti: string;
  readonly credentialVersion: number;
  readonly expiresAtS: number;
}

export interface RefreshRotation {
  readonly userId: string;
  readonly familyId: string;
  /** The presented token's id. */
  readonly jti: string;
  /** The id of the token issued in its place. */
  readonly nextJti: string;
  readonly expiresAtS: number;
}

export interface LoginPolicy {
  /** Consecutive failures that lock the account. */
  readonly maxFailures: number;
  readonly lockoutMs: number;
}

export interface Backend {
  /** Storage.Query: the statement's docs/protocol.md result object, as JSON text. */
  query(call: QueryCall): Promise<string>;
  /** Write.Execute: the statement's docs/protocol.md result object, as JSON text. */
  execute(call: ExecuteCall): Promise<string>;
  /** The user with its password hash, or undefined when there is none. */
  getUser(userId: string): Promise<UserRecord | undefined>;
  /** The current role and credential version of each of `userIds` that exists (one storage call). */
  getCredentials(userIds: readonly string[]): Promise<ReadonlyMap<string, UserCredentials>>;
  /** Records a login outcome (resets, or counts toward a lockout). */
  recordLogin(userId: string, success: boolean, policy: LoginPolicy): Promise<void>;
  /** Creates the first DBA; rejects with PERMISSION_DENIED once a DBA exists. */
  setup(user: { readonly userId: string; readonly passwordHash: string; readonly email: string | null }): Promise<UserRecord>;
  /** True while no DBA exists. */
  needsSetup(): Promise<boolean>;
  /** Starts a refresh family at login; the user as it is now. INVALID_CREDENTIALS when the user is gone or its credential version moved on. */
  startRefreshFamily(start: RefreshFamilyStart): Promise<UserRecord>;
  /** Rotates a refresh family; the user as it is now. INVALID_CREDENTIALS when refused (a reused token revokes the family). */
  rotateRefresh(rotation: RefreshRotation): Promise<UserRecord>;
  /** Ends a refresh family (logout); idempotent. */
  revokeRefreshFamily(userId: string, familyId: string): Promise<void>;
  /** Releases connections; idempotent. */
  close(): void;
}
