// Versioned migrations of the `seqline` meta schema, run at start-up under an advisory lock so
// concurrent storage replicas apply each version exactly once. A migration is a list of
// statements run in one transaction with its version row. They run as storage's runtime role,
// which so owns what they create (privileges.ts).
import type { AccessLevel, TableType } from '@seqline/domain';
import { PURGE_POLICIES, quoteIdent, writerAccessSql, WRITER_POLICIES, WRITER_ROLE } from '@seqline/sql';
import type { Sql, TransactionSql } from 'postgres';

/** A statement, or a step that reads what is there and runs statements for it. */
type Step = string | ((tx: TransactionSql) => Promise<void>);

const MIGRATIONS: readonly (readonly Step[])[] = [
  [
    `CREATE TABLE seqline.namespaces (name text PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now())`,
    `INSERT INTO seqline.namespaces (name) VALUES ('default')`,
    `CREATE SCHEMA IF NOT EXISTS "default"`,
    `CREATE TABLE seqline.tables (
       namespace text NOT NULL REFERENCES seqline.namespaces (name),
       name text NOT NULL,
       def jsonb NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       purged_through_seq bigint NOT NULL DEFAULT 0,
       PRIMARY KEY (namespace, name))`,
    `CREATE TABLE seqline.catalog_version (id int PRIMARY KEY CHECK (id = 1), version bigint NOT NULL)`,
    `INSERT INTO seqline.catalog_version VALUES (1, 1)`,
    `CREATE TABLE seqline.users (
       user_id text PRIMARY KEY,
       password_hash text NOT NULL,
       role text NOT NULL CHECK (role IN ('user', 'service', 'dba', 'system')),
       email text,
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now(),
       failed_logins int NOT NULL DEFAULT 0,
       locked_until timestamptz)`,
    // Per shard: the fencing epoch of its current owner, the last applied op (stream
    // sequence) and the highest _seq written.
    `CREATE TABLE seqline.shards (shard int PRIMARY KEY, epoch bigint NOT NULL DEFAULT 0, owner text, watermark bigint NOT NULL DEFAULT 0, max_seq bigint NOT NULL DEFAULT 0)`,
    // Per change subject: the _seq of its last change (the next change's prev_seq).
    `CREATE TABLE seqline.heads (subject text PRIMARY KEY, seq bigint NOT NULL)`,
    `CREATE TABLE seqline.outbox (id bigserial PRIMARY KEY, shard int NOT NULL, subject text NOT NULL, seq bigint NOT NULL, payload bytea NOT NULL)`,
    `CREATE TABLE seqline.op_results (op_id text PRIMARY KEY, shard int NOT NULL, stream_seq bigint NOT NULL, result bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE INDEX op_results_created ON seqline.op_results (created_at)`,
    // Isolation layer 2: user queries run as seqline_reader, which only reads through RLS
    // policies. The roles, and the revoked built-ins (set_config among them: a user query must
    // not change the settings RLS reads), are made before migrations (privileges.ts).
    `GRANT USAGE ON SCHEMA "default" TO seqline_reader`,
    `REVOKE ALL ON SCHEMA seqline FROM PUBLIC`,
  ],
  // The system tables (libs/sql system-tables.ts): views readable by seqline_reader that admit
  // rows only to a dba or system session (the rewrite refuses everyone else first).
  [
    `CREATE VIEW seqline.system_users WITH (security_barrier) AS
       SELECT user_id, role, email, created_at, updated_at, locked_until FROM seqline.users
       WHERE current_setting('seqline.role', true) IN ('dba', 'system')`,
    `CREATE VIEW seqline.system_namespaces WITH (security_barrier) AS
       SELECT name AS namespace_id, created_at FROM seqline.namespaces
       WHERE current_setting('seqline.role', true) IN ('dba', 'system')`,
    `CREATE VIEW seqline.system_tables WITH (security_barrier) AS
       SELECT namespace || '.' || name AS table_id, namespace AS namespace_id, name AS table_name, def->>'tableType' AS table_type,
              def->>'accessLevel' AS access_level, def->>'primaryKey' AS primary_key, def->'columns' AS columns,
              (def->>'ttlSeconds')::bigint AS ttl_seconds, (def->>'deletedRetentionHours')::bigint AS deleted_retention_hours, created_at
       FROM seqline.tables
       WHERE current_setting('seqline.role', true) IN ('dba', 'system')`,
    `GRANT USAGE ON SCHEMA seqline TO seqline_reader`,
    `GRANT SELECT ON seqline.system_users, seqline.system_namespaces, seqline.system_tables TO seqline_reader`,
  ],
  // Ops are applied as seqline_writer (issue 10): its policies and grants on the tables made
  // before, and the purge's policies for the runtime role that owns them (libs/sql ddl.ts).
  [
    async (tx) => {
      for (const { name } of await tx<{ name: string }[]>`SELECT name FROM seqline.namespaces`) await tx.unsafe(`GRANT USAGE ON SCHEMA ${quoteIdent(name)} TO ${WRITER_ROLE}`);
      const tables = await tx<{ namespace: string; name: string; type: TableType; access: AccessLevel }[]>`
        SELECT namespace, name, def->>'tableType' AS type, coalesce(def->>'accessLevel', 'PUBLIC') AS access FROM seqline.tables`;
      for (const t of tables) {
        const table = `${quoteIdent(t.namespace)}.${quoteIdent(t.name)}`;
        for (const policy of [...Object.values(WRITER_POLICIES), ...Object.values(PURGE_POLICIES)]) await tx.unsafe(`DROP POLICY IF EXISTS ${quoteIdent(policy)} ON ${table}`);
        for (const s of writerAccessSql({ namespace: t.namespace, name: t.name, tableType: t.type, accessLevel: t.access })) await tx.unsafe(s);
      }
    },
  ],
  // Revocable authority (issue 10): each user's credential version (tokens carry it; DROP,
  // a role or password change and a lock move it), the refresh-token families (the id of each
  // family's current token; a reused older one revokes the family), and the names of dropped
  // users, which cannot be created again (their rows stay in USER tables under that name).
  [
    `ALTER TABLE seqline.users ADD COLUMN credential_version bigint NOT NULL DEFAULT 1`,
    `CREATE TABLE seqline.refresh_families (
       family_id text PRIMARY KEY,
       user_id text NOT NULL REFERENCES seqline.users (user_id) ON DELETE CASCADE,
       current_jti text NOT NULL,
       credential_version bigint NOT NULL,
       revoked boolean NOT NULL DEFAULT false,
       expires_at timestamptz NOT NULL,
       updated_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE INDEX refresh_families_user ON seqline.refresh_families (user_id)`,
    `CREATE INDEX refresh_families_expires ON seqline.refresh_families (expires_at)`,
    `CREATE TABLE seqline.dropped_users (user_id text PRIMARY KEY, dropped_at timestamptz NOT NULL DEFAULT now())`,
  ],
  // Schema introspection (SHOW NAMESPACES, SHOW TABLES, DESCRIBE; introspect.ts): each table's
  // schema version and last change, and views readable by seqline_reader that admit a table
  // only to the roles that may read it (libs/sql validate.ts mayRead, enforced again here) and
  // the namespaces to any signed-in role.
  [
    `ALTER TABLE seqline.tables ADD COLUMN schema_version int NOT NULL DEFAULT 1, ADD COLUMN updated_at timestamptz`,
    `CREATE VIEW seqline.schema_tables WITH (security_barrier) AS
       SELECT namespace, name, def, created_at, coalesce(updated_at, created_at) AS updated_at, schema_version FROM seqline.tables
       WHERE def->>'tableType' IS DISTINCT FROM 'SHARED' AND current_setting('seqline.role', true) IN ('user', 'service', 'dba', 'system')
          OR current_setting('seqline.role', true) IN ('dba', 'system')
          OR current_setting('seqline.role', true) = 'service' AND coalesce(def->>'accessLevel', 'PUBLIC') IN ('PUBLIC', 'PRIVATE')
          OR current_setting('seqline.role', true) = 'user' AND coalesce(def->>'accessLevel', 'PUBLIC') = 'PUBLIC'`,
    `CREATE VIEW seqline.schema_namespaces WITH (security_barrier) AS
       SELECT name, created_at FROM seqline.namespaces
       WHERE current_setting('seqline.role', true) IN ('user', 'service', 'dba', 'system')`,
    `GRANT SELECT ON seqline.schema_tables, seqline.schema_namespaces TO seqline_reader`,
  ],
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Applies every migration not yet applied (up to `target`, which only tests lower to make an
 * older database). Safe to run from several replicas at once: the advisory lock serializes one
 * database; roles are cluster-wide, so databases of one cluster migrating at the same moment
 * can still collide there, and that transaction is retried.
 */
export async function migrate(sql: Sql, target = MIGRATIONS.length): Promise<{ from: number; to: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(sql, target);
    } catch (err) {
      const e = err as { code?: string; message?: string };
      const collision = e.code === '23505' || /tuple concurrently updated/.test(e.message ?? '');
      if (!collision || attempt >= 5) throw err;
    }
  }
}

async function migrateOnce(sql: Sql, target: number): Promise<{ from: number; to: number }> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext('seqline.migrations'))`;
    await tx`CREATE SCHEMA IF NOT EXISTS seqline`;
    await tx`CREATE TABLE IF NOT EXISTS seqline.migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`;
    const [row] = await tx<{ v: number }[]>`SELECT coalesce(max(version), 0)::int AS v FROM seqline.migrations`;
    const from = row?.v ?? 0;
    for (let version = from + 1; version <= target; version++) {
      for (const step of MIGRATIONS[version - 1] ?? []) await (typeof step === 'string' ? tx.unsafe(step) : step(tx));
      await tx`INSERT INTO seqline.migrations (version) VALUES (${version})`;
    }
    return { from, to: Math.max(from, target) };
  });
}
