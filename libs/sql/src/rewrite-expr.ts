// The expression rules reads and writes share: function calls against the allow-list
// (functions.ts), casts against the allowed types with integer type modifiers, operators from
// the allow-list, no field selection `(x).f` (PostgreSQL's function-call notation f(x)), only
// subscripts in an indirection, and the SQL value functions (CURRENT_USER, CURRENT_TIMESTAMP…). rewrite.ts adds tables and scopes
// for reads; dml-check.ts adds the target table's columns for writes.
//
// Decisions on SQL value functions:
// - CURRENT_USER and USER (and KalamDB's CURRENT_USER(), which may arrive as a call of
//   `current_user`) are the acting user id as a text literal: PostgreSQL's own role name
//   (seqline_reader, the storage owner) must never reach a client.
// - CURRENT_ROLE, SESSION_USER, CURRENT_CATALOG, CURRENT_SCHEMA: refused (UNSUPPORTED). They
//   would show server internals and mean nothing in Seqline.
// - CURRENT_DATE/TIME/TIMESTAMP and LOCALTIME/LOCALTIMESTAMP: the clock of the statement. A
//   read keeps them; a write replaces them with the op's issued_at (dml-check.ts).
import { assertCastAllowed, assertFunctionAllowed } from './functions.js';
import { AstWalker, bodyOf, checkOperator, isBody, nameList, unsupported, type AstNode, type Body } from './ast.js';
import { SqlError } from './errors.js';

const FUNC_FIELDS = [
  'funcname', 'args', 'agg_order', 'agg_filter', 'over', 'agg_within_group', 'agg_star', 'agg_distinct', 'func_variadic', 'funcformat', 'location',
];
const TYPE_NAME_FIELDS = ['names', 'typmods', 'typemod', 'arrayBounds', 'location'];

export const CLOCK_OPS: ReadonlySet<string> = new Set([
  'SVFOP_CURRENT_DATE', 'SVFOP_CURRENT_TIME', 'SVFOP_CURRENT_TIME_N', 'SVFOP_CURRENT_TIMESTAMP', 'SVFOP_CURRENT_TIMESTAMP_N',
  'SVFOP_LOCALTIME', 'SVFOP_LOCALTIME_N', 'SVFOP_LOCALTIMESTAMP', 'SVFOP_LOCALTIMESTAMP_N',
]);
const USER_OPS: ReadonlySet<string> = new Set(['SVFOP_CURRENT_USER', 'SVFOP_USER']);
const REFUSED_OPS: Readonly<Record<string, string>> = {
  SVFOP_CURRENT_ROLE: 'CURRENT_ROLE',
  SVFOP_SESSION_USER: 'SESSION_USER',
  SVFOP_CURRENT_CATALOG: 'CURRENT_CATALOG',
  SVFOP_CURRENT_SCHEMA: 'CURRENT_SCHEMA',
};

/** True when `node` is CURRENT_USER / USER / current_user(): it names the acting user. */
export function isCurrentUser(node: unknown): boolean {
  const svf = bodyOf(node, 'SQLValueFunction');
  if (svf !== undefined) return USER_OPS.has(String(svf['op']));
  const call = bodyOf(node, 'FuncCall');
  return call !== undefined && isCurrentUserCall(call);
}

function isCurrentUserCall(body: Body): boolean {
  const names = nameList(body['funcname']);
  return names.length === 1 && names[0] === 'current_user' && body['args'] === undefined;
}

export abstract class ExprWalker extends AstWalker {
  /** Nodes beyond the shared rules: a replacement, or undefined to walk generically. */
  protected abstract visitOther(type: string, body: Body, node: AstNode): unknown;
  /** The value of CURRENT_USER, or undefined to leave it for a later pass. */
  protected abstract currentUser(): AstNode | undefined;
  /** The value of a clock SQL value function, or undefined to keep it. */
  protected abstract clock(op: string, body: Body): AstNode | undefined;
  /** A call of an allowed function: may refuse it or replace it (undefined keeps it). */
  protected abstract onFunction(name: string, body: Body): AstNode | undefined;

  protected visitNode(type: string, body: Body, node: AstNode): unknown {
    switch (type) {
      case 'FuncCall':
        return this.funcCall(body, node);
      case 'TypeCast':
        this.typeCast(body);
        return node;
      case 'A_Expr':
        return this.aExpr(body, node);
      case 'SQLValueFunction':
        return this.sqlValueFunction(body, node);
      case 'A_Indirection':
        this.indirection(body);
        return node;
      default:
        return this.visitOther(type, body, node);
    }
  }

  private funcCall(body: Body, node: AstNode): unknown {
    this.onlyFields('FuncCall', body, FUNC_FIELDS);
    if (isCurrentUserCall(body)) return this.currentUser() ?? node;
    const names = nameList(body['funcname']);
    const name = names.at(-1) ?? '';
    // The grammar writes TRIM(…), EXTRACT(…), x AT TIME ZONE y… as pg_catalog calls in SQL
    // syntax; a user cannot produce that form, so those are checked under their bare name.
    const sqlSyntax = names.length === 2 && names[0] === 'pg_catalog' && body['funcformat'] === 'COERCE_SQL_SYNTAX';
    if (names.length === 1 || sqlSyntax) assertFunctionAllowed(name);
    else assertFunctionAllowed(name, names.slice(0, -1).join('.'));
    const replaced = this.onFunction(name, body);
    if (replaced !== undefined) return replaced;
    this.walkCallParts(body);
    return node;
  }

  private walkCallParts(body: Body): void {
    for (const field of ['args', 'agg_order'] as const) if (body[field] !== undefined) body[field] = this.visitList(body[field]);
    if (body['agg_filter'] !== undefined) body['agg_filter'] = this.visit(body['agg_filter']);
    const over = body['over'];
    if (over !== undefined) {
      if (!isBody(over)) throw unsupported('a malformed window');
      this.walkBody('WindowDef', over);
    }
  }

  private typeCast(body: Body): void {
    this.onlyFields('TypeCast', body, ['arg', 'typeName', 'location']);
    const type = body['typeName'];
    if (!isBody(type)) throw unsupported('a malformed cast');
    this.onlyFields('TypeName', type, TYPE_NAME_FIELDS);
    assertCastAllowed(nameList(type['names']));
    // Type modifiers are run through the type's typmod input function: integers only.
    for (const field of ['typmods', 'arrayBounds'] as const) {
      const items = type[field];
      if (items === undefined) continue;
      if (!Array.isArray(items) || !items.every(isIntegerNode)) throw unsupported('a type modifier other than an integer');
    }
    body['arg'] = this.visit(body['arg']);
  }

  // `(x).f` is PostgreSQL's field selection, which is also function-call notation: f(x). There
  // are no composite columns in Seqline, so a name in an indirection is refused; subscripts
  // (arrays, jsonb) call only their type's fixed subscript handler.
  private indirection(body: Body): void {
    this.onlyFields('A_Indirection', body, ['arg', 'indirection']);
    const items = body['indirection'];
    if (!Array.isArray(items) || items.length === 0) throw unsupported('a malformed indirection');
    for (const item of items) {
      if (bodyOf(item, 'A_Indices') === undefined) {
        const name = bodyOf(item, 'String')?.['sval'];
        throw new SqlError('UNSUPPORTED', typeof name === 'string' ? `field selection (…).${name} is not supported` : '(…).* is not supported');
      }
    }
    body['arg'] = this.visit(body['arg']);
    body['indirection'] = this.visitList(items);
  }

  // `x SIMILAR TO y` arrives as x ~ pg_catalog.similar_to_escape(y): a call the grammar made.
  private aExpr(body: Body, node: AstNode): unknown {
    const call = bodyOf(body['rexpr'], 'FuncCall');
    if (body['kind'] !== 'AEXPR_SIMILAR' || call === undefined) return undefined;
    const names = nameList(call['funcname']);
    if (names.join('.') !== 'pg_catalog.similar_to_escape') return undefined;
    this.onlyFields('A_Expr', body, ['kind', 'name', 'lexpr', 'rexpr', 'location']);
    checkOperator(body['name']);
    this.onlyFields('FuncCall', call, ['funcname', 'args', 'funcformat', 'location']);
    call['args'] = this.visitList(call['args']);
    body['lexpr'] = this.visit(body['lexpr']);
    return node;
  }

  private sqlValueFunction(body: Body, node: AstNode): unknown {
    this.onlyFields('SQLValueFunction', body, ['op', 'typmod', 'location']);
    const op = String(body['op']);
    if (USER_OPS.has(op)) return this.currentUser() ?? node;
    if (CLOCK_OPS.has(op)) return this.clock(op, body) ?? node;
    throw new SqlError('UNSUPPORTED', `${REFUSED_OPS[op] ?? op} is not supported; CURRENT_USER is the acting user`);
  }
}

/** An integer constant as the grammar writes type modifiers and array bounds. */
function isIntegerNode(node: unknown): boolean {
  const constant = bodyOf(node, 'A_Const');
  if (constant !== undefined) return Object.keys(constant).every((k) => k === 'ival' || k === 'location') && isBody(constant['ival']);
  const integer = bodyOf(node, 'Integer');
  return integer !== undefined && Object.keys(integer).every((k) => k === 'ival');
}
