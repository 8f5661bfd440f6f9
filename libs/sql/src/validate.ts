// Who may read, write and act as whom (docs/protocol.md §3 "Roles", "EXECUTE AS USER"), and the
// checks a write passes before it becomes an op (docs/architecture.md §3 step 2). Storage repeats the
// statement checks when it plans the op (dml.ts), against the catalog it applies with.
//
// Decisions:
// - EXECUTE AS: system may act as anyone, dba as dba/service/user, service as service/user,
//   a user only as itself. The role matrix alone cannot see "itself": checkExecuteAs allows
//   user→user and relies on the caller passing both ids (or comparing them itself, as the
//   write service does). Acting as one's own id is allowed for every role.
// - A SHARED table is written by service, dba and system, and a DBA-level one only by dba and
//   system: a write returns rows (RETURNING), so writing needs the right to read.
// - resolveOwner ignores the EXECUTE AS target for SHARED tables: they have one partition.
import { ADMIN_ROLES, ROLES, SHARED_OWNER, type Actor, type Catalog, type Role, type TableDef } from '@seqline/domain';
import { SqlError } from './errors.js';
import { checkDml } from './dml-check.js';
import type { Statement } from './types.js';

type DmlStatement = Extract<Statement, { kind: 'insert' | 'update' | 'delete' }>;

/** The partition a write goes to: the acting (or EXECUTE AS) user, or the SHARED token. */
export function resolveOwner(table: TableDef, actor: Actor, executeAsUser?: string): string {
  if (table.tableType === 'SHARED') return SHARED_OWNER;
  return executeAsUser ?? actor.userId;
}

const MAY_ACT_AS: Readonly<Record<Role, readonly Role[]>> = {
  system: ['system', 'dba', 'service', 'user'],
  dba: ['dba', 'service', 'user'],
  service: ['service', 'user'],
  user: ['user'],
};

/**
 * Throws PERMISSION_DENIED unless a `actorRole` may run statements as a `targetRole`. Pass
 * `ids` so a user acting as another user is refused here too.
 */
export function checkExecuteAs(actorRole: Role, targetRole: Role, ids?: { readonly actor: string; readonly target: string }): void {
  if (ids !== undefined && ids.actor === ids.target) return;
  if (actorRole === 'user' && ids !== undefined) throw new SqlError('PERMISSION_DENIED', 'permission denied: a user may only act as itself');
  if (!MAY_ACT_AS[actorRole].includes(targetRole)) {
    throw new SqlError('PERMISSION_DENIED', `permission denied: role ${actorRole} cannot act as a user with role ${targetRole}`);
  }
}

const READERS: Readonly<Record<TableDef['accessLevel'], readonly Role[]>> = {
  PUBLIC: ['user', 'service', ...ADMIN_ROLES],
  PRIVATE: ['service', ...ADMIN_ROLES],
  DBA: ADMIN_ROLES,
};

/** USER and STREAM tables: everyone reads their own partition. SHARED: by access level. */
export function mayRead(table: TableDef, actor: Actor): boolean {
  return table.tableType !== 'SHARED' || READERS[table.accessLevel].includes(actor.role);
}

/** PERMISSION_DENIED unless `mayRead`. */
export function checkReadAccess(table: TableDef, actor: Actor): void {
  if (!mayRead(table, actor)) {
    throw new SqlError('PERMISSION_DENIED', `permission denied: table ${table.namespace}.${table.name} is ${table.accessLevel}`);
  }
}

/** USER and STREAM tables: any role (its own or the EXECUTE AS partition). SHARED: see above. */
export function checkWriteAccess(table: TableDef, actor: Actor): void {
  if (table.tableType !== 'SHARED') return;
  const name = `${table.namespace}.${table.name}`;
  if (actor.role === 'user') throw new SqlError('PERMISSION_DENIED', `permission denied: table ${name} is SHARED; only service, dba and system write it`);
  checkReadAccess(table, actor);
}

/**
 * The table a write targets, after every check that needs no parameters: the table exists,
 * the actor may write it, and the statement is a supported INSERT/UPDATE/DELETE over its
 * columns (dml-check.ts).
 */
export function validateWrite(stmt: DmlStatement, catalog: Catalog, actor: Actor): TableDef {
  const { namespace, name } = stmt.table;
  const table = catalog.table(namespace, name);
  if (table === undefined) throw new SqlError('TABLE_NOT_FOUND', `table ${namespace}.${name} does not exist`);
  checkWriteAccess(table, actor);
  checkDml(stmt, table);
  return table;
}

/**
 * The actor an `EXECUTE AS USER 'x'` runs as: x with its own role, if x exists (`targetRole`
 * undefined = no such user) and the caller may act as it (checkExecuteAs with both ids, so a
 * plain user may only act as itself).
 */
export function actAs(caller: Actor, userId: string, targetRole: string | undefined): Actor {
  const role = ROLES.find((r) => r === targetRole);
  if (role === undefined) throw new SqlError('PERMISSION_DENIED', `cannot act as user ${userId}: no such user`);
  checkExecuteAs(caller.role, role, { actor: caller.userId, target: userId });
  return { userId, role };
}
