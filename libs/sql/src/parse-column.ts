// One column of CREATE TABLE or ALTER TABLE … ADD COLUMN, from PostgreSQL's ColumnDef node:
// name, type, NULL / NOT NULL, PRIMARY KEY and DEFAULT (docs/protocol.md §3).
//
// Decisions:
// - UNIQUE, CHECK, REFERENCES, GENERATED, COLLATE, DEFERRABLE → UNSUPPORTED (the primary
//   key is the only constraint; the writer and storage enforce NOT NULL and the key).
// - A DEFAULT is a constant (folded to SQL with an explicit cast when the literal had one),
//   NOW() / CURRENT_TIMESTAMP (Timestamp, DateTime, Date, Time columns), SNOWFLAKE_ID()
//   (BigInt), UUID_V7() (Uuid, Text) or CURRENT_USER() / CURRENT_USER (Text).
import type { ColumnDef as PgColumnDef, Constraint, Node, TypeName } from 'libpg-query';
import { deparseSync } from 'pgsql-deparser';
import type { ColumnDef, ColumnDefault, DataType } from '@seqline/domain';
import { SqlError } from './errors.js';
import { checkName } from './parse-names.js';
import { dataTypeName, parseDataType, pgType } from './types-map.js';
import { SYSTEM_COLUMNS } from './types.js';

export interface ParsedColumn {
  readonly column: ColumnDef;
  /** NULL was written explicitly (conflicts with PRIMARY KEY). */
  readonly explicitNull: boolean;
}

/** Tells whether the type at a byte location was written as a bare FLOAT (PostgreSQL reads float8). */
export type BareFloatAt = (location: number) => boolean;

const SYSTEM_NAMES = new Set<string>(Object.values(SYSTEM_COLUMNS));

export function checkColumnName(name: string | undefined): string {
  const checked = checkName('column', name ?? '');
  if (SYSTEM_NAMES.has(checked.toLowerCase())) throw new SqlError('INVALID_SQL', `column name ${checked} is a reserved system column`);
  return checked;
}

export function columnOf(def: PgColumnDef, bareFloatAt: BareFloatAt): ParsedColumn {
  const name = checkColumnName(def.colname);
  if (def.collClause !== undefined) throw new SqlError('UNSUPPORTED', `COLLATE is not supported (column ${name})`);
  if (def.compression !== undefined || def.storage_name !== undefined) {
    throw new SqlError('UNSUPPORTED', `column storage options are not supported (column ${name})`);
  }
  const dataType = dataTypeOf(name, def.typeName, bareFloatAt);
  const { notNull, explicitNull, primaryKey, defaultExpr } = constraintsOf(name, def.constraints ?? []);
  const columnDefault = defaultExpr === undefined ? undefined : defaultOf(defaultExpr, name, dataType);
  if (notNull && columnDefault?.kind === 'literal' && columnDefault.sql === 'NULL') {
    throw new SqlError('INVALID_SQL', `column ${name} is NOT NULL but its DEFAULT is NULL`);
  }
  const column: ColumnDef = { name, dataType, notNull, primaryKey, ...(columnDefault === undefined ? {} : { default: columnDefault }) };
  return { column, explicitNull };
}

interface ColumnConstraints {
  notNull: boolean;
  explicitNull: boolean;
  primaryKey: boolean;
  defaultExpr?: Node;
}

function constraintsOf(name: string, nodes: readonly Node[]): ColumnConstraints {
  const found: ColumnConstraints = { notNull: false, explicitNull: false, primaryKey: false };
  for (const node of nodes) {
    const c = 'Constraint' in node ? node.Constraint : undefined;
    switch (c?.contype) {
      case 'CONSTR_NOTNULL':
        found.notNull = true;
        break;
      case 'CONSTR_NULL':
        found.explicitNull = true;
        break;
      case 'CONSTR_PRIMARY':
        if (found.primaryKey) throw new SqlError('INVALID_SQL', `column ${name} has PRIMARY KEY twice`);
        found.primaryKey = true;
        break;
      case 'CONSTR_DEFAULT':
        if (found.defaultExpr !== undefined) throw new SqlError('INVALID_SQL', `column ${name} has more than one DEFAULT`);
        if (c.raw_expr !== undefined) found.defaultExpr = c.raw_expr;
        break;
      default:
        throw unsupportedConstraint(c, `column ${name}`);
    }
  }
  if (found.notNull && found.explicitNull) throw new SqlError('INVALID_SQL', `column ${name} is declared both NULL and NOT NULL`);
  return found;
}

/** UNSUPPORTED for a constraint other than NULL, NOT NULL, DEFAULT and PRIMARY KEY. */
export function unsupportedConstraint(c: Constraint | undefined, where: string): SqlError {
  const what: Partial<Record<string, string>> = {
    CONSTR_UNIQUE: 'UNIQUE constraints are not supported; the PRIMARY KEY is the only unique key',
    CONSTR_CHECK: 'CHECK constraints are not supported',
    CONSTR_FOREIGN: 'foreign keys (REFERENCES) are not supported',
    CONSTR_EXCLUSION: 'EXCLUDE constraints are not supported',
    CONSTR_IDENTITY: 'identity columns are not supported; use DEFAULT SNOWFLAKE_ID()',
    CONSTR_GENERATED: 'generated columns are not supported',
  };
  const message = what[c?.contype ?? ''] ?? 'constraint attributes (DEFERRABLE, INITIALLY, ENFORCED) are not supported';
  return new SqlError('UNSUPPORTED', `${message} (${where})`);
}

function dataTypeOf(column: string, t: TypeName | undefined, bareFloatAt: BareFloatAt): DataType {
  if (t === undefined) throw new SqlError('INVALID_SQL', `column ${column} needs a type`);
  if (t.arrayBounds !== undefined) throw new SqlError('INVALID_SQL', `column ${column}: array types are not supported`);
  const names = (t.names ?? []).map((n) => ('String' in n ? (n.String.sval ?? '') : ''));
  const typmods = (t.typmods ?? []).map((n) => {
    const value = 'A_Const' in n && n.A_Const.ival !== undefined ? (n.A_Const.ival.ival ?? 0) : undefined;
    if (value === undefined) throw new SqlError('INVALID_SQL', `column ${column}: type modifiers must be integers`);
    return value;
  });
  const written = t.location !== undefined && bareFloatAt(t.location) ? ['float'] : names;
  try {
    return parseDataType(written, typmods);
  } catch (err) {
    if (err instanceof SqlError) throw new SqlError(err.code, `column ${column}: ${err.message}`);
    throw err;
  }
}

const DEFAULT_HELP = 'use a constant, NOW(), CURRENT_TIMESTAMP, SNOWFLAKE_ID(), UUID_V7() or CURRENT_USER()';

const FUNCTION_DEFAULTS: Readonly<Record<string, Exclude<ColumnDefault['kind'], 'literal'>>> = {
  now: 'now',
  snowflake_id: 'snowflake_id',
  uuid_v7: 'uuid_v7',
  current_user: 'current_user',
};

const DEFAULT_TYPES: Readonly<Record<Exclude<ColumnDefault['kind'], 'literal'>, readonly DataType[]>> = {
  now: ['Timestamp', 'DateTime', 'Date', 'Time'],
  snowflake_id: ['BigInt'],
  uuid_v7: ['Uuid', 'Text'],
  current_user: ['Text'],
};

const KIND_NAMES: Readonly<Record<Exclude<ColumnDefault['kind'], 'literal'>, string>> = {
  now: 'NOW()',
  snowflake_id: 'SNOWFLAKE_ID()',
  uuid_v7: 'UUID_V7()',
  current_user: 'CURRENT_USER()',
};

export function defaultOf(expr: Node, column: string, dataType: DataType): ColumnDefault {
  const literal = literalSql(expr);
  if (literal !== undefined) return { kind: 'literal', sql: literal };
  const kind = functionKind(expr);
  if (kind === undefined) {
    throw new SqlError('INVALID_SQL', `DEFAULT ${shown(expr)} of column ${column} is not supported; ${DEFAULT_HELP}`);
  }
  if (!DEFAULT_TYPES[kind].includes(dataType)) {
    const types = DEFAULT_TYPES[kind].map(dataTypeName).join(', ');
    throw new SqlError('INVALID_SQL', `DEFAULT ${KIND_NAMES[kind]} of column ${column} needs a column of type ${types}`);
  }
  return { kind };
}

function functionKind(expr: Node): Exclude<ColumnDefault['kind'], 'literal'> | undefined {
  if ('SQLValueFunction' in expr) {
    const op = expr.SQLValueFunction.op;
    if (op === 'SVFOP_CURRENT_TIMESTAMP') return 'now';
    if (op === 'SVFOP_CURRENT_USER') return 'current_user';
    return undefined;
  }
  if (!('FuncCall' in expr)) return undefined;
  const f = expr.FuncCall;
  const names = f.funcname ?? [];
  const only = names.length === 1 && names[0] !== undefined && 'String' in names[0] ? names[0].String.sval : undefined;
  const plain =
    f.args === undefined && f.agg_order === undefined && f.agg_filter === undefined && f.over === undefined &&
    f.agg_star !== true && f.agg_distinct !== true && f.func_variadic !== true;
  return plain && only !== undefined ? FUNCTION_DEFAULTS[only.toLowerCase()] : undefined;
}

/** SQL of a constant expression, or undefined if `expr` is not one. */
export function literalSql(expr: Node): string | undefined {
  if ('A_Const' in expr) return deparseSync(expr);
  if ('A_Expr' in expr) {
    const e = expr.A_Expr;
    const op = e.name?.length === 1 && e.name[0] !== undefined && 'String' in e.name[0] ? e.name[0].String.sval : undefined;
    const operand = e.rexpr === undefined ? undefined : literalSql(e.rexpr);
    if (e.kind !== 'AEXPR_OP' || e.lexpr !== undefined || (op !== '-' && op !== '+') || operand === undefined) return undefined;
    return `${op}(${operand})`;
  }
  if ('TypeCast' in expr) {
    const { arg, typeName } = expr.TypeCast;
    const inner = arg === undefined ? undefined : literalSql(arg);
    const cast = typeName === undefined ? undefined : castType(typeName);
    return inner === undefined || cast === undefined ? undefined : `${inner}::${cast}`;
  }
  return undefined;
}

// The cast of a typed literal, spelled for PostgreSQL (KalamDB names like DATETIME become
// timestamptz). A cast to a type no column can have makes no constant we accept.
function castType(t: TypeName): string | undefined {
  const names = (t.names ?? []).map((n) => ('String' in n ? (n.String.sval ?? '') : ''));
  const typmods = (t.typmods ?? []).map((n) => ('A_Const' in n ? (n.A_Const.ival?.ival ?? 0) : Number.NaN));
  if (t.arrayBounds !== undefined || typmods.some(Number.isNaN)) return undefined;
  try {
    return pgType(parseDataType(names, typmods));
  } catch {
    return undefined;
  }
}

function shown(expr: Node): string {
  try {
    return deparseSync(expr);
  } catch {
    return 'expression';
  }
}
