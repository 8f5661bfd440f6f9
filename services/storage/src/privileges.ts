// Least privilege (issue 10, docs/operations.md "Production PostgreSQL"). Storage runs as a
// runtime role that is neither a superuser nor BYPASSRLS: it owns the meta schema, the namespace
// schemas and their tables (so it runs DDL and migrations), and is a member of two NOLOGIN roles
// it switches to inside a transaction: seqline_reader for user queries and seqline_writer for
// every op, both held to their rows by row-level security (libs/sql ddl.ts).
//
// Dangerous built-ins (files, large objects, functions that run a query text, advisory locks,
// sleeps, notifications, signalling backends, set_config, …) are not executable by PUBLIC in the
// database, so neither role can call them whatever a statement contains; the runtime role gets
// back only what storage itself calls. `current_setting` stays: policies run as the querying role.
//
// bootstrapPrivileges runs once at start-up over the optional privileged URL
// (SEQLINE_POSTGRES_ADMIN_URL) and makes all of that true; sessionProblems then verifies, over
// the runtime URL, that it is true, and storage refuses to start (a configuration error, exit
// 78) when it is not.
import type { Sql, TransactionSql } from 'postgres';
import postgres from 'postgres';
import { ConfigError } from '@seqline/runtime';
import { quoteIdent, quoteLiteral, READER_ROLE, WRITER_ROLE } from '@seqline/sql';

/** Names of built-ins revoked from PUBLIC: every overload of each, found in pg_proc. */
export const DANGEROUS_FUNCTIONS = new RegExp(
  '^(' +
    [
      'pg_read_file', 'pg_read_binary_file', 'pg_stat_file', 'pg_ls_.*', 'pg_file_.*', 'pg_logdir_ls',
      'lo_.*', 'loread', 'lowrite',
      'ts_stat', 'ts_rewrite', '(query|cursor|table|schema|database)_to_xml.*', 'dblink.*',
      'pg_(try_)?advisory_.*', 'pg_sleep.*', 'pg_notify', 'pg_listening_channels', 'pg_notification_queue_usage',
      'pg_cancel_backend', 'pg_terminate_backend', 'pg_reload_conf', 'pg_rotate_logfile.*', 'pg_current_logfile',
      'pg_log_backend_memory_contexts', 'pg_stat_reset.*', 'pg_switch_wal', 'pg_create_restore_point', 'pg_promote',
      'pg_(start|stop)_backup', 'pg_backup_(start|stop)', 'pg_export_snapshot', 'pg_import_system_collations',
      'pg_replication_origin_.*', 'pg_(create|drop|copy)_.*replication_slot', 'pg_replication_slot_advance', 'pg_logical_.*',
      'pg_wal_replay_(pause|resume)', 'set_config',
    ].join('|') +
    ')$',
);

/** What storage itself calls among them, granted back to the runtime role only. */
export const RUNTIME_FUNCTIONS = ['pg_catalog.set_config(text, text, boolean)', 'pg_catalog.pg_advisory_xact_lock(bigint)', 'pg_catalog.pg_try_advisory_lock(integer, integer)'] as const;

/** A runtime role name we create and quote ourselves. */
const ROLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function runtimeRole(runtimeUrl: string): { name: string; password: string } {
  const url = new URL(runtimeUrl);
  const name = decodeURIComponent(url.username);
  if (!ROLE_NAME.test(name)) throw new ConfigError([`SEQLINE_POSTGRES_URL: the user name must match ${ROLE_NAME.source} (got ${JSON.stringify(name)})`]);
  return { name, password: decodeURIComponent(url.password) };
}

/**
 * Over the privileged URL: creates the NOLOGIN roles and the runtime role (with the runtime
 * URL's password) if missing, makes the runtime role a member of both, gives it CREATE on the
 * database and ownership of what storage's schemas hold, and revokes the dangerous built-ins.
 * Idempotent; roles are cluster-wide, so concurrent start-ups on one cluster retry a collision.
 */
export async function bootstrapPrivileges(adminUrl: string, runtimeUrl: string): Promise<void> {
  const role = runtimeRole(runtimeUrl);
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {}, connection: { application_name: 'seqline-storage-bootstrap' } });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await bootstrapOnce(admin, role);
        return;
      } catch (err) {
        const e = err as { code?: string; message?: string };
        const collision = e.code === '23505' || e.code === '42710' || e.code === '40P01' || /tuple concurrently (updated|deleted)/.test(e.message ?? '');
        if (!collision || attempt >= 8) throw err;
      }
    }
  } finally {
    await admin.end({ timeout: 5 });
  }
}

async function bootstrapOnce(admin: Sql, role: { name: string; password: string }): Promise<void> {
  const runtime = quoteIdent(role.name);
  for (const nologin of [READER_ROLE, WRITER_ROLE]) {
    const [exists] = await admin`SELECT 1 FROM pg_roles WHERE rolname = ${nologin}`;
    if (exists === undefined) await admin.unsafe(`CREATE ROLE ${nologin} NOLOGIN`);
  }
  const [exists] = await admin<{ super: boolean; bypass: boolean }[]>`SELECT rolsuper AS super, rolbypassrls AS bypass FROM pg_roles WHERE rolname = ${role.name}`;
  if (exists?.super === true || exists?.bypass === true) {
    refuse([`SEQLINE_POSTGRES_URL: role ${JSON.stringify(role.name)} is a superuser or has BYPASSRLS; storage must run as a role with neither`]);
  }
  if (exists === undefined) await admin.unsafe(`CREATE ROLE ${runtime} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD ${quoteLiteral(role.password)}`);
  const [member] = await admin<{ ok: boolean }[]>`SELECT pg_has_role(${role.name}, ${READER_ROLE}, 'MEMBER') AND pg_has_role(${role.name}, ${WRITER_ROLE}, 'MEMBER') AS ok`;
  if (member?.ok !== true) await admin.unsafe(`GRANT ${READER_ROLE}, ${WRITER_ROLE} TO ${runtime}`);
  await admin.begin(async (tx) => {
    const [db] = await tx<{ name: string }[]>`SELECT current_database() AS name`;
    await tx.unsafe(`GRANT CONNECT, CREATE ON DATABASE ${quoteIdent(db!.name)} TO ${runtime}`);
    await reassign(tx, role.name);
    await tx.unsafe(revokeBuiltinsSql());
    for (const fn of RUNTIME_FUNCTIONS) await tx.unsafe(`GRANT EXECUTE ON FUNCTION ${fn} TO ${runtime}`);
  });
}

/** Hands storage's schemas, and what they hold, to the runtime role (older data dirs were created by a superuser). */
async function reassign(tx: TransactionSql, role: string): Promise<void> {
  const [meta] = await tx<{ ok: boolean }[]>`SELECT to_regclass('seqline.namespaces') IS NOT NULL AS ok`;
  const namespaces = meta?.ok === true ? (await tx<{ name: string }[]>`SELECT name FROM seqline.namespaces`).map((r) => r.name) : [];
  const schemas = (await tx<{ name: string }[]>`SELECT nspname AS name FROM pg_namespace WHERE nspname = ANY(${['seqline', ...namespaces]})`).map((r) => r.name);
  const to = `OWNER TO ${quoteIdent(role)}`;
  for (const s of schemas) await tx.unsafe(`ALTER SCHEMA ${quoteIdent(s)} ${to}`);
  // Tables first: a sequence owned by a column follows its table.
  for (const [kinds, what] of [[['r', 'p', 'f'], 'TABLE'], [['v'], 'VIEW'], [['m'], 'MATERIALIZED VIEW'], [['S'], 'SEQUENCE']] as const) {
    const rows = await tx<{ rel: string }[]>`
      SELECT c.oid::regclass::text AS rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY(${schemas}) AND c.relkind = ANY(${kinds}) AND pg_get_userbyid(c.relowner) <> ${role}`;
    for (const r of rows) await tx.unsafe(`ALTER ${what} ${r.rel} ${to}`);
  }
}

/** REVOKE EXECUTE … FROM PUBLIC on every overload of every DANGEROUS_FUNCTIONS name, in any schema. */
export function revokeBuiltinsSql(): string {
  return `DO $seqline$
    DECLARE f regprocedure;
    BEGIN
      FOR f IN SELECT p.oid::regprocedure FROM pg_proc p WHERE p.proname ~ ${quoteLiteral(DANGEROUS_FUNCTIONS.source)} LOOP
        EXECUTE format('REVOKE EXECUTE ON ROUTINE %s FROM PUBLIC', f);
      END LOOP;
    END $seqline$`;
}

/**
 * Over the runtime URL: what is wrong with the session. `privileged`: it is a superuser or
 * BYPASSRLS (never acceptable); `setup`: it cannot become the reader and the writer, or those
 * may run set_config or sleep (the built-ins were not revoked).
 */
export async function sessionProblems(sql: Sql): Promise<{ privileged: string[]; setup: string[] }> {
  const [s] = await sql<{ user: string; super: boolean; bypass: boolean; reader: boolean; writer: boolean; exposed: boolean }[]>`
    SELECT current_user AS user, r.rolsuper AS super, r.rolbypassrls AS bypass,
           coalesce((SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = ${READER_ROLE}), false) AS reader,
           coalesce((SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = ${WRITER_ROLE}), false) AS writer,
           EXISTS (SELECT 1 FROM pg_roles w WHERE w.rolname IN (${READER_ROLE}, ${WRITER_ROLE})
                   AND (has_function_privilege(w.oid, 'pg_catalog.set_config(text, text, boolean)', 'EXECUTE')
                        OR has_function_privilege(w.oid, 'pg_catalog.pg_sleep(double precision)', 'EXECUTE'))) AS exposed
    FROM pg_roles r WHERE r.rolname = current_user`;
  const name = JSON.stringify(s?.user);
  const privileged: string[] = [];
  const setup: string[] = [];
  if (s?.super === true) privileged.push(`SEQLINE_POSTGRES_URL: role ${name} is a superuser; storage must run as a role without SUPERUSER`);
  if (s?.bypass === true) privileged.push(`SEQLINE_POSTGRES_URL: role ${name} has BYPASSRLS; storage must run as a role without it`);
  if (s?.reader !== true || s.writer !== true) setup.push(`SEQLINE_POSTGRES_URL: role ${name} must be a member of ${READER_ROLE} and ${WRITER_ROLE}`);
  if (s?.exposed === true) setup.push(`SEQLINE_POSTGRES_URL: ${READER_ROLE} or ${WRITER_ROLE} may execute set_config or pg_sleep; revoke the dangerous built-ins from PUBLIC`);
  return { privileged, setup };
}

/** Throws a ConfigError listing `problems`, if any, with the way out. */
export function refuse(problems: readonly string[]): void {
  if (problems.length === 0) return;
  throw new ConfigError([...problems, 'see "Production PostgreSQL" in docs/operations.md (or set SEQLINE_POSTGRES_ADMIN_URL to have storage make the roles and grants at start-up)']);
}
