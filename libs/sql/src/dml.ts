// Plans of a write against the physical layout (docs/architecture.md §2, §3): storage runs them as the
// table owner inside its apply transaction with postgres.js `sql.unsafe(text, params)`.
//
//   INSERT  INSERT INTO ns.t AS t (_user_id, <all user cols>, _seq, _deleted) VALUES (…)
//           ON CONFLICT (_user_id, pk) DO UPDATE SET … WHERE t._deleted RETURNING …
//           A deleted key's tombstone is revived; a live key is not returned, and storage turns
//           "fewer rows than rowCount" into a duplicate-key error.
//   UPDATE  selectForUpdate: the live rows the WHERE matches, in primary-key order, locked;
//   DELETE  apply: one UPDATE joined to unnest(keys, seqs) that writes the new versions (for a
//           DELETE a tombstone: _deleted = true, old values kept) with their new _seq.
//
// Every statement returns all user columns and "_seq". Parameters: the user's `$n` that a
// statement uses come first, renumbered from $1 (a statement must not carry a parameter it does
// not use: PostgreSQL could not type it); the owner, keys and seqs follow. The owner is always
// a parameter, never text. SHARED tables have no `_user_id`: no owner predicate or column.
import type { ColumnDef, TableDef } from '@seqline/domain';
import { cloneAst, isBody, printExpression, type AstNode } from './ast.js';
import { quoteIdent } from './ddl.js';
import { checkDml, timestampParts, type DeleteShape, type InsertShape, type UpdateShape, type ValueItem } from './dml-check.js';
import { SqlError } from './errors.js';
import { assertSqlReady } from './init.js';
import { pgType } from './types-map.js';
import { SYSTEM_COLUMNS, type Statement } from './types.js';

export interface DmlContext {
  readonly owner: string;
  readonly currentUser: string;
  /** The op's issued_at, µs since the epoch: NOW(), CURRENT_TIMESTAMP and `now` defaults. */
  readonly nowMicros: bigint;
}

export interface SqlText {
  readonly text: string;
  readonly params: readonly unknown[];
}

export interface InsertPlan {
  readonly kind: 'insert';
  readonly rowCount: number;
  /** Column names the client asked for; null = no RETURNING. */
  readonly returning: readonly string[] | null;
  build(input: { readonly seqs: readonly bigint[]; readonly nextSnowflakeId: () => bigint; readonly nextUuidV7: () => string }): InsertText;
}

/**
 * An insert's SQL, and the same text in three parts (text = head + values + tail): inserts of one
 * table and owner with the same head and tail can be sent as one statement whose VALUES list
 * joins theirs (the storage service does, its parameters renumbered).
 */
export interface InsertText extends SqlText {
  readonly head: string;
  readonly values: string;
  readonly tail: string;
}

export interface UpdatePlan {
  readonly kind: 'update';
  readonly returning: readonly string[] | null;
  selectForUpdate(): SqlText;
  apply(input: { readonly keys: readonly unknown[]; readonly seqs: readonly bigint[] }): SqlText;
}

export interface DeletePlan {
  readonly kind: 'delete';
  readonly returning: readonly string[] | null;
  selectForUpdate(): SqlText;
  apply(input: { readonly keys: readonly unknown[]; readonly seqs: readonly bigint[] }): SqlText;
}

type DmlStatement = Extract<Statement, { kind: 'insert' | 'update' | 'delete' }>;

export function planDml(stmt: DmlStatement, table: TableDef, params: readonly unknown[], ctx: DmlContext): InsertPlan | UpdatePlan | DeletePlan {
  assertSqlReady('planDml');
  const shape = checkDml(stmt, table, { currentUser: ctx.currentUser, nowMicros: ctx.nowMicros });
  if (shape.maxParam > params.length) {
    throw new SqlError('INVALID_PARAMETER', `the statement uses $${shape.maxParam} but ${params.length} parameter(s) were given`);
  }
  const t = new Physical(table);
  if (shape.kind === 'insert') return insertPlan(shape, t, params, ctx);
  return shape.kind === 'update' ? updatePlan(shape, t, params, ctx) : deletePlan(shape, t, params, ctx);
}

/** Names of the physical table, quoted once. */
class Physical {
  readonly relation: string;
  readonly alias: string;
  readonly shared: boolean;
  /** The alias of the unnest(keys, seqs) relation: never the table's own name. */
  readonly keys: string;

  constructor(readonly table: TableDef) {
    this.relation = `${quoteIdent(table.namespace)}.${quoteIdent(table.name)}`;
    this.alias = quoteIdent(table.name);
    this.shared = table.tableType === 'SHARED';
    this.keys = quoteIdent(table.name === '_k' ? '_keys' : '_k');
  }

  col(name: string): string {
    return `${this.alias}.${quoteIdent(name)}`;
  }

  /** All user columns and _seq, qualified: what every plan returns. */
  image(): string {
    return [...this.table.columns.map((c) => this.col(c.name)), this.col(SYSTEM_COLUMNS.seq)].join(', ');
  }

  pk(): ColumnDef {
    const pk = this.table.columns.find((c) => c.name === this.table.primaryKey);
    if (pk === undefined) throw new Error(`table ${this.table.namespace}.${this.table.name} has no primary key column ${this.table.primaryKey}`);
    return pk;
  }
}

/** The parameters of one statement: the user's it uses (renumbered), then internal ones. */
class Params {
  readonly values: unknown[] = [];
  private readonly numbers = new Map<number, number>();

  constructor(private readonly user: readonly unknown[]) {}

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  /**
   * A checked expression as SQL, its `$n` renumbered into this statement. Printing goes through
   * PostgreSQL's deparser and parser (printExpression), which the storage service would pay for
   * every value of every op; so a bare parameter is printed directly, and any other expression
   * is printed once as a template (see expressionTemplate) whose parameters are filled in.
   */
  print(node: AstNode): string {
    const ref = paramRefNumber(node);
    if (ref !== undefined) return `($${this.number(ref)})`;
    const template = expressionTemplate(node);
    if (template === undefined) {
      const copy = cloneAst(node);
      this.renumber(copy);
      return printExpression(copy);
    }
    // Numbered in the order the traversal of renumber() meets them, as printing the copy would.
    const mapped = template.refs.map((n) => this.number(n));
    return template.text.replace(TEMPLATE_PARAM, (_, k: string) => `$${mapped[Number(k) - TEMPLATE_BASE]}`);
  }

  private renumber(value: unknown): void {
    if (Array.isArray(value)) {
      for (const v of value) this.renumber(v);
      return;
    }
    if (!isBody(value)) return;
    const ref = value['ParamRef'];
    if (isBody(ref) && typeof ref['number'] === 'number') {
      ref['number'] = this.number(ref['number']);
      return;
    }
    for (const v of Object.values(value)) this.renumber(v);
  }

  private number(n: number): number {
    let mapped = this.numbers.get(n);
    if (mapped === undefined) {
      this.values.push(this.user[n - 1]);
      mapped = this.values.length;
      this.numbers.set(n, mapped);
    }
    return mapped;
  }
}

/** The `$n` of an expression that is one bare parameter reference. */
function paramRefNumber(node: AstNode): number | undefined {
  const ref = isBody(node) ? node['ParamRef'] : undefined;
  return isBody(ref) && typeof ref['number'] === 'number' && Object.keys(node).length === 1 ? ref['number'] : undefined;
}

/** Parameter numbers a template is printed with: far above any a statement has, so never ambiguous. */
const TEMPLATE_BASE = 30_001;
const TEMPLATE_PARAM = /\$(\d+)/g;
const TEMPLATES = 2000;
/** Printed expressions by their AST (JSON); undefined = cannot be templated, print each time. */
const templates = new Map<string, { readonly text: string; readonly refs: readonly number[] } | undefined>();

/**
 * The expression printed once with its parameter references numbered TEMPLATE_BASE, +1, … in
 * traversal order, and the user's numbers they stand for. Refused (undefined) when the text
 * holds any other `$` (a literal such as 'costs $1'), so filling it in can only touch parameters.
 */
function expressionTemplate(node: AstNode): { readonly text: string; readonly refs: readonly number[] } | undefined {
  const key = JSON.stringify(node);
  if (templates.has(key)) return templates.get(key);
  const copy = cloneAst(node);
  const refs: number[] = [];
  const mark = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(mark);
    if (!isBody(value)) return;
    const ref = value['ParamRef'];
    if (isBody(ref) && typeof ref['number'] === 'number') {
      refs.push(ref['number']);
      ref['number'] = TEMPLATE_BASE + refs.length - 1;
      return;
    }
    for (const v of Object.values(value)) mark(v);
  };
  mark(copy);
  const text = printExpression(copy);
  const found = [...text.matchAll(TEMPLATE_PARAM)].map((m) => Number(m[1]) - TEMPLATE_BASE);
  const clean = text.split('$').length - 1 === refs.length && found.length === refs.length && new Set(found).size === refs.length && found.every((k) => k >= 0 && k < refs.length);
  const template = clean ? { text, refs } : undefined;
  templates.set(key, template);
  if (templates.size > TEMPLATES) templates.delete(templates.keys().next().value!);
  return template;
}

interface Generators {
  readonly nextSnowflakeId: () => bigint;
  readonly nextUuidV7: () => string;
}

function insertPlan(shape: InsertShape, t: Physical, user: readonly unknown[], ctx: DmlContext): InsertPlan {
  const rowCount = shape.rows.length;
  const { table } = t;
  const build: InsertPlan['build'] = ({ seqs, nextSnowflakeId, nextUuidV7 }) => {
    if (seqs.length !== rowCount) throw new Error(`insert plan: ${seqs.length} seqs for ${rowCount} rows`);
    const p = new Params(user);
    const cells = shape.rows.map((row) =>
      table.columns.map((column) => {
        const index = shape.columns.indexOf(column);
        const sql = valueSql(row[index], column, p, ctx, { nextSnowflakeId, nextUuidV7 });
        return `CAST(${sql} AS ${pgType(column.dataType)})`;
      }),
    );
    const owner = t.shared ? [] : [p.add(ctx.owner)];
    const values = cells.map((row, i) => `(${[...owner, ...row, `${p.add(String(seqs[i]))}::bigint`, 'false'].join(', ')})`);
    const system = t.shared ? [] : [quoteIdent(SYSTEM_COLUMNS.userId)];
    const names = [...system, ...table.columns.map((c) => quoteIdent(c.name)), quoteIdent(SYSTEM_COLUMNS.seq), quoteIdent(SYSTEM_COLUMNS.deleted)];
    const conflict = [...system, quoteIdent(table.primaryKey)].join(', ');
    const revive = [
      ...table.columns.map((c) => `${quoteIdent(c.name)} = EXCLUDED.${quoteIdent(c.name)}`),
      `${quoteIdent(SYSTEM_COLUMNS.seq)} = EXCLUDED.${quoteIdent(SYSTEM_COLUMNS.seq)}`,
      `${quoteIdent(SYSTEM_COLUMNS.deleted)} = false`,
    ].join(', ');
    const head = `INSERT INTO ${t.relation} AS ${t.alias} (${names.join(', ')}) VALUES `;
    const list = values.join(', ');
    const tail = ` ON CONFLICT (${conflict}) DO UPDATE SET ${revive} WHERE ${t.col(SYSTEM_COLUMNS.deleted)} RETURNING ${t.image()}`;
    return { text: head + list + tail, params: p.values, head, values: list, tail };
  };
  return { kind: 'insert', rowCount, returning: shape.returning, build };
}

/** SQL of one VALUES item or SET value; a missing item or DEFAULT is the column's default. */
function valueSql(item: ValueItem | undefined, column: ColumnDef, p: Params, ctx: DmlContext, ids?: Generators): string {
  if (item?.kind === 'expr') return p.print(item.node);
  const d = column.default;
  switch (d?.kind) {
    case undefined:
      return 'NULL';
    case 'literal':
      return `(${d.sql})`;
    // Generated values are parameters, so statements of one shape have one text (the storage
    // service prepares texts it sees repeatedly).
    case 'now':
      return `${p.add(timestamptzText(ctx.nowMicros))}::timestamptz`;
    case 'current_user':
      return `${p.add(ctx.currentUser)}::text`;
    case 'snowflake_id':
      return `${p.add(bigintOf(ids?.nextSnowflakeId()))}::bigint`;
    case 'uuid_v7':
      return `${p.add(uuidOf(ids?.nextUuidV7()))}::uuid`;
  }
}

function timestamptzText(micros: bigint): string {
  const { date, time } = timestampParts(micros);
  return `${date} ${time}+00`;
}

function bigintOf(value: bigint | undefined): string {
  if (typeof value !== 'bigint') throw new Error('insert plan: nextSnowflakeId must return a bigint');
  return value.toString();
}

function uuidOf(value: string | undefined): string {
  if (value === undefined || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
    throw new Error(`insert plan: nextUuidV7 returned ${String(value)}, not a UUID`);
  }
  return value;
}

/** SELECT … FOR UPDATE of the live rows a WHERE matches, in primary-key order. */
function selectForUpdate(where: AstNode | undefined, t: Physical, user: readonly unknown[], ctx: DmlContext): SqlText {
  const p = new Params(user);
  const condition = where === undefined ? undefined : p.print(where);
  const conditions = [...ownerCondition(t, p, ctx), `NOT ${t.col(SYSTEM_COLUMNS.deleted)}`, ...(condition === undefined ? [] : [condition])];
  const text = `SELECT ${t.image()} FROM ${t.relation} AS ${t.alias} WHERE ${conditions.join(' AND ')} ORDER BY ${t.col(t.table.primaryKey)} FOR UPDATE`;
  return { text, params: p.values };
}

function ownerCondition(t: Physical, p: Params, ctx: DmlContext): string[] {
  return t.shared ? [] : [`${t.col(SYSTEM_COLUMNS.userId)} = ${p.add(ctx.owner)}`];
}

/** UPDATE joined to unnest(keys, seqs): the new versions of the rows selectForUpdate locked. */
function applyVersions(sets: readonly string[], t: Physical, p: Params, ctx: DmlContext, input: { readonly keys: readonly unknown[]; readonly seqs: readonly bigint[] }): SqlText {
  if (input.keys.length !== input.seqs.length) throw new Error(`apply: ${input.keys.length} keys for ${input.seqs.length} seqs`);
  const owner = ownerCondition(t, p, ctx);
  // postgres.js sends an array of strings as an untyped literal that the cast below types.
  const keys = p.add(input.keys.map((k) => (typeof k === 'bigint' ? k.toString() : k)));
  const seqs = p.add(input.seqs.map((s) => s.toString()));
  const pk = t.pk();
  const k = (name: string): string => `${t.keys}.${quoteIdent(name)}`;
  const text =
    `UPDATE ${t.relation} AS ${t.alias} SET ${[...sets, `${quoteIdent(SYSTEM_COLUMNS.seq)} = ${k('seq')}`].join(', ')} ` +
    `FROM unnest(${keys}::${pgType(pk.dataType)}[], ${seqs}::bigint[]) AS ${t.keys}(${quoteIdent('pk')}, ${quoteIdent('seq')}) ` +
    `WHERE ${[...owner, `${t.col(pk.name)} = ${k('pk')}`, `NOT ${t.col(SYSTEM_COLUMNS.deleted)}`].join(' AND ')} RETURNING ${t.image()}`;
  return { text, params: p.values };
}

function updatePlan(shape: UpdateShape, t: Physical, user: readonly unknown[], ctx: DmlContext): UpdatePlan {
  return {
    kind: 'update',
    returning: shape.returning,
    selectForUpdate: () => selectForUpdate(shape.where, t, user, ctx),
    apply: (input) => {
      const p = new Params(user);
      const sets = shape.sets.map(({ column, value }) => `${quoteIdent(column.name)} = ${valueSql(value, column, p, ctx)}`);
      return applyVersions(sets, t, p, ctx, input);
    },
  };
}

function deletePlan(shape: DeleteShape, t: Physical, user: readonly unknown[], ctx: DmlContext): DeletePlan {
  return {
    kind: 'delete',
    returning: shape.returning,
    selectForUpdate: () => selectForUpdate(shape.where, t, user, ctx),
    apply: (input) => applyVersions([`${quoteIdent(SYSTEM_COLUMNS.deleted)} = true`], t, new Params(user), ctx, input),
  };
}
