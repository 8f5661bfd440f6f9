// Table DDL from PostgreSQL's AST: CREATE TABLE (with KalamDB's table type and WITH options),
// ALTER TABLE … ADD [COLUMN] / DROP [COLUMN] (one action), DROP TABLE (one table).
//
// Decisions:
// - Plain CREATE TABLE is SHARED. ACCESS_LEVEL defaults to PUBLIC and matters for SHARED
//   tables only: USER and STREAM tables accept it (KalamDB scripts write it) but always store
//   PRIVATE, since each owner reads only their own rows. DELETED_RETENTION_HOURS defaults to 168.
//   TTL_SECONDS and DELETED_RETENTION_HOURS are whole numbers from 1 to 2147483647.
// - Table names ending in __p<n> or __seq are refused: the physical layout (ddl.ts) uses
//   those names for partitions and the _seq index.
// - ADD COLUMN takes a constant DEFAULT only (existing rows are filled with it) and needs one
//   for NOT NULL; ADD COLUMN IF NOT EXISTS, DROP COLUMN IF EXISTS and ALTER TABLE IF EXISTS
//   are UNSUPPORTED (the statements have no field for them). CASCADE is accepted and ignored:
//   nothing can depend on a table.
import type { AlterTableStmt, CreateStmt, DefElem, DropStmt, Node } from 'libpg-query';
import { ACCESS_LEVELS, TABLE_TYPES, type AccessLevel, type ColumnDef, type TableType } from '@seqline/domain';
import { SqlError } from './errors.js';
import { checkColumnName, columnOf, unsupportedConstraint, type BareFloatAt } from './parse-column.js';
import { checkUserNamespace, tableRefOf, tableRefOfNames } from './parse-names.js';
import type { Statement } from './types.js';

export interface TableContext {
  readonly defaultNamespace?: string | undefined;
  /** The type keyword of CREATE USER|SHARED|STREAM TABLE, if one was written. */
  readonly tableType?: TableType;
  readonly bareFloatAt: BareFloatAt;
}

export const DEFAULT_DELETED_RETENTION_HOURS = 168;
const PHYSICAL_SUFFIX = /__(p[0-9]+|seq)$/i;
const MAX_OPTION = 2147483647;

export function createTable(stmt: CreateStmt, ctx: TableContext): Statement {
  refuseCreateFeatures(stmt);
  const ref = tableRefOf(stmt.relation, ctx);
  checkUserNamespace(ref.namespace);
  if (PHYSICAL_SUFFIX.test(ref.name)) {
    throw new SqlError('INVALID_SQL', `table name ${ref.name} is reserved: names ending in __p<n> or __seq name partitions and indexes`);
  }
  const options = tableOptions(stmt.options ?? [], ctx.tableType);
  const { columns, primaryKey } = columnsOf(stmt.tableElts ?? [], ctx.bareFloatAt);
  return {
    kind: 'create_table',
    table: { namespace: ref.namespace, name: ref.name, ...options, columns, primaryKey },
    ifNotExists: stmt.if_not_exists === true,
  };
}

function refuseCreateFeatures(stmt: CreateStmt): void {
  const refused: [boolean, string][] = [
    [stmt.relation?.relpersistence === 't', 'TEMPORARY tables'],
    [stmt.relation?.relpersistence === 'u', 'UNLOGGED tables'],
    [stmt.inhRelations !== undefined, 'INHERITS'],
    [stmt.partspec !== undefined, 'PARTITION BY'],
    [stmt.partbound !== undefined, 'PARTITION OF'],
    [stmt.ofTypename !== undefined, 'CREATE TABLE … OF type'],
    [stmt.accessMethod !== undefined, 'CREATE TABLE … USING'],
    [stmt.tablespacename !== undefined, 'TABLESPACE'],
    [stmt.oncommit !== undefined && stmt.oncommit !== 'ONCOMMIT_NOOP', 'ON COMMIT'],
  ];
  const hit = refused.find(([is]) => is);
  if (hit !== undefined) throw new SqlError('UNSUPPORTED', `${hit[1]} ${hit[1].endsWith('tables') ? 'are' : 'is'} not supported`);
}

interface TableOptions {
  readonly tableType: TableType;
  readonly accessLevel: AccessLevel;
  readonly ttlSeconds?: number;
  readonly deletedRetentionHours: number;
}

function tableOptions(nodes: readonly Node[], keyword: TableType | undefined): TableOptions {
  const given = new Map<string, DefElem>();
  for (const node of nodes) {
    const d = 'DefElem' in node ? node.DefElem : undefined;
    const name = `${d?.defnamespace === undefined ? '' : `${d.defnamespace}.`}${d?.defname ?? ''}`.toLowerCase();
    if (d === undefined || !OPTION_NAMES.includes(name)) {
      throw new SqlError('INVALID_SQL', `unknown table option ${name.toUpperCase()}; supported: ${OPTION_NAMES.map((n) => n.toUpperCase()).join(', ')}`);
    }
    if (given.has(name)) throw new SqlError('INVALID_SQL', `table option ${name.toUpperCase()} is given twice`);
    given.set(name, d);
  }
  const typeOption = enumOption(given.get('type'), 'TYPE', TABLE_TYPES);
  if (keyword !== undefined && typeOption !== undefined && keyword !== typeOption) {
    throw new SqlError('INVALID_SQL', `CREATE ${keyword} TABLE conflicts with TYPE='${typeOption}'`);
  }
  const tableType = keyword ?? typeOption ?? 'SHARED';
  const access = enumOption(given.get('access_level'), 'ACCESS_LEVEL', ACCESS_LEVELS);
  const ttl = numberOption(given.get('ttl_seconds'), 'TTL_SECONDS');
  return {
    tableType,
    accessLevel: tableType === 'SHARED' ? (access ?? 'PUBLIC') : 'PRIVATE',
    ...(ttl === undefined ? {} : { ttlSeconds: ttl }),
    deletedRetentionHours: numberOption(given.get('deleted_retention_hours'), 'DELETED_RETENTION_HOURS') ?? DEFAULT_DELETED_RETENTION_HOURS,
  };
}

const OPTION_NAMES = ['type', 'access_level', 'ttl_seconds', 'deleted_retention_hours'];

// An option value as PostgreSQL's def_arg leaves it: a string, a bare word (String for
// reserved words like USER, a TypeName for other identifiers) or a number.
function optionText(d: DefElem): string | undefined {
  const arg = d.arg;
  if (arg === undefined) return undefined;
  if ('String' in arg) return arg.String.sval ?? '';
  if ('Integer' in arg) return String(arg.Integer.ival ?? 0);
  if ('Float' in arg) return arg.Float.fval ?? '';
  if ('TypeName' in arg && arg.TypeName.names?.length === 1 && arg.TypeName.typmods === undefined) {
    const [only] = arg.TypeName.names;
    return only !== undefined && 'String' in only ? only.String.sval : undefined;
  }
  return undefined;
}

function enumOption<T extends string>(d: DefElem | undefined, name: string, values: readonly T[]): T | undefined {
  if (d === undefined) return undefined;
  const text = optionText(d)?.toUpperCase();
  const value = values.find((v) => v === text);
  if (value === undefined) throw new SqlError('INVALID_SQL', `table option ${name} must be one of ${values.join(', ')}`);
  return value;
}

function numberOption(d: DefElem | undefined, name: string): number | undefined {
  if (d === undefined) return undefined;
  const text = optionText(d) ?? '';
  const value = /^[0-9]{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 1 && value <= MAX_OPTION)) {
    throw new SqlError('INVALID_SQL', `table option ${name} must be a whole number from 1 to ${MAX_OPTION}`);
  }
  return value;
}

function columnsOf(elements: readonly Node[], bareFloatAt: BareFloatAt): { columns: ColumnDef[]; primaryKey: string } {
  const columns: ColumnDef[] = [];
  const explicitNull = new Set<string>();
  const keyConstraints: string[][] = [];
  for (const el of elements) {
    if ('ColumnDef' in el) {
      const parsed = columnOf(el.ColumnDef, bareFloatAt);
      if (columns.some((c) => c.name === parsed.column.name)) throw new SqlError('INVALID_SQL', `column ${parsed.column.name} is defined twice`);
      if (parsed.explicitNull) explicitNull.add(parsed.column.name);
      columns.push(parsed.column);
    } else if ('Constraint' in el && el.Constraint.contype === 'CONSTR_PRIMARY') {
      keyConstraints.push((el.Constraint.keys ?? []).map((k) => ('String' in k ? (k.String.sval ?? '') : '')));
    } else if ('Constraint' in el) {
      throw unsupportedConstraint(el.Constraint, 'table constraint');
    } else {
      throw new SqlError('UNSUPPORTED', 'CREATE TABLE … (LIKE …) is not supported');
    }
  }
  const keyColumns = [...columns.filter((c) => c.primaryKey).map((c) => c.name), ...keyConstraints.flat()];
  const [primaryKey] = keyColumns;
  if (primaryKey === undefined || keyColumns.length !== 1) throw new SqlError('INVALID_SQL', 'a table needs exactly one PRIMARY KEY column');
  const index = columns.findIndex((c) => c.name === primaryKey);
  const key = columns[index];
  if (key === undefined) throw new SqlError('INVALID_SQL', `PRIMARY KEY column ${primaryKey} is not defined`);
  if (explicitNull.has(primaryKey)) throw new SqlError('INVALID_SQL', `PRIMARY KEY column ${primaryKey} cannot be NULL`);
  columns[index] = { ...key, primaryKey: true, notNull: true };
  return { columns, primaryKey };
}

export function alterTable(stmt: AlterTableStmt, ctx: TableContext): Statement {
  if (stmt.objtype !== 'OBJECT_TABLE') throw new SqlError('UNSUPPORTED', `statement ALTER ${words(stmt.objtype ?? '', 'OBJECT_')} is not supported`);
  if (stmt.missing_ok === true) throw new SqlError('UNSUPPORTED', 'ALTER TABLE IF EXISTS is not supported');
  const table = tableRefOf(stmt.relation, ctx);
  const cmds = stmt.cmds ?? [];
  const [first] = cmds;
  const cmd = first !== undefined && 'AlterTableCmd' in first ? first.AlterTableCmd : undefined;
  if (cmd === undefined || cmds.length !== 1) throw new SqlError('UNSUPPORTED', 'ALTER TABLE takes one action per statement');
  if (cmd.subtype === 'AT_AddColumn') {
    if (cmd.missing_ok === true) throw new SqlError('UNSUPPORTED', 'ADD COLUMN IF NOT EXISTS is not supported');
    const def = cmd.def !== undefined && 'ColumnDef' in cmd.def ? cmd.def.ColumnDef : undefined;
    if (def === undefined) throw new SqlError('INVALID_SQL', 'ADD COLUMN needs a column definition');
    return { kind: 'alter_table_add_column', table, column: addedColumn(columnOf(def, ctx.bareFloatAt).column) };
  }
  if (cmd.subtype === 'AT_DropColumn') {
    if (cmd.missing_ok === true) throw new SqlError('UNSUPPORTED', 'DROP COLUMN IF EXISTS is not supported');
    return { kind: 'alter_table_drop_column', table, column: checkColumnName(cmd.name) };
  }
  const action = ACTION_NAMES[cmd.subtype ?? ''] ?? words(cmd.subtype ?? '', 'AT_');
  throw new SqlError('UNSUPPORTED', `ALTER TABLE … ${action} is not supported; use ADD COLUMN or DROP COLUMN`);
}

const ACTION_NAMES: Partial<Record<string, string>> = {
  AT_AlterColumnType: 'ALTER COLUMN … TYPE',
  AT_ColumnDefault: 'ALTER COLUMN … SET/DROP DEFAULT',
  AT_SetNotNull: 'ALTER COLUMN … SET NOT NULL',
  AT_DropNotNull: 'ALTER COLUMN … DROP NOT NULL',
};

function addedColumn(column: ColumnDef): ColumnDef {
  if (column.primaryKey) throw new SqlError('INVALID_SQL', `ADD COLUMN cannot add a PRIMARY KEY (column ${column.name}); a table has exactly one`);
  if (column.default !== undefined && column.default.kind !== 'literal') {
    throw new SqlError('INVALID_SQL', `ADD COLUMN takes only a constant DEFAULT, which fills the existing rows (column ${column.name})`);
  }
  if (column.notNull && column.default === undefined) {
    throw new SqlError('INVALID_SQL', `ADD COLUMN ${column.name} NOT NULL needs a constant DEFAULT to fill the existing rows`);
  }
  return column;
}

export function dropTable(stmt: DropStmt, ctx: TableContext): Statement {
  if (stmt.removeType === 'OBJECT_SCHEMA') throw new SqlError('UNSUPPORTED', 'statement DROP SCHEMA is not supported; use DROP NAMESPACE');
  if (stmt.removeType !== 'OBJECT_TABLE') throw new SqlError('UNSUPPORTED', `statement DROP ${words(stmt.removeType ?? '', 'OBJECT_')} is not supported`);
  const objects = stmt.objects ?? [];
  const [only] = objects;
  if (only === undefined || objects.length !== 1 || !('List' in only)) throw new SqlError('UNSUPPORTED', 'DROP TABLE drops one table per statement');
  return { kind: 'drop_table', table: tableRefOfNames(only.List.items ?? [], ctx), ifExists: stmt.missing_ok === true };
}

/** `AT_EnableRowSecurity` → `ENABLE ROW SECURITY`, `OBJECT_MATVIEW` → `MATVIEW`. */
export function words(name: string, prefix: string): string {
  const bare = name.startsWith(prefix) ? name.slice(prefix.length) : name;
  if (bare === 'MATVIEW') return 'MATERIALIZED VIEW';
  return bare.includes('_') ? bare.replaceAll('_', ' ') : bare.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}
