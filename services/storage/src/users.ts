// Users for the gateway's authentication: look-up with the password hash and credential
// version, login outcomes (consecutive failures lock the account for a while; locking moves
// the credential version, so the account's tokens end), first-run setup of the first DBA
// (never over an existing or dropped user's name), and refresh-token families:
//
//   start   login: a family row with the id of its current token, bound to the credential
//           version the login read (refused if it moved on meanwhile)
//   rotate  refresh: the presented id must be the family's current one and the family's
//           version the user's; then the next id becomes current. An id that is not current
//           (a stolen or replayed token) revokes the family for good; so does a version that
//           moved on. Every refusal is the same INVALID_CREDENTIALS for the client.
//   revoke  logout: the family is over.
import { ProtocolError } from '@seqline/protocol';
import type { storagePb } from '@seqline/proto';
import { USER_ID_PATTERN } from '@seqline/domain';
import type { Sql, TransactionSql } from 'postgres';

interface UserRow {
  user_id: string;
  role: string;
  email: string | null;
  password_hash: string;
  created_us: string;
  updated_us: string;
  locked_us: string | null;
  failed_logins: number;
  credential_version: string;
}

const COLUMNS = 'user_id, role, email, password_hash, failed_logins, credential_version, (extract(epoch from created_at) * 1e6)::bigint AS created_us, (extract(epoch from updated_at) * 1e6)::bigint AS updated_us, (extract(epoch from locked_until) * 1e6)::bigint AS locked_us';

const NOT_FOUND: storagePb.UserRecord = { found: false, userId: '', role: '', email: '', passwordHash: '', createdAtUs: 0n, updatedAtUs: 0n, lockedUntilUs: 0n, failedLogins: 0, credentialVersion: 0n };

function record(row: UserRow | undefined): storagePb.UserRecord {
  if (row === undefined) return NOT_FOUND;
  return {
    found: true,
    userId: row.user_id,
    role: row.role,
    email: row.email ?? '',
    passwordHash: row.password_hash,
    createdAtUs: BigInt(row.created_us),
    updatedAtUs: BigInt(row.updated_us),
    lockedUntilUs: row.locked_us === null ? 0n : BigInt(row.locked_us),
    failedLogins: row.failed_logins,
    credentialVersion: BigInt(row.credential_version),
  };
}

export async function getUser(sql: Sql, userId: string): Promise<storagePb.UserRecord> {
  const rows = await sql.unsafe<UserRow[]>(`SELECT ${COLUMNS} FROM seqline.users WHERE user_id = $1`, [userId]);
  return record(rows[0]);
}

/**
 * The role and credential version of each of `userIds` that exists (the gateways' re-check of
 * many users at once; docs/architecture.md §5). One statement for all of them.
 */
export async function getCredentials(sql: Sql, userIds: readonly string[]): Promise<storagePb.GetCredentialsResponse> {
  if (userIds.length === 0) return { users: [] };
  const rows = await sql.unsafe<{ user_id: string; role: string; credential_version: string }[]>('SELECT user_id, role, credential_version FROM seqline.users WHERE user_id = ANY($1::text[])', [userIds as string[]]);
  return { users: rows.map((r) => ({ userId: r.user_id, role: r.role, credentialVersion: BigInt(r.credential_version) })) };
}

/**
 * Records a login outcome. A failure that reaches the limit locks the account and moves its
 * credential version (`locked` says so, for the caller to announce); failures while locked
 * only count (the lock is not extended, so an attacker cannot keep an account locked longer).
 */
export async function recordLogin(sql: Sql, req: storagePb.RecordLoginRequest): Promise<{ user: storagePb.UserRecord; locked: boolean }> {
  if (req.success) {
    const rows = await sql.unsafe<UserRow[]>(`UPDATE seqline.users SET failed_logins = 0, locked_until = NULL WHERE user_id = $1 RETURNING ${COLUMNS}`, [req.userId]);
    return { user: record(rows[0]), locked: false };
  }
  const rows = await sql.unsafe<(UserRow & { newly_locked: boolean })[]>(
    `WITH prior AS (
       SELECT user_id AS id, (locked_until IS NULL OR locked_until <= now()) AND failed_logins + 1 >= $2 AS to_lock FROM seqline.users WHERE user_id = $1 FOR UPDATE)
     UPDATE seqline.users u SET failed_logins = failed_logins + 1,
       locked_until = CASE WHEN prior.to_lock THEN now() + make_interval(secs => $3::double precision / 1000) ELSE locked_until END,
       credential_version = credential_version + CASE WHEN prior.to_lock THEN 1 ELSE 0 END
     FROM prior WHERE u.user_id = prior.id RETURNING ${COLUMNS}, prior.to_lock AS newly_locked`,
    [req.userId, req.maxFailures, req.lockoutMs],
  );
  return { user: record(rows[0]), locked: rows[0]?.newly_locked === true };
}

export async function needsSetup(sql: Sql): Promise<boolean> {
  const rows = await sql`SELECT 1 FROM seqline.users WHERE role IN ('dba', 'system') LIMIT 1`;
  return rows.length === 0;
}

/** Creates the first DBA; refuses once any dba (or system) user exists, and never takes over an existing or dropped user's name. */
export async function setup(sql: Sql, req: storagePb.SetupRequest): Promise<storagePb.UserRecord> {
  if (!USER_ID_PATTERN.test(req.userId) || req.userId.startsWith('_')) throw new ProtocolError('INVALID_INPUT', `invalid user name ${JSON.stringify(req.userId)}`);
  if (!req.passwordHash.startsWith('scrypt$')) throw new ProtocolError('INVALID_INPUT', 'password hash must be an scrypt hash');
  return sql.begin(async (tx) => {
    await tx`LOCK TABLE seqline.users IN SHARE ROW EXCLUSIVE MODE`;
    const admins = await tx`SELECT 1 FROM seqline.users WHERE role IN ('dba', 'system') LIMIT 1`;
    if (admins.length > 0) throw new ProtocolError('PERMISSION_DENIED', 'setup is already done: a DBA exists');
    await refuseDroppedName(tx, req.userId);
    const rows = await tx.unsafe<UserRow[]>(
      `INSERT INTO seqline.users (user_id, password_hash, role, email) VALUES ($1, $2, 'dba', $3) ON CONFLICT (user_id) DO NOTHING RETURNING ${COLUMNS}`,
      [req.userId, req.passwordHash, req.email === '' ? null : req.email],
    );
    if (rows[0] === undefined) throw new ProtocolError('SQL_EXECUTION_ERROR', `user ${req.userId} already exists; choose another name for the first DBA`);
    return record(rows[0]);
  });
}

/**
 * A dropped user's name is never given out again: their rows stay in USER tables (and their
 * changes in the change log) under `_user_id` = the name, so a new user of that name would
 * inherit them. Purging on drop cannot be atomic across PostgreSQL and JetStream; refusing is.
 */
export async function refuseDroppedName(sql: Sql | TransactionSql, userId: string): Promise<void> {
  const rows = await sql`SELECT 1 FROM seqline.dropped_users WHERE user_id = ${userId}`;
  if (rows.length > 0) throw new ProtocolError('SQL_EXECUTION_ERROR', `user name ${userId} belonged to a dropped user whose rows remain; choose another name`);
}

const REFUSED = (): ProtocolError => new ProtocolError('INVALID_CREDENTIALS', 'invalid refresh token');

export async function startRefreshFamily(sql: Sql, req: storagePb.StartRefreshFamilyRequest): Promise<storagePb.UserRecord> {
  const rows = await sql`
    INSERT INTO seqline.refresh_families (family_id, user_id, current_jti, credential_version, expires_at)
    SELECT ${req.familyId}, user_id, ${req.jti}, credential_version, to_timestamp(${String(req.expiresAtS)}::bigint)
    FROM seqline.users WHERE user_id = ${req.userId} AND credential_version = ${String(req.credentialVersion)}::bigint
    RETURNING family_id`;
  if (rows.length === 0) throw REFUSED();
  return getUser(sql, req.userId);
}

type Rotation = 'rotated' | 'refused';

export async function rotateRefresh(sql: Sql, req: storagePb.RotateRefreshRequest): Promise<storagePb.UserRecord> {
  const outcome = await sql.begin(async (tx): Promise<Rotation> => {
    const [family] = await tx<{ current_jti: string; revoked: boolean; current: boolean }[]>`
      SELECT f.current_jti, f.revoked, f.credential_version = u.credential_version AS current
      FROM seqline.refresh_families f JOIN seqline.users u ON u.user_id = f.user_id
      WHERE f.family_id = ${req.familyId} AND f.user_id = ${req.userId} FOR UPDATE OF f`;
    if (family === undefined || family.revoked) return 'refused';
    if (family.current_jti !== req.jti || !family.current) {
      // A token of the family that is not its current one was presented again: whoever holds
      // the family (the user or a thief) must log in again.
      await tx`UPDATE seqline.refresh_families SET revoked = true, updated_at = now() WHERE family_id = ${req.familyId}`;
      return 'refused';
    }
    await tx`UPDATE seqline.refresh_families SET current_jti = ${req.nextJti}, expires_at = to_timestamp(${String(req.expiresAtS)}::bigint), updated_at = now() WHERE family_id = ${req.familyId}`;
    return 'rotated';
  });
  if (outcome === 'refused') throw REFUSED();
  return getUser(sql, req.userId);
}

export async function revokeRefreshFamily(sql: Sql, req: storagePb.RevokeRefreshFamilyRequest): Promise<storagePb.RevokeRefreshFamilyResponse> {
  await sql`UPDATE seqline.refresh_families SET revoked = true, updated_at = now() WHERE family_id = ${req.familyId} AND user_id = ${req.userId}`;
  return {};
}
