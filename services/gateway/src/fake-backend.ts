// An in-memory Backend for unit tests of the gateway's own logic (a fake of our own interface;
// the real services are exercised by the end-to-end tests). It records every call in order and
// answers from a user map and from answer functions a test may replace.
import { ProtocolError } from '@seqline/protocol';
import type { Role } from '@seqline/domain';
import type { Backend, ExecuteCall, LoginPolicy, QueryCall, RefreshFamilyStart, RefreshRotation, UserCredentials, UserRecord } from './backend.js';

export type BackendCall =
  | { readonly method: 'query'; readonly call: QueryCall }
  | { readonly method: 'execute'; readonly call: ExecuteCall }
  | { readonly method: 'getUser'; readonly userId: string }
  | { readonly method: 'getCredentials'; readonly userIds: readonly string[] }
  | { readonly method: 'recordLogin'; readonly userId: string; readonly success: boolean; readonly policy: LoginPolicy }
  | { readonly method: 'setup'; readonly userId: string; readonly passwordHash: string; readonly email: string | null }
  | { readonly method: 'needsSetup' }
  | { readonly method: 'startRefreshFamily'; readonly start: RefreshFamilyStart }
  | { readonly method: 'rotateRefresh'; readonly rotation: RefreshRotation }
  | { readonly method: 'revokeRefreshFamily'; readonly userId: string; readonly familyId: string };

/** Microseconds of 2025-01-01T00:00:00Z, the creation time of fake users. */
export const FAKE_CREATED_US = 1_735_689_600_000_000n;

export function fakeUser(userId: string, role: Role, passwordHash: string, extra: Partial<UserRecord> = {}): UserRecord {
  return { userId, role, email: null, passwordHash, createdAtUs: FAKE_CREATED_US, updatedAtUs: FAKE_CREATED_US, lockedUntilUs: 0n, credentialVersion: 1, ...extra };
}

export class FakeBackend implements Backend {
  readonly calls: BackendCall[] = [];
  readonly users = new Map<string, UserRecord>();
  /** Refresh families by id, as storage keeps them. */
  readonly families = new Map<string, { userId: string; jti: string; credentialVersion: number; revoked: boolean }>();
  closed = false;
  /** Answers Storage.Query; default: one row with the SQL text. */
  onQuery: (call: QueryCall) => Promise<string> = async (call) =>
    JSON.stringify({ schema: [{ name: 'sql', data_type: 'Text', index: 0 }], rows: [[call.sql]], row_count: 1, as_user: call.asUser || call.caller.userId });
  /** Answers Write.Execute; default: a one-row DML result. */
  onExecute: (call: ExecuteCall) => Promise<string> = async (call) => JSON.stringify({ row_count: 1, message: 'Inserted 1 row(s)', as_user: call.caller.userId });
  /** Thrown by getUser/getCredentials/recordLogin/setup/needsSetup when set (e.g. UNAVAILABLE). */
  failure: ProtocolError | undefined;

  query(call: QueryCall): Promise<string> {
    this.calls.push({ method: 'query', call });
    return this.onQuery(call);
  }

  execute(call: ExecuteCall): Promise<string> {
    this.calls.push({ method: 'execute', call });
    return this.onExecute(call);
  }

  async getUser(userId: string): Promise<UserRecord | undefined> {
    this.calls.push({ method: 'getUser', userId });
    this.#maybeFail();
    return this.users.get(userId);
  }

  async getCredentials(userIds: readonly string[]): Promise<ReadonlyMap<string, UserCredentials>> {
    this.calls.push({ method: 'getCredentials', userIds });
    this.#maybeFail();
    const found = new Map<string, UserCredentials>();
    for (const id of userIds) {
      const user = this.users.get(id);
      if (user !== undefined) found.set(id, { role: user.role, version: user.credentialVersion });
    }
    return found;
  }

  async recordLogin(userId: string, success: boolean, policy: LoginPolicy): Promise<void> {
    this.calls.push({ method: 'recordLogin', userId, success, policy });
    this.#maybeFail();
  }

  async setup(user: { readonly userId: string; readonly passwordHash: string; readonly email: string | null }): Promise<UserRecord> {
    this.calls.push({ method: 'setup', ...user });
    this.#maybeFail();
    if ([...this.users.values()].some((u) => u.role === 'dba' || u.role === 'system')) throw new ProtocolError('PERMISSION_DENIED', 'setup is already done: a DBA exists');
    const created = fakeUser(user.userId, 'dba', user.passwordHash, { email: user.email });
    this.users.set(user.userId, created);
    return created;
  }

  async needsSetup(): Promise<boolean> {
    this.calls.push({ method: 'needsSetup' });
    this.#maybeFail();
    return ![...this.users.values()].some((u) => u.role === 'dba' || u.role === 'system');
  }

  async startRefreshFamily(start: RefreshFamilyStart): Promise<UserRecord> {
    this.calls.push({ method: 'startRefreshFamily', start });
    this.#maybeFail();
    const user = this.users.get(start.userId);
    if (user === undefined || user.credentialVersion !== start.credentialVersion) throw new ProtocolError('INVALID_CREDENTIALS', 'invalid refresh token');
    this.families.set(start.familyId, { userId: start.userId, jti: start.jti, credentialVersion: start.credentialVersion, revoked: false });
    return user;
  }

  async rotateRefresh(rotation: RefreshRotation): Promise<UserRecord> {
    this.calls.push({ method: 'rotateRefresh', rotation });
    this.#maybeFail();
    const family = this.families.get(rotation.familyId);
    const user = this.users.get(rotation.userId);
    if (family === undefined || family.revoked || family.userId !== rotation.userId || user === undefined) throw new ProtocolError('INVALID_CREDENTIALS', 'invalid refresh token');
    if (family.jti !== rotation.jti || family.credentialVersion !== user.credentialVersion) {
      family.revoked = true;
      throw new ProtocolError('INVALID_CREDENTIALS', 'invalid refresh token');
    }
    family.jti = rotation.nextJti;
    return user;
  }

  async revokeRefreshFamily(userId: string, familyId: string): Promise<void> {
    this.calls.push({ method: 'revokeRefreshFamily', userId, familyId });
    this.#maybeFail();
    const family = this.families.get(familyId);
    if (family?.userId === userId) family.revoked = true;
  }

  close(): void {
    this.closed = true;
  }

  #maybeFail(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
