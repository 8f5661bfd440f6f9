// Helpers over libpg-query's JSON AST: a node is `{ TypeName: body }` (an empty `{}` stands for
// a NULL list element), fields typed as a specific struct (FuncCall.over, TypeCast.typeName,
// RangeVar.alias, SelectStmt.larg…) hold the bare body. The walker here is default-deny: a node
// type, or a field of a known node, that it has no rule for is UNSUPPORTED. So a construct a
// future PostgreSQL adds (or one nobody thought about) is refused, never passed through
// unchecked. Subclasses (rewrite.ts, dml-check.ts) add the nodes that need a decision.
//
// Every way PostgreSQL can call a function is a node here with a rule: FuncCall (the
// allow-list), A_Indirection (field selection `(x).f` is `f(x)`: refused; subscripts only),
// ColumnRef (`a.b` is `b(a.*)` when a has no column b: the subclasses prove the column),
// TypeCast (the type's input and cast functions: allowed types only), operators (allowed
// names only, never OPERATOR(schema.op)) and COLLATE (allowed collations only).
import { isDeepStrictEqual } from 'node:util';
import { parseSync } from 'libpg-query';
import { deparseSync } from 'pgsql-deparser';
import { SqlError } from './errors.js';
import { assertCollationAllowed, assertOperatorAllowed } from './functions.js';

export type Body = Record<string, unknown>;
export type AstNode = Record<string, Body>;

type FieldKind = 'value' | 'node' | 'list' | 'operator' | 'collation';

const LOC = { location: 'value' } as const;

/** Expression-level nodes whose every child is walked the same way in reads and writes. */
const GENERIC: Readonly<Record<string, Readonly<Record<string, FieldKind>>>> = {
  A_Const: { ival: 'value', fval: 'value', boolval: 'value', sval: 'value', bsval: 'value', isnull: 'value', ...LOC },
  ParamRef: { number: 'value', ...LOC },
  String: { sval: 'value' },
  Integer: { ival: 'value' },
  Float: { fval: 'value' },
  Boolean: { boolval: 'value' },
  A_Star: {},
  A_Expr: { kind: 'value', name: 'operator', lexpr: 'node', rexpr: 'node', rexpr_list_start: 'value', rexpr_list_end: 'value', ...LOC },
  BoolExpr: { boolop: 'value', args: 'list', ...LOC },
  NullTest: { arg: 'node', nulltesttype: 'value', argisrow: 'value', ...LOC },
  BooleanTest: { arg: 'node', booltesttype: 'value', ...LOC },
  CaseExpr: { arg: 'node', args: 'list', defresult: 'node', ...LOC },
  CaseWhen: { expr: 'node', result: 'node', ...LOC },
  CoalesceExpr: { args: 'list', ...LOC },
  MinMaxExpr: { op: 'value', args: 'list', ...LOC },
  A_ArrayExpr: { elements: 'list', list_start: 'value', list_end: 'value', ...LOC },
  A_Indices: { is_slice: 'value', lidx: 'node', uidx: 'node' },
  RowExpr: { args: 'list', row_format: 'value', colnames: 'list', ...LOC },
  GroupingSet: { kind: 'value', content: 'list', ...LOC },
  GroupingFunc: { args: 'list', ...LOC },
  List: { items: 'list' },
  NamedArgExpr: { arg: 'node', name: 'value', argnumber: 'value', ...LOC },
  ResTarget: { name: 'value', indirection: 'list', val: 'node', ...LOC },
  CollateClause: { arg: 'node', collname: 'collation', ...LOC },
  SortBy: { node: 'node', sortby_dir: 'value', sortby_nulls: 'value', useOp: 'operator', ...LOC },
  WindowDef: {
    name: 'value', refname: 'value', partitionClause: 'list', orderClause: 'list', frameOptions: 'value', startOffset: 'node', endOffset: 'node', ...LOC,
  },
  SubLink: { subLinkType: 'value', subLinkId: 'value', testexpr: 'node', operName: 'operator', subselect: 'node', ...LOC },
  Alias: { aliasname: 'value', colnames: 'list' },
};

export function isBody(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The type and body of a wrapped node; undefined for `{}` (a NULL element). */
export function nodeParts(node: unknown): { readonly type: string; readonly body: Body } | undefined {
  if (!isBody(node)) throw unsupported('a malformed statement');
  const keys = Object.keys(node);
  if (keys.length === 0) return undefined;
  const type = keys[0] ?? '';
  const body = node[type];
  if (keys.length !== 1 || !isBody(body)) throw unsupported('a malformed statement');
  return { type, body };
}

/** The body when `node` is `{ [type]: body }`. */
export function bodyOf(node: unknown, type: string): Body | undefined {
  if (!isBody(node)) return undefined;
  const body = node[type];
  return Object.keys(node).length === 1 && isBody(body) ? body : undefined;
}

/** The `sval` of each `String` node of a name list (function, operator, type names). */
export function nameList(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw unsupported('a malformed name');
  return value.map((n) => {
    const sval = bodyOf(n, 'String')?.['sval'];
    if (typeof sval !== 'string') throw unsupported('a malformed name');
    return sval;
  });
}

export function unsupported(what: string): SqlError {
  return new SqlError('UNSUPPORTED', `${what} is not supported`);
}

/** Allowed operators only (functions.ts), never schema-qualified: `OPERATOR(pg_catalog.=)` is refused. */
export function checkOperator(value: unknown): void {
  assertOperatorAllowed(nameList(value));
}

/**
 * Walks a cloned AST, replacing nodes where `visitNode` returns a replacement. Subclasses
 * decide the nodes that need context (tables, columns, functions); everything else is walked
 * by the GENERIC table or refused.
 */
export abstract class AstWalker {
  /** A replacement for the node (its children are then not walked), or undefined to walk it generically. */
  protected abstract visitNode(type: string, body: Body, node: AstNode): unknown;

  visit(node: unknown): unknown {
    const parts = nodeParts(node);
    if (parts === undefined) return node;
    const replaced = this.visitNode(parts.type, parts.body, node as AstNode);
    if (replaced !== undefined) return replaced;
    this.walkBody(parts.type, parts.body);
    return node;
  }

  visitList(value: unknown): unknown[] {
    if (!Array.isArray(value)) throw unsupported('a malformed list');
    return value.map((item) => this.visit(item));
  }

  /** Walks the children of a body by the GENERIC rules of `type`. */
  walkBody(type: string, body: Body): void {
    const spec = GENERIC[type];
    if (spec === undefined) throw unsupported(describeNode(type));
    for (const [field, value] of Object.entries(body)) {
      const kind = spec[field];
      if (kind === undefined) throw unsupported(`${describeNode(type)} with ${field}`);
      if (value === undefined) continue;
      if (kind === 'node') body[field] = this.visit(value);
      else if (kind === 'list') body[field] = this.visitList(value);
      else if (kind === 'operator') checkOperator(value);
      else if (kind === 'collation') assertCollationAllowed(nameList(value));
    }
  }

  /** Refuses any field of `body` outside `allowed`. */
  protected onlyFields(type: string, body: Body, allowed: readonly string[]): void {
    for (const field of Object.keys(body)) {
      if (!allowed.includes(field)) throw unsupported(`${describeNode(type)} with ${field}`);
    }
  }
}

const FRIENDLY: Readonly<Record<string, string>> = {
  RangeTableSample: 'TABLESAMPLE',
  RangeTableFunc: 'XMLTABLE',
  JsonTable: 'JSON_TABLE',
  XmlExpr: 'an XML expression',
  XmlSerialize: 'XMLSERIALIZE',
  CurrentOfExpr: 'WHERE CURRENT OF',
  MultiAssignRef: 'a multiple-column assignment',
  SetToDefault: 'DEFAULT here',
};

function describeNode(type: string): string {
  return FRIENDLY[type] ?? `this SQL construct (${type})`;
}

// ---- Building nodes ----------------------------------------------------------------------
// Shapes exactly as the parser produces them, so a deparse → parse round trip compares equal.

export const str = (sval: string): AstNode => ({ String: { sval } });
export const columnRef = (...names: string[]): AstNode => ({ ColumnRef: { fields: names.map(str) } });
export const stringConst = (sval: string): AstNode => ({ A_Const: { sval: { sval } } });
export const intConst = (n: number): AstNode => ({ A_Const: { ival: n === 0 ? {} : { ival: n } } });
/** An integer constant of any size: beyond int4 the parser keeps it as text (PostgreSQL types it int8). */
export const bigintConst = (n: bigint): AstNode => (n >= -2_147_483_648n && n <= 2_147_483_647n ? intConst(Number(n)) : { A_Const: { fval: { fval: n.toString() } } });
export const typeName = (names: readonly string[], typmods?: readonly AstNode[]): Body => ({
  names: names.map(str),
  ...(typmods === undefined ? {} : { typmods: [...typmods] }),
  typemod: -1,
});
export const typeCast = (arg: AstNode, names: readonly string[], typmods?: readonly AstNode[]): AstNode => ({
  TypeCast: { arg, typeName: typeName(names, typmods) },
});
export const binaryOp = (op: string, lexpr: AstNode, rexpr: AstNode): AstNode => ({ A_Expr: { kind: 'AEXPR_OP', name: [str(op)], lexpr, rexpr } });
export const and = (...args: AstNode[]): AstNode => ({ BoolExpr: { boolop: 'AND_EXPR', args } });
export const not = (arg: AstNode): AstNode => ({ BoolExpr: { boolop: 'NOT_EXPR', args: [arg] } });

// ---- Printing ----------------------------------------------------------------------------

const POSITION_KEYS = new Set(['location', 'stmt_location', 'stmt_len', 'list_start', 'list_end', 'rexpr_list_start', 'rexpr_list_end']);

/** The AST without source positions, for comparing two parses. */
export function withoutPositions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPositions);
  if (!isBody(value)) return value;
  const out: Body = {};
  for (const [k, v] of Object.entries(value)) if (!POSITION_KEYS.has(k)) out[k] = withoutPositions(v);
  return out;
}

export function sameAst(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(withoutPositions(a), withoutPositions(b));
}

/** A deep copy: rewrites work on a copy and never touch the caller's AST. */
export function cloneAst<T>(value: T): T {
  return structuredClone(value);
}

/**
 * SQL text of a statement node, checked by parsing it back: the text must parse to exactly the
 * AST that was printed. A deparser bug (pgsql-deparser silently drops WITH TIES, for one)
 * then fails closed instead of running a query other than the one that was checked.
 */
export function printStatement(node: AstNode): string {
  const sql = deparseSync(node, { pretty: false });
  const back = reparse(sql);
  if (back.length !== 1 || !sameAst(back[0], node)) throw unprintable();
  return sql;
}

/** SQL text of one expression, checked the same way (as the target of `SELECT (<expr>)`). */
export function printExpression(node: AstNode): string {
  const sql = deparseSync(node, { pretty: false });
  const back = reparse(`SELECT (${sql})`);
  const targets = bodyOf(back[0], 'SelectStmt')?.['targetList'];
  const target = Array.isArray(targets) && targets.length === 1 ? bodyOf(targets[0], 'ResTarget') : undefined;
  if (back.length !== 1 || target === undefined || !sameAst(target['val'], node)) throw unprintable();
  return `(${sql})`;
}

function reparse(sql: string): unknown[] {
  try {
    return (parseSync(sql).stmts ?? []).map((s) => s.stmt);
  } catch (err) {
    throw unprintable(err);
  }
}

function unprintable(cause?: unknown): SqlError {
  return new SqlError('UNSUPPORTED', 'this statement uses a form that cannot be run safely; please write it differently', { cause });
}
