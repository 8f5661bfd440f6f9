// DDL and user management (docs/protocol.md §3), each statement applied in one PostgreSQL
// transaction together with the catalog row it changes and a catalog version bump, so the
// catalog and the physical schema never disagree. Permissions: namespace DDL needs dba; a
// user may create USER and STREAM tables; users are managed by dba/system (a user may change
// their own password); only system creates, changes or drops a system user. A password or
// role change moves the user's credential version (their tokens end); a dropped user's name
// is kept in seqline.dropped_users and cannot be created again (see users.ts).
import { ProtocolError, type DdlResult } from '@seqline/protocol';
import { hashPassword } from '@seqline/runtime';
import { isAdminRole, USER_ID_PATTERN, type Actor, type TableDef } from '@seqline/domain';
import { ddlSql, type Statement } from '@seqline/sql';
import type { Sql, TransactionSql } from 'postgres';
import type { CatalogCache } from './catalog.js';
import { refuseDroppedName } from './users.js';

type Ddl = Extract<Statement, { kind: 'create_namespace' | 'drop_namespace' | 'create_table' | 'alter_table_add_column' | 'alter_table_drop_column' | 'drop_table' }>;
type UserStmt = Extract<Statement, { kind: 'create_user' | 'alter_user' | 'drop_user' }>;

const MIN_PASSWORD = 8;
const isAdmin = (actor: Actor): boolean => isAdminRole(actor.role);
const fail = (message: string, code: 'SQL_EXECUTION_ERROR' | 'PERMISSION_DENIED' | 'TABLE_NOT_FOUND' | 'INVALID_INPUT' = 'SQL_EXECUTION_ERROR'): never => {
  throw new ProtocolError(code, message);
};

export interface AdminContext {
  readonly sql: Sql;
  readonly catalog: CatalogCache;
  readonly hashPartitions: number;
}

export async function runAdmin(ctx: AdminContext, stmt: Ddl | UserStmt, actor: Actor): Promise<DdlResult> {
  const message = await ctx.sql.begin(async (tx) => {
    const text = stmt.kind.endsWith('_user') ? await userStatement(tx, stmt as UserStmt, actor) : await ddlStatement(tx, ctx, stmt as Ddl, actor);
    if (!stmt.kind.endsWith('_user')) await tx`UPDATE seqline.catalog_version SET version = version + 1 WHERE id = 1`;
    return text;
  });
  await ctx.catalog.reload();
  return { row_count: 0, message };
}

async function ddlStatement(tx: TransactionSql, ctx: AdminContext, stmt: Ddl, actor: Actor): Promise<string> {
  const creatingUserTable = stmt.kind === 'create_table' && stmt.table.tableType !== 'SHARED';
  if (!isAdmin(actor) && !creatingUserTable) fail(`permission denied: ${stmt.kind.replace(/_/g, ' ')} needs the dba role`, 'PERMISSION_DENIED');
  const run = async (): Promise<void> => {
    for (const s of ddlSql(stmt, { hashPartitions: ctx.hashPartitions })) await tx.unsafe(s);
  };
  switch (stmt.kind) {
    case 'create_namespace': {
      const inserted = await tx`INSERT INTO seqline.namespaces (name) VALUES (${stmt.name}) ON CONFLICT DO NOTHING RETURNING name`;
      if (inserted.length === 0) return stmt.ifNotExists ? `Namespace ${stmt.name} already exists` : fail(`namespace ${stmt.name} already exists`);
      await run();
      return `Namespace ${stmt.name} created`;
    }
    case 'drop_namespace': {
      if (stmt.name === 'default') fail('the default namespace cannot be dropped');
      const exists = await tx`SELECT 1 FROM seqline.namespaces WHERE name = ${stmt.name} FOR UPDATE`;
      if (exists.length === 0) return stmt.ifExists ? `Namespace ${stmt.name} does not exist` : fail(`namespace ${stmt.name} does not exist`, 'TABLE_NOT_FOUND');
      const tables = await tx`SELECT name FROM seqline.tables WHERE namespace = ${stmt.name}`;
      if (tables.length > 0 && !stmt.cascade) fail(`namespace ${stmt.name} is not empty (${tables.length} table(s)); use DROP NAMESPACE ${stmt.name} CASCADE`);
      await tx`DELETE FROM seqline.tables WHERE namespace = ${stmt.name}`;
      await tx`DELETE FROM seqline.namespaces WHERE name = ${stmt.name}`;
      await run();
      return `Namespace ${stmt.name} dropped`;
    }
    case 'create_table':
      return createTable(tx, stmt.table, stmt.ifNotExists, run);
    case 'alter_table_add_column':
    case 'alter_table_drop_column':
      return alterTable(tx, stmt, run);
    case 'drop_table': {
      const { namespace, name } = stmt.table;
      const deleted = await tx`DELETE FROM seqline.tables WHERE namespace = ${namespace} AND name = ${name} RETURNING name`;
      if (deleted.length === 0) return stmt.ifExists ? `Table ${namespace}.${name} does not exist` : fail(`table ${namespace}.${name} does not exist`, 'TABLE_NOT_FOUND');
      await run();
      await tx`DELETE FROM seqline.heads WHERE subject LIKE ${`%.${namespace}.${name}`}`;
      return `Table ${namespace}.${name} dropped`;
    }
  }
}

async function createTable(tx: TransactionSql, table: TableDef, ifNotExists: boolean, run: () => Promise<void>): Promise<string> {
  const ns = await tx`SELECT 1 FROM seqline.namespaces WHERE name = ${table.namespace}`;
  if (ns.length === 0) fail(`namespace ${table.namespace} does not exist; create it with CREATE NAMESPACE ${table.namespace}`, 'TABLE_NOT_FOUND');
  const inserted = await tx`INSERT INTO seqline.tables (namespace, name, def) VALUES (${table.namespace}, ${table.name}, ${JSON.stringify(table)}::jsonb) ON CONFLICT DO NOTHING RETURNING name`;
  if (inserted.length === 0) return ifNotExists ? `Table ${table.namespace}.${table.name} already exists` : fail(`table ${table.namespace}.${table.name} already exists`);
  await run();
  return `Table ${table.namespace}.${table.name} created`;
}

async function alterTable(tx: TransactionSql, stmt: Extract<Ddl, { kind: 'alter_table_add_column' | 'alter_table_drop_column' }>, run: () => Promise<void>): Promise<string> {
  const { namespace, name } = stmt.table;
  const [row] = await tx<{ def: string }[]>`SELECT def FROM seqline.tables WHERE namespace = ${namespace} AND name = ${name} FOR UPDATE`;
  if (row === undefined) return fail(`table ${namespace}.${name} does not exist`, 'TABLE_NOT_FOUND');
  const def = JSON.parse(row.def) as TableDef;
  let columns = def.columns;
  if (stmt.kind === 'alter_table_add_column') {
    if (columns.some((c) => c.name === stmt.column.name)) fail(`column ${stmt.column.name} already exists in ${namespace}.${name}`);
    columns = [...columns, stmt.column];
  } else {
    if (stmt.column === def.primaryKey) fail(`column ${stmt.column} is the primary key of ${namespace}.${name} and cannot be dropped`);
    if (!columns.some((c) => c.name === stmt.column)) fail(`column ${stmt.column} does not exist in ${namespace}.${name}`);
    columns = columns.filter((c) => c.name !== stmt.column);
  }
  await tx`UPDATE seqline.tables SET def = ${JSON.stringify({ ...def, columns })}::jsonb, schema_version = schema_version + 1, updated_at = now() WHERE namespace = ${namespace} AND name = ${name}`;
  await run();
  return stmt.kind === 'alter_table_add_column' ? `Column ${stmt.column.name} added to ${namespace}.${name}` : `Column ${stmt.column} dropped from ${namespace}.${name}`;
}

async function userStatement(tx: TransactionSql, stmt: UserStmt, actor: Actor): Promise<string> {
  const self = stmt.name === actor.userId;
  const onlyOwnPassword = stmt.kind === 'alter_user' && self && stmt.role === undefined && stmt.email === undefined;
  if (!isAdmin(actor) && !onlyOwnPassword) fail('permission denied: managing users needs the dba role', 'PERMISSION_DENIED');
  if (!USER_ID_PATTERN.test(stmt.name) || stmt.name.startsWith('_')) fail(`invalid user name ${JSON.stringify(stmt.name)}: use letters, digits, _ and - (not starting with _)`, 'INVALID_INPUT');
  if ('role' in stmt && stmt.role === 'system' && actor.role !== 'system') fail('permission denied: only system may grant the system role', 'PERMISSION_DENIED');
  if ('password' in stmt && stmt.password !== undefined && stmt.password.length < MIN_PASSWORD) fail(`password must be at least ${MIN_PASSWORD} characters`, 'INVALID_INPUT');
  if (stmt.kind !== 'create_user' && !self && actor.role !== 'system') {
    const [target] = await tx<{ role: string }[]>`SELECT role FROM seqline.users WHERE user_id = ${stmt.name} FOR UPDATE`;
    if (target?.role === 'system') fail('permission denied: only system may change or drop a system user', 'PERMISSION_DENIED');
  }
  switch (stmt.kind) {
    case 'create_user': {
      await refuseDroppedName(tx, stmt.name);
      const hash = await hashPassword(stmt.password);
      const inserted = await tx`INSERT INTO seqline.users (user_id, password_hash, role, email) VALUES (${stmt.name}, ${hash}, ${stmt.role}, ${stmt.email ?? null}) ON CONFLICT DO NOTHING RETURNING user_id`;
      if (inserted.length === 0) fail(`user ${stmt.name} already exists`);
      return `User ${stmt.name} created`;
    }
    case 'alter_user': {
      const hash = stmt.password === undefined ? null : await hashPassword(stmt.password);
      const updated = await tx`UPDATE seqline.users SET password_hash = coalesce(${hash}, password_hash), role = coalesce(${stmt.role ?? null}, role), email = coalesce(${stmt.email ?? null}, email),
        credential_version = credential_version + CASE WHEN ${hash}::text IS NOT NULL OR role IS DISTINCT FROM coalesce(${stmt.role ?? null}, role) THEN 1 ELSE 0 END, updated_at = now()
        WHERE user_id = ${stmt.name} RETURNING user_id`;
      if (updated.length === 0) fail(`user ${stmt.name} does not exist`);
      return `User ${stmt.name} updated`;
    }
    case 'drop_user': {
      if (self) fail('you cannot drop yourself');
      const deleted = await tx`DELETE FROM seqline.users WHERE user_id = ${stmt.name} RETURNING user_id`;
      if (deleted.length === 0) return stmt.ifExists ? `User ${stmt.name} does not exist` : fail(`user ${stmt.name} does not exist`);
      await tx`INSERT INTO seqline.dropped_users (user_id) VALUES (${stmt.name}) ON CONFLICT DO NOTHING`;
      return `User ${stmt.name} dropped`;
    }
  }
}
