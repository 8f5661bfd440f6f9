// The shape of a supported write (docs/protocol.md §3): INSERT … VALUES, UPDATE … SET … WHERE,
// DELETE … WHERE on one table, each with an optional RETURNING of plain column names. Checked
// once by the write service (validateWrite) and again by storage when it plans the op
// (planDml), which also resolves what must not depend on when the op is applied: CURRENT_USER
// and the clock (NOW(), CURRENT_TIMESTAMP…) become literals of the op.
//
// Rules: every column named exists and is a user column (_seq, _deleted, _user_id: INVALID_SQL),
// except that the WHERE of an UPDATE or DELETE may read `_seq` (storage's expiry of STREAM rows
// deletes `WHERE _seq < $1`, docs/architecture.md §2);
// no subqueries, ROW(…) or field selection anywhere; column references name a column of the
// target table (so `a.b` can never be PostgreSQL's function-call notation b(a));
// only allow-listed functions, none of them aggregates, window or
// read-only ones (random, gen_random_uuid, one-argument age); INSERT … SELECT, ON CONFLICT,
// WITH, UPDATE … FROM, DELETE … USING, multiple-column SET and updating the primary key are
// UNSUPPORTED. Column references become `"<table>"."<column>"`, the alias the plans use.
import type { ColumnDef, TableDef } from '@seqline/domain';
import { bodyOf, cloneAst, isBody, stringConst, typeCast, unsupported, intConst, type AstNode, type Body } from './ast.js';
import { SqlError } from './errors.js';
import { AGGREGATE_FUNCTIONS, READ_ONLY_FUNCTIONS, WINDOW_FUNCTIONS } from './functions.js';
import { ExprWalker } from './rewrite-expr.js';
import { SYSTEM_COLUMNS, type Statement } from './types.js';

type DmlStatement = Extract<Statement, { kind: 'insert' | 'update' | 'delete' }>;

/** An item of VALUES or a SET value: a checked expression, or DEFAULT. */
export type ValueItem = { readonly kind: 'expr'; readonly node: AstNode } | { readonly kind: 'default' };

export interface InsertShape {
  readonly kind: 'insert';
  /** The target columns, in the order the VALUES rows give them (empty for DEFAULT VALUES). */
  readonly columns: readonly ColumnDef[];
  readonly rows: readonly (readonly ValueItem[])[];
  readonly returning: readonly string[] | null;
  readonly maxParam: number;
}

export interface UpdateShape {
  readonly kind: 'update';
  readonly sets: readonly { readonly column: ColumnDef; readonly value: ValueItem }[];
  readonly where: AstNode | undefined;
  readonly returning: readonly string[] | null;
  readonly maxParam: number;
}

export interface DeleteShape {
  readonly kind: 'delete';
  readonly where: AstNode | undefined;
  readonly returning: readonly string[] | null;
  readonly maxParam: number;
}

export type DmlShape = InsertShape | UpdateShape | DeleteShape;

/** What planning resolves; without it the checks leave CURRENT_USER and the clock in place. */
export interface Resolution {
  readonly currentUser: string;
  readonly nowMicros: bigint;
}

const SYSTEM_NAMES: ReadonlySet<string> = new Set(Object.values(SYSTEM_COLUMNS));

/**
 * Shapes already checked, per parsed statement and table definition: parseStatements hands out
 * the same statement object for a text it has cached, and a catalog reload makes new table
 * objects, so an entry is used only for the table it was checked against. A shape that
 * resolved CURRENT_USER or the clock (or would have, given a Resolution) is never kept: it
 * belongs to one op. Shapes are read, never changed, by their users (dml.ts prints copies).
 */
const checked = new WeakMap<DmlStatement, { readonly table: TableDef; readonly shape: DmlShape }>();

export function checkDml(stmt: DmlStatement, table: TableDef, resolution?: Resolution): DmlShape {
  const hit = checked.get(stmt);
  if (hit?.table === table) return hit.shape;
  const walker = new DmlExprWalker(table, stmt.kind === 'insert', resolution);
  const shape = checkUncached(stmt, table, walker);
  if (!walker.resolves) checked.set(stmt, { table, shape });
  return shape;
}

function checkUncached(stmt: DmlStatement, table: TableDef, walker: DmlExprWalker): DmlShape {
  const type = { insert: 'InsertStmt', update: 'UpdateStmt', delete: 'DeleteStmt' }[stmt.kind];
  const body = bodyOf(cloneAst(stmt.ast), type);
  if (body === undefined) throw new SqlError('INVALID_SQL', `expected ${stmt.kind.toUpperCase()} statement`);
  if (body['withClause'] !== undefined) throw new SqlError('UNSUPPORTED', `WITH is not supported in ${stmt.kind.toUpperCase()}`);
  if (body['fromClause'] !== undefined) throw new SqlError('UNSUPPORTED', 'UPDATE … FROM is not supported');
  if (body['usingClause'] !== undefined) throw new SqlError('UNSUPPORTED', 'DELETE … USING is not supported');
  const returning = returningColumns(body['returningClause'], table);
  if (stmt.kind === 'insert') return { ...checkInsert(body, table, walker), returning, maxParam: walker.maxParam };
  const alias = isBody(body['relation']) && isBody(body['relation']['alias']) ? String(body['relation']['alias']['aliasname']) : undefined;
  walker.alias = alias;
  walker.seqReadable = true;
  const where = body['whereClause'] === undefined ? undefined : (walker.visit(body['whereClause']) as AstNode);
  walker.seqReadable = false;
  if (stmt.kind === 'delete') {
    walker.only('DeleteStmt', body, ['relation', 'whereClause', 'returningClause', 'withClause']);
    return { kind: 'delete', where, returning, maxParam: walker.maxParam };
  }
  walker.only('UpdateStmt', body, ['relation', 'targetList', 'whereClause', 'returningClause', 'withClause']);
  const sets = checkSets(body['targetList'], table, walker);
  return { kind: 'update', sets, where, returning, maxParam: walker.maxParam };
}

function checkInsert(body: Body, table: TableDef, walker: DmlExprWalker): Omit<InsertShape, 'returning' | 'maxParam'> {
  if (body['onConflictClause'] !== undefined) throw new SqlError('UNSUPPORTED', 'INSERT … ON CONFLICT is not supported');
  if (body['override'] !== undefined && body['override'] !== 'OVERRIDING_NOT_SET') throw unsupported('OVERRIDING');
  walker.only('InsertStmt', body, ['relation', 'cols', 'selectStmt', 'returningClause', 'withClause', 'override']);
  const named = body['cols'] !== undefined;
  const columns = named ? targetColumns(body['cols'], table) : body['selectStmt'] === undefined ? [] : table.columns;
  const rows = valuesRows(body['selectStmt'], columns, table, walker);
  for (const column of table.columns) {
    if (!(column.notNull || column.primaryKey) || column.default !== undefined) continue;
    const index = columns.indexOf(column);
    if (index < 0 || rows.some((row) => row[index]?.kind === 'default')) {
      throw new SqlError('INVALID_SQL', `column ${column.name} is NOT NULL and has no default`);
    }
  }
  return { kind: 'insert', columns, rows };
}

function targetColumns(cols: unknown, table: TableDef): ColumnDef[] {
  const out: ColumnDef[] = [];
  for (const item of Array.isArray(cols) ? cols : []) {
    const target = bodyOf(item, 'ResTarget');
    if (target === undefined || target['indirection'] !== undefined) throw unsupported('this INSERT column list');
    const column = userColumn(table, String(target['name']));
    if (out.includes(column)) throw new SqlError('INVALID_SQL', `column ${column.name} is specified more than once`);
    out.push(column);
  }
  return out;
}

// No SELECT: DEFAULT VALUES (one row of defaults) or a plain VALUES list.
function valuesRows(selectStmt: unknown, columns: readonly ColumnDef[], table: TableDef, walker: DmlExprWalker): ValueItem[][] {
  if (selectStmt === undefined) return [[]];
  const select = bodyOf(selectStmt, 'SelectStmt');
  const plain = select !== undefined && Object.keys(select).every((k) => k === 'valuesLists' || k === 'limitOption' || k === 'op');
  if (!plain || select['valuesLists'] === undefined || select['limitOption'] !== 'LIMIT_OPTION_DEFAULT' || select['op'] !== 'SETOP_NONE') {
    throw new SqlError('UNSUPPORTED', 'INSERT … SELECT is not supported; use INSERT … VALUES');
  }
  const lists = Array.isArray(select['valuesLists']) ? select['valuesLists'] : [];
  return lists.map((list, i) => {
    const items = bodyOf(list, 'List')?.['items'];
    const values = Array.isArray(items) ? items : [];
    if (values.length !== columns.length) {
      const target = columns.length === table.columns.length ? `the ${columns.length} columns of ${table.namespace}.${table.name}` : `${columns.length} columns`;
      throw new SqlError('INVALID_SQL', `VALUES row ${i + 1} has ${values.length} values for ${target}`);
    }
    return values.map((v) => valueItem(v, walker));
  });
}

function valueItem(node: unknown, walker: DmlExprWalker): ValueItem {
  if (bodyOf(node, 'SetToDefault') !== undefined) return { kind: 'default' };
  return { kind: 'expr', node: walker.visit(node) as AstNode };
}

function checkSets(targets: unknown, table: TableDef, walker: DmlExprWalker): UpdateShape['sets'] {
  const sets: { column: ColumnDef; value: ValueItem }[] = [];
  for (const item of Array.isArray(targets) ? targets : []) {
    const target = bodyOf(item, 'ResTarget');
    if (target === undefined) throw unsupported('this SET list');
    if (target['indirection'] !== undefined) throw unsupported('assigning to part of a column');
    if (bodyOf(target['val'], 'MultiAssignRef') !== undefined) throw unsupported('SET (a, b) = …');
    const column = userColumn(table, String(target['name']));
    if (column.primaryKey) throw new SqlError('UNSUPPORTED', `updating the primary key ${column.name} is not supported`);
    if (sets.some((s) => s.column === column)) throw new SqlError('INVALID_SQL', `column ${column.name} is assigned more than once`);
    const value = valueItem(target['val'], walker);
    const generated = column.default?.kind === 'snowflake_id' || column.default?.kind === 'uuid_v7';
    if (value.kind === 'default' && generated) throw new SqlError('UNSUPPORTED', `SET ${column.name} = DEFAULT is not supported for a generated id`);
    if (value.kind === 'default' && column.notNull && column.default === undefined) {
      throw new SqlError('INVALID_SQL', `column ${column.name} is NOT NULL and has no default`);
    }
    sets.push({ column, value });
  }
  return sets;
}

function returningColumns(clause: unknown, table: TableDef): string[] | null {
  if (clause === undefined) return null;
  if (!isBody(clause) || clause['options'] !== undefined) throw unsupported('RETURNING WITH (…)');
  const out: string[] = [];
  for (const item of Array.isArray(clause['exprs']) ? clause['exprs'] : []) {
    const target = bodyOf(item, 'ResTarget');
    const fields = bodyOf(target?.['val'], 'ColumnRef')?.['fields'];
    if (target?.['name'] !== undefined || !Array.isArray(fields) || fields.length !== 1) {
      throw new SqlError('UNSUPPORTED', 'RETURNING supports column names and * only');
    }
    const name = bodyOf(fields[0], 'String')?.['sval'];
    if (typeof name === 'string') out.push(userColumn(table, name).name);
    else out.push(...table.columns.map((c) => c.name));
  }
  return out;
}

function userColumn(table: TableDef, name: string): ColumnDef {
  if (SYSTEM_NAMES.has(name)) throw new SqlError('INVALID_SQL', `column ${name} is a system column and cannot be used in a write`);
  const column = table.columns.find((c) => c.name === name);
  if (column === undefined) throw new SqlError('INVALID_SQL', `column ${name} does not exist in ${table.namespace}.${table.name}`);
  return column;
}

const NO_SUBQUERIES = 'subqueries are not supported in INSERT, UPDATE or DELETE';

class DmlExprWalker extends ExprWalker {
  maxParam = 0;
  alias: string | undefined;
  /** While the WHERE of an UPDATE or DELETE is walked: `_seq` may be read. */
  seqReadable = false;
  /** The statement reads CURRENT_USER or the clock: its shape depends on the op's Resolution. */
  resolves = false;

  constructor(
    private readonly table: TableDef,
    private readonly insert: boolean,
    private readonly resolution: Resolution | undefined,
  ) {
    super();
  }

  only(type: string, body: Body, allowed: readonly string[]): void {
    this.onlyFields(type, body, allowed);
  }

  protected visitOther(type: string, body: Body, node: AstNode): unknown {
    switch (type) {
      case 'SubLink':
      case 'SelectStmt':
        throw new SqlError('UNSUPPORTED', NO_SUBQUERIES);
      // No column is a row or a group: ROW(…), GROUPING(…) and grouping sets mean nothing here.
      case 'RowExpr':
      case 'GroupingFunc':
      case 'GroupingSet':
        throw unsupported(`${type === 'RowExpr' ? 'ROW(…)' : 'GROUPING'} in INSERT, UPDATE or DELETE`);
      case 'ParamRef': {
        const n = body['number'];
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new SqlError('INVALID_PARAMETER', 'malformed parameter reference');
        this.maxParam = Math.max(this.maxParam, n);
        return undefined;
      }
      case 'ColumnRef':
        return this.columnRef(body, node);
      default:
        return undefined;
    }
  }

  private columnRef(body: Body, node: AstNode): AstNode {
    this.onlyFields('ColumnRef', body, ['fields', 'location']);
    if (this.insert) throw new SqlError('INVALID_SQL', 'column references are not allowed in INSERT … VALUES');
    const fields = (Array.isArray(body['fields']) ? body['fields'] : []).map((f) => bodyOf(f, 'String')?.['sval']);
    if (!fields.every((f): f is string => typeof f === 'string')) throw unsupported('* in an expression');
    const { namespace, name } = this.table;
    const qualifier = fields.slice(0, -1).join('.');
    const allowed = this.alias === undefined ? ['', name, `${namespace}.${name}`] : ['', this.alias];
    if (!allowed.includes(qualifier)) throw new SqlError('INVALID_SQL', `invalid reference to table ${qualifier}`);
    const last = fields.at(-1) ?? '';
    const column = this.seqReadable && last === SYSTEM_COLUMNS.seq ? last : userColumn(this.table, last).name;
    body['fields'] = [name, column].map((sval) => ({ String: { sval } }));
    return node;
  }

  protected currentUser(): AstNode | undefined {
    this.resolves = true;
    return this.resolution === undefined ? undefined : typeCast(stringConst(this.resolution.currentUser), ['text']);
  }

  protected clock(op: string, body: Body): AstNode | undefined {
    this.resolves = true;
    if (this.resolution === undefined) return undefined;
    const { date, time } = timestampParts(this.resolution.nowMicros);
    const precision = op.endsWith('_N') && typeof body['typmod'] === 'number' ? [intConst(body['typmod'])] : undefined;
    // Type names as the grammar leaves them (timestamp and time are keywords: pg_catalog.x).
    const literal = (text: string, ...type: string[]): AstNode => typeCast(stringConst(text), type, precision);
    if (op.startsWith('SVFOP_CURRENT_TIMESTAMP')) return literal(`${date} ${time}+00`, 'timestamptz');
    if (op.startsWith('SVFOP_LOCALTIMESTAMP')) return literal(`${date} ${time}`, 'pg_catalog', 'timestamp');
    if (op.startsWith('SVFOP_CURRENT_TIME')) return literal(`${time}+00`, 'timetz');
    if (op.startsWith('SVFOP_LOCALTIME')) return literal(time, 'pg_catalog', 'time');
    return literal(date, 'date');
  }

  protected onFunction(name: string, body: Body): AstNode | undefined {
    if (AGGREGATE_FUNCTIONS.has(name) || WINDOW_FUNCTIONS.has(name) || body['over'] !== undefined) {
      throw new SqlError('UNSUPPORTED', `aggregate and window functions (${name}) are not supported in INSERT, UPDATE or DELETE`);
    }
    const args = Array.isArray(body['args']) ? body['args'].length : 0;
    if (READ_ONLY_FUNCTIONS.has(name) || (name === 'age' && args === 1)) {
      throw new SqlError('UNSUPPORTED', `function ${name} is not supported in INSERT, UPDATE or DELETE: a write must not depend on when it is applied`);
    }
    if (name !== 'now' || args > 0) return undefined;
    this.resolves = true;
    if (this.resolution === undefined) return undefined;
    return this.clock('SVFOP_CURRENT_TIMESTAMP', {});
  }
}

/** The UTC date and time (with microseconds) of a µs-since-epoch instant. */
export function timestampParts(micros: bigint): { readonly date: string; readonly time: string } {
  const ms = micros >= 0n ? micros / 1000n : -((-micros + 999n) / 1000n);
  const iso = new Date(Number(ms)).toISOString();
  if (!/^\d{4}-/.test(iso)) throw new RangeError(`timestamp out of range: ${micros} µs`);
  const sub = (micros - ms * 1000n).toString().padStart(3, '0');
  return { date: iso.slice(0, 10), time: `${iso.slice(11, 23)}${sub}` };
}
