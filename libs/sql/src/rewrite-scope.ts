// The relations a query level can name, with their columns: what the rewrite needs to prove
// that a qualified column reference `a.b` is a column. PostgreSQL reads `a.b` as column b of
// relation a and, when a has no column b, as the function call b(a.*) (parse_expr.c,
// transformColumnRef): function-call notation that the allow-list never sees. So `a.b` is
// admitted only when every relation named a that the reference could mean has a column b.
//
// Over-approximation is the safe direction: a level lists every relation of its FROM clause
// (including the tables inside an aliased join, which PostgreSQL hides) and a reference is
// checked against the relations of its own level and of every enclosing one, so whichever
// PostgreSQL picks has the column. Columns are known for catalog tables, CTEs, subqueries and
// VALUES (their output names, as PostgreSQL's FigureColname gives them); a relation whose
// columns are not known (a function without column aliases, a join with USING) cannot be
// used as a qualifier.
import { bodyOf, isBody, nameList, nodeParts, type Body } from './ast.js';

/** Column names in order; undefined when not known. */
export type Columns = readonly string[] | undefined;

export class Level {
  private readonly relations = new Map<string, Columns[]>();
  /** Columns of each FROM entry, in order: what `*` expands to. */
  readonly entries: Columns[] = [];

  add(name: string | undefined, columns: Columns): void {
    if (name === undefined) return;
    const known = this.relations.get(name) ?? [];
    known.push(columns);
    this.relations.set(name, known);
  }

  relationsNamed(name: string): readonly Columns[] {
    return this.relations.get(name) ?? [];
  }
}

/** Columns renamed by an alias's column list `AS x(a, b)`. */
export function aliased(columns: Columns, alias: unknown): Columns {
  const names = isBody(alias) && Array.isArray(alias['colnames']) ? nameList(alias['colnames']) : [];
  if (names.length === 0) return columns;
  if (columns === undefined) return undefined;
  return [...names, ...columns.slice(names.length)];
}

export function aliasName(alias: unknown): string | undefined {
  return isBody(alias) && typeof alias['aliasname'] === 'string' ? alias['aliasname'] : undefined;
}

/** The output columns of a (walked) SelectStmt, given its level and its subqueries' outputs. */
export function outputColumns(body: Body, level: Level, outputs: WeakMap<Body, Columns>): Columns {
  const larg = body['larg'];
  if (isBody(larg)) return outputs.get(larg);
  const lists = body['valuesLists'];
  if (Array.isArray(lists)) {
    const first = bodyOf(lists[0], 'List')?.['items'];
    return Array.isArray(first) ? first.map((_, i) => `column${i + 1}`) : undefined;
  }
  const out: string[] = [];
  for (const target of Array.isArray(body['targetList']) ? body['targetList'] : []) {
    const res = bodyOf(target, 'ResTarget');
    if (res === undefined) return undefined;
    if (typeof res['name'] === 'string') {
      out.push(res['name']);
      continue;
    }
    const star = starColumns(res['val'], level);
    if (star === null) out.push(figureColname(res['val'], outputs).name);
    else if (star === undefined) return undefined;
    else out.push(...star);
  }
  return out;
}

/** The columns `*` or `a.*` expands to; null when the target is not a star. */
function starColumns(node: unknown, level: Level): Columns | null {
  const fields = bodyOf(node, 'ColumnRef')?.['fields'];
  if (!Array.isArray(fields) || bodyOf(fields.at(-1), 'A_Star') === undefined) return null;
  if (fields.length === 1) return level.entries.some((e) => e === undefined) ? undefined : level.entries.flatMap((e) => e ?? []);
  const name = bodyOf(fields.at(-2), 'String')?.['sval'];
  const candidates = typeof name === 'string' ? level.relationsNamed(name) : [];
  return candidates.length === 1 ? candidates[0] : undefined;
}

const FIXED_NAMES: Readonly<Record<string, string>> = {
  A_ArrayExpr: 'array', RowExpr: 'row', CoalesceExpr: 'coalesce', GroupingFunc: 'grouping',
};
const SVF_NAMES: Readonly<Record<string, string>> = {
  SVFOP_CURRENT_DATE: 'current_date', SVFOP_CURRENT_TIME: 'current_time', SVFOP_CURRENT_TIME_N: 'current_time', SVFOP_CURRENT_TIMESTAMP: 'current_timestamp',
  SVFOP_CURRENT_TIMESTAMP_N: 'current_timestamp', SVFOP_LOCALTIME: 'localtime', SVFOP_LOCALTIME_N: 'localtime', SVFOP_LOCALTIMESTAMP: 'localtimestamp',
  SVFOP_LOCALTIMESTAMP_N: 'localtimestamp',
};

/**
 * PostgreSQL's FigureColname (parse_target.c) for the expressions the rewrite admits: a name
 * with a strength (2 a real name, 1 a type name, 0 `?column?`), so a cast takes its operand's
 * name when it has one.
 */
export function figureColname(node: unknown, outputs: WeakMap<Body, Columns>): { readonly name: string; readonly strength: number } {
  const parts = isBody(node) && Object.keys(node).length === 1 ? nodeParts(node) : undefined;
  const none = { name: '?column?', strength: 0 };
  if (parts === undefined) return none;
  const { type, body } = parts;
  const fixed = FIXED_NAMES[type];
  if (fixed !== undefined) return { name: fixed, strength: 2 };
  switch (type) {
    case 'ColumnRef': {
      const last = bodyOf(Array.isArray(body['fields']) ? body['fields'].at(-1) : undefined, 'String')?.['sval'];
      return typeof last === 'string' ? { name: last, strength: 2 } : none;
    }
    case 'A_Indirection':
    case 'CollateClause':
      return figureColname(body['arg'], outputs);
    case 'FuncCall': {
      const name = nameList(body['funcname']).at(-1);
      return name === undefined ? none : { name, strength: 2 };
    }
    case 'CaseExpr': {
      const result = figureColname(body['defresult'], outputs);
      return result.strength > 1 ? result : { name: 'case', strength: 1 };
    }
    case 'A_Expr':
      return body['kind'] === 'AEXPR_NULLIF' ? { name: 'nullif', strength: 2 } : none;
    case 'MinMaxExpr':
      return { name: body['op'] === 'IS_GREATEST' ? 'greatest' : 'least', strength: 2 };
    case 'SQLValueFunction': {
      const name = SVF_NAMES[String(body['op'])];
      return name === undefined ? none : { name, strength: 2 };
    }
    case 'TypeCast': {
      const inner = figureColname(body['arg'], outputs);
      if (inner.strength > 1) return inner;
      const type = isBody(body['typeName']) ? nameList(body['typeName']['names']).at(-1) : undefined;
      return type === undefined ? inner : { name: type, strength: 1 };
    }
    case 'SubLink':
      return subLinkName(body, outputs);
    default:
      return none;
  }
}

function subLinkName(body: Body, outputs: WeakMap<Body, Columns>): { readonly name: string; readonly strength: number } {
  if (body['subLinkType'] === 'EXISTS_SUBLINK') return { name: 'exists', strength: 2 };
  if (body['subLinkType'] === 'ARRAY_SUBLINK') return { name: 'array', strength: 2 };
  const select = bodyOf(body['subselect'], 'SelectStmt');
  const first = body['subLinkType'] === 'EXPR_SUBLINK' && select !== undefined ? outputs.get(select)?.[0] : undefined;
  return first === undefined ? { name: '?column?', strength: 0 } : { name: first, strength: 2 };
}
