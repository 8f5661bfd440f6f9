// Users for the gateway's authentication: look-up with the password hash, login outcomes
// (consecutive failures lock the account for a while), and first-run setup of the first DBA.
import { ProtocolError } from '@seqline/protocol';
import type { storagePb } from '@seqline/proto';
import { USER_ID_PATTERN } from '@seqline/sql';
import type { Sql } from 'postgres';

interface UserRow {
  user_id: string;
  role: string;
  email: string | null;
  password_hash: string;
  created_us: string;
  updated_us: string;
  locked_us: string | null;
  failed_logins: number;
}

const COLUMNS = 'user_id, role, email, password_hash, failed_logins, (extract(epoch from created_at) * 1e6)::bigint AS created_us, (extract(epoch from updated_at) * 1e6)::bigint AS updated_us, (extract(epoch from locked_until) * 1e6)::bigint AS locked_us';

const NOT_FOUND: storagePb.UserRecord = { found: false, userId: '', role: '', email: '', passwordHash: '', createdAtUs: 0n, updatedAtUs: 0n, lockedUntilUs: 0n, failedLogins: 0 };

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
  };
}

export async function getUser(sql: Sql, userId: string): Promise<storagePb.UserRecord> {
  const rows = await sql.unsafe<UserRow[]>(`SELECT ${COLUMNS} FROM seqline.users WHERE user_id = $1`, [userId]);
  return record(rows[0]);
}

export async function recordLogin(sql: Sql, req: storagePb.RecordLoginRequest): Promise<storagePb.UserRecord> {
  const rows = req.success
    ? await sql.unsafe<UserRow[]>(`UPDATE seqline.users SET failed_logins = 0, locked_until = NULL WHERE user_id = $1 RETURNING ${COLUMNS}`, [req.userId])
    : await sql.unsafe<UserRow[]>(
        `UPDATE seqline.users SET failed_logins = failed_logins + 1,
           locked_until = CASE WHEN failed_logins + 1 >= $2 THEN now() + make_interval(secs => $3::double precision / 1000) ELSE locked_until END
         WHERE user_id = $1 RETURNING ${COLUMNS}`,
        [req.userId, req.maxFailures, req.lockoutMs],
      );
  return record(rows[0]);
}

export async function needsSetup(sql: Sql): Promise<boolean> {
  const rows = await sql`SELECT 1 FROM seqline.users WHERE role IN ('dba', 'system') LIMIT 1`;
  return rows.length === 0;
}

/** Creates the first DBA; refuses once any dba (or system) user exists. */
export async function setup(sql: Sql, req: storagePb.SetupRequest): Promise<storagePb.UserRecord> {
  if (!USER_ID_PATTERN.test(req.userId) || req.userId.startsWith('_')) throw new ProtocolError('INVALID_INPUT', `invalid user name ${JSON.stringify(req.userId)}`);
  if (!req.passwordHash.startsWith('scrypt$')) throw new ProtocolError('INVALID_INPUT', 'password hash must be an scrypt hash');
  return sql.begin(async (tx) => {
    await tx`LOCK TABLE seqline.users IN SHARE ROW EXCLUSIVE MODE`;
    const admins = await tx`SELECT 1 FROM seqline.users WHERE role IN ('dba', 'system') LIMIT 1`;
    if (admins.length > 0) throw new ProtocolError('PERMISSION_DENIED', 'setup is already done: a DBA exists');
    const rows = await tx.unsafe<UserRow[]>(
      `INSERT INTO seqline.users (user_id, password_hash, role, email) VALUES ($1, $2, 'dba', $3)
       ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = 'dba', email = EXCLUDED.email, updated_at = now()
       RETURNING ${COLUMNS}`,
      [req.userId, req.passwordHash, req.email === '' ? null : req.email],
    );
    return record(rows[0]);
  });
}
