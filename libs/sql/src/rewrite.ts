// Isolation, layer 1 (docs/architecture.md §2): a user's SELECT is rewritten from its AST so that every
// table reference reads only the caller's partition, without tombstones. Layer 2 is the
// seqline_reader role and its row-level-security policies, which storage runs the result under.
//
// Every RangeVar that is not a reference to a CTE in scope must name a catalog table (`ns.t`,
// or bare `t` in the default namespace) and becomes
//   (SELECT t.c1, …, t._seq, t._deleted FROM ns.t WHERE t._user_id = '<actor>' AND NOT t._deleted) AS t
// (SHARED tables: without the owner predicate; a STREAM table with TTL_SECONDS also gets
// `AND t._seq >= <the smallest _seq not expired at statement time>`, stream-ttl.ts), so `_user_id` is never visible and `SELECT *`
// gives the user columns, `_seq` and `_deleted`. Anything else (pg_catalog, information_schema,
// seqline, partitions like t__p0, unknown names) is TABLE_NOT_FOUND with one message whether
// PostgreSQL has such a relation or not. The walk is default-deny (ast.ts): a node type it has
// no rule for is UNSUPPORTED.
//
// CTE scoping follows PostgreSQL (parse_relation.c): a bare name refers to a CTE of the same
// query level or an enclosing one; a schema-qualified name never does; in a non-recursive WITH
// a CTE sees only the CTEs before it, in WITH RECURSIVE all of them. When in doubt a name is a
// table, so a mistake here costs a wrong answer, never a leak.
//
// Decisions:
// - Namespaces `system`, `public`, `information_schema`, `seqline` and `pg_*` never resolve,
//   even if the catalog lists them. The exceptions are the system tables (system-tables.ts):
//   `system.users|namespaces|tables` become a subquery over their meta-schema view, for dba
//   and system only.
// - `schema.table.column` references lose the schema (the replaced table is aliased by its
//   name); four-part references are UNSUPPORTED. A qualified reference `a.b` must be a column
//   of every relation a can mean (rewrite-scope.ts): otherwise PostgreSQL would call b(a.*).
// - LIMIT of the outermost query: none → LIMIT defaultLimit (limitAdded); a constant above
//   maxRows, LIMIT ALL or LIMIT NULL → maxRows (clamped); a parameter or expression →
//   LIMIT LEAST(<expr>, maxRows::bigint) (clamped; `limit` is then the bound maxRows).
//   FETCH … WITH TIES could return more rows than any bound: UNSUPPORTED.
// - FOR UPDATE/SHARE and SELECT INTO: UNSUPPORTED (the transaction is read-only anyway).
// - The SQL text is printed by pgsql-deparser and parsed back: if the result differs from the
//   checked AST the query is refused (ast.ts printStatement).
import {
  and, bigintConst, binaryOp, bodyOf, cloneAst, columnRef, isBody, nameList, nodeParts, not, printStatement, stringConst, typeCast, unsupported, type AstNode, type Body,
} from './ast.js';
import { isAdminRole, RESERVED_NAMESPACES, type Actor, type Catalog, type TableDef } from '@seqline/domain';
import { SqlError } from './errors.js';
import { assertSqlReady } from './init.js';
import { ExprWalker, isCurrentUser } from './rewrite-expr.js';
import { aliased, aliasName, Level, outputColumns, type Columns } from './rewrite-scope.js';
import { SYSTEM_COLUMNS, type Statement } from './types.js';
import { SYSTEM_TABLES, systemView } from './system-tables.js';
import { applyLimit } from './rewrite-limit.js';
import { checkReadAccess } from './validate.js';
import { expiryFloor } from './stream-ttl.js';

export interface RewriteContext {
  readonly catalog: Catalog;
  readonly actor: Actor;
  readonly defaultNamespace: string;
  readonly defaultLimit: number;
  readonly maxRows: number;
  /**
   * Add no LIMIT to a statement that has none (a subscription's snapshot, which pages by
   * `_seq` itself: a LIMIT inside would stop PostgreSQL from using the `_seq` index).
   */
  readonly unlimited?: boolean;
  /** The statement's time (unix ms) for STREAM tables' expiry; default Date.now(). */
  readonly nowMs?: number;
}

export interface RewrittenSelect {
  readonly sql: string;
  readonly tables: readonly TableDef[];
  /** The LIMIT that applies to the outermost query after clamping (the bound, for LEAST). */
  readonly limit: number;
  readonly limitAdded: boolean;
  readonly clamped: boolean;
}

export function rewriteSelect(stmt: Extract<Statement, { kind: 'select' }>, ctx: RewriteContext): RewrittenSelect {
  assertSqlReady('rewriteSelect');
  const ast = cloneAst(stmt.ast) as AstNode;
  const select = stmt.kind === 'select' ? bodyOf(ast, 'SelectStmt') : undefined;
  if (select === undefined) throw new SqlError('UNSUPPORTED', 'only a SELECT can run as a query');
  const rewriter = new SelectRewriter(ctx);
  rewriter.selectStmt(select);
  const limit = applyLimit(select, ctx);
  return { sql: printStatement(ast), tables: rewriter.tables, ...limit };
}

const SELECT_FIELDS = [
  'distinctClause', 'intoClause', 'targetList', 'fromClause', 'whereClause', 'groupClause', 'groupDistinct', 'havingClause', 'windowClause',
  'valuesLists', 'sortClause', 'limitOffset', 'limitCount', 'limitOption', 'lockingClause', 'withClause', 'op', 'all', 'larg', 'rarg',
];
// FROM first: the relations of a level must be known before its column references are checked.
const SELECT_LISTS = ['fromClause', 'distinctClause', 'targetList', 'groupClause', 'windowClause', 'valuesLists', 'sortClause'] as const;
const SELECT_NODES = ['whereClause', 'havingClause', 'limitOffset', 'limitCount'] as const;

/** PostgreSQL's system columns and the owner column: never visible to a query. */
const HIDDEN_COLUMNS: ReadonlySet<string> = new Set(['ctid', 'xmin', 'xmax', 'cmin', 'cmax', 'tableoid', SYSTEM_COLUMNS.userId]);

/** The CTEs a name can refer to, with their columns. */
interface Scope {
  readonly names: ReadonlyMap<string, Columns>;
  readonly parent: Scope | undefined;
}

class SelectRewriter extends ExprWalker {
  readonly tables: TableDef[] = [];
  private scope: Scope | undefined;
  /** The query levels being walked, innermost last (rewrite-scope.ts). */
  private readonly levels: Level[] = [];
  /** Output columns of each walked SelectStmt. */
  private readonly outputs = new WeakMap<Body, Columns>();
  /** Columns of each walked FROM item (the replacement node's body). */
  private readonly itemColumns = new WeakMap<Body, Columns>();

  /** One time for the whole statement: every STREAM table in it expires at the same instant. */
  private readonly nowMs: number;

  constructor(private readonly ctx: RewriteContext) {
    super();
    this.nowMs = ctx.nowMs ?? Date.now();
  }

  selectStmt(body: Body): Columns {
    this.onlyFields('SelectStmt', body, SELECT_FIELDS);
    if (body['intoClause'] !== undefined) throw new SqlError('UNSUPPORTED', 'SELECT INTO is not supported');
    if (body['lockingClause'] !== undefined) throw new SqlError('UNSUPPORTED', 'SELECT … FOR UPDATE/SHARE is not supported');
    const outer = this.scope;
    const level = new Level();
    this.levels.push(level);
    try {
      if (body['withClause'] !== undefined) this.withClause(body['withClause']);
      for (const side of ['larg', 'rarg'] as const) {
        const branch = body[side];
        if (branch === undefined) continue;
        if (!isBody(branch)) throw unsupported('a malformed set operation');
        this.selectStmt(branch);
      }
      for (const field of SELECT_LISTS) if (body[field] !== undefined) body[field] = this.visitList(body[field]);
      if (Array.isArray(body['fromClause'])) level.entries.push(...body['fromClause'].map((item) => this.columnsOf(item)));
      for (const field of SELECT_NODES) if (body[field] !== undefined) body[field] = this.visit(body[field]);
      const columns = outputColumns(body, level, this.outputs);
      this.outputs.set(body, columns);
      return columns;
    } finally {
      this.levels.pop();
      this.scope = outer;
    }
  }

  private withClause(clause: unknown): void {
    if (!isBody(clause)) throw unsupported('a malformed WITH');
    this.onlyFields('WithClause', clause, ['ctes', 'recursive', 'location']);
    const ctes = (Array.isArray(clause['ctes']) ? clause['ctes'] : []).map((c) => bodyOf(c, 'CommonTableExpr') ?? {});
    const names = ctes.map((c) => String(c['ctename']));
    // A recursive CTE refers to itself before its output is known: its column list names it.
    const columns = new Map<string, Columns>(ctes.map((c, i) => [names[i] ?? '', aliasColumns(c['aliascolnames'])]));
    const outer = this.scope;
    ctes.forEach((cte, i) => {
      const visible = clause['recursive'] === true ? names : names.slice(0, i);
      this.scope = { names: new Map(visible.map((n) => [n, columns.get(n)])), parent: outer };
      const output = this.cte(cte);
      columns.set(names[i] ?? '', aliasColumns(cte['aliascolnames']) ?? output);
    });
    this.scope = { names: columns, parent: outer };
  }

  private cte(body: Body): Columns {
    this.onlyFields('CommonTableExpr', body, ['ctename', 'aliascolnames', 'ctematerialized', 'ctequery', 'location']);
    const query = bodyOf(body['ctequery'], 'SelectStmt');
    if (query === undefined) throw new SqlError('UNSUPPORTED', 'only SELECT is supported inside WITH');
    const columns = this.selectStmt(query);
    if (body['aliascolnames'] !== undefined) body['aliascolnames'] = this.visitList(body['aliascolnames']);
    return columns;
  }

  protected visitOther(type: string, body: Body, node: AstNode): unknown {
    switch (type) {
      case 'SelectStmt':
        this.selectStmt(body);
        return node;
      case 'RangeVar':
        return this.rangeVar(body, node);
      case 'RangeSubselect': {
        this.onlyFields(type, body, ['lateral', 'subquery', 'alias']);
        const subquery = bodyOf(body['subquery'], 'SelectStmt');
        if (subquery === undefined) throw unsupported('this subquery');
        this.alias(body['alias']);
        return this.relation(node, aliasName(body['alias']), aliased(this.selectStmt(subquery), body['alias']));
      }
      case 'JoinExpr':
        return this.joinExpr(body, node);
      case 'RangeFunction':
        this.rangeFunction(body);
        // Columns of a function are not tracked: it cannot qualify a column reference.
        return this.relation(node, aliasName(body['alias']), aliasColumns(isBody(body['alias']) ? body['alias']['colnames'] : undefined));
      case 'ColumnRef':
        this.columnRef(body);
        return node;
      case 'ResTarget':
        // Keep the column name PostgreSQL would have given CURRENT_USER.
        if (body['name'] === undefined && isCurrentUser(body['val'])) body['name'] = 'current_user';
        return undefined;
      default:
        return undefined;
    }
  }

  /** Registers a FROM item of the current level under its name; returns its node. */
  private relation(node: AstNode, name: string | undefined, columns: Columns): AstNode {
    this.levels.at(-1)?.add(name, columns);
    const [body] = Object.values(node);
    if (body !== undefined) this.itemColumns.set(body, columns);
    return node;
  }

  private columnsOf(item: unknown): Columns {
    const parts = nodeParts(item);
    return parts === undefined ? undefined : this.itemColumns.get(parts.body);
  }

  protected currentUser(): AstNode {
    return typeCast(stringConst(this.ctx.actor.userId), ['text']);
  }

  protected clock(): undefined {
    return undefined;
  }

  protected onFunction(): undefined {
    return undefined;
  }

  private rangeVar(body: Body, node: AstNode): AstNode {
    this.onlyFields('RangeVar', body, ['catalogname', 'schemaname', 'relname', 'inh', 'relpersistence', 'alias', 'location']);
    const name = stringField(body, 'relname') ?? '';
    const schema = stringField(body, 'schemaname');
    this.alias(body['alias']);
    const refname = aliasName(body['alias']) ?? name;
    const database = stringField(body, 'catalogname');
    if (database !== undefined) throw notFound(`${database}.${schema ?? ''}.${name}`);
    const cte = schema === undefined ? this.cteColumns(name) : undefined;
    if (cte !== undefined) return this.relation(node, refname, aliased(cte.columns, body['alias']));
    const namespace = schema ?? this.ctx.defaultNamespace;
    const system = namespace.toLowerCase() === 'system' ? SYSTEM_TABLES.get(name) : undefined;
    if (system !== undefined) return this.relation(this.systemTable(system, body), refname, aliased(system.columns.map((c) => c.name), body['alias']));
    const table = isHiddenNamespace(namespace) ? undefined : this.ctx.catalog.table(namespace, name);
    if (table === undefined) throw notFound(`${namespace}.${name}`);
    checkReadAccess(table, this.ctx.actor);
    if (!this.tables.some((t) => t.namespace === table.namespace && t.name === table.name)) this.tables.push(table);
    const alias = isBody(body['alias']) ? body['alias'] : { aliasname: name };
    const columns = [...table.columns.map((c) => c.name), SYSTEM_COLUMNS.seq, SYSTEM_COLUMNS.deleted];
    return this.relation({ RangeSubselect: { subquery: partitionSelect(table, this.ctx.actor, this.nowMs), alias } }, refname, aliased(columns, alias));
  }

  private systemTable(table: TableDef, body: Body): AstNode {
    if (!isAdminRole(this.ctx.actor.role)) throw new SqlError('PERMISSION_DENIED', `permission denied: system.${table.name} is readable by dba and system only`);
    if (!this.tables.includes(table)) this.tables.push(table);
    const view = systemView(table.name);
    const subquery: AstNode = {
      SelectStmt: {
        targetList: table.columns.map((c) => ({ ResTarget: { val: columnRef(view.name, c.name) } })),
        fromClause: [{ RangeVar: { schemaname: view.schema, relname: view.name, inh: true, relpersistence: 'p' } }],
        limitOption: 'LIMIT_OPTION_DEFAULT',
        op: 'SETOP_NONE',
      },
    };
    return { RangeSubselect: { subquery, alias: isBody(body['alias']) ? body['alias'] : { aliasname: table.name } } };
  }

  /** The CTE a bare name refers to (the innermost), with its columns; undefined when none. */
  private cteColumns(name: string): { readonly columns: Columns } | undefined {
    for (let s = this.scope; s !== undefined; s = s.parent) if (s.names.has(name)) return { columns: s.names.get(name) };
    return undefined;
  }

  private joinExpr(body: Body, node: AstNode): AstNode {
    this.onlyFields('JoinExpr', body, ['jointype', 'isNatural', 'larg', 'rarg', 'usingClause', 'join_using_alias', 'quals', 'alias', 'rtindex']);
    body['larg'] = this.visit(body['larg']);
    body['rarg'] = this.visit(body['rarg']);
    if (body['usingClause'] !== undefined) body['usingClause'] = this.visitList(body['usingClause']);
    if (body['quals'] !== undefined) body['quals'] = this.visit(body['quals']);
    this.alias(body['alias']);
    this.alias(body['join_using_alias']);
    // USING and NATURAL merge columns: their order is PostgreSQL's business, not tracked here.
    const left = this.columnsOf(body['larg']);
    const right = this.columnsOf(body['rarg']);
    const merged = body['usingClause'] !== undefined || body['isNatural'] === true || left === undefined || right === undefined ? undefined : [...left, ...right];
    if (body['join_using_alias'] !== undefined) this.levels.at(-1)?.add(aliasName(body['join_using_alias']), undefined);
    return this.relation(node, aliasName(body['alias']), aliased(merged, body['alias']));
  }

  // A function in FROM: only allow-listed calls, and no column definition list.
  private rangeFunction(body: Body): void {
    this.onlyFields('RangeFunction', body, ['lateral', 'ordinality', 'is_rowsfrom', 'functions', 'alias']);
    const functions = Array.isArray(body['functions']) ? body['functions'] : [];
    for (const item of functions) {
      const items = bodyOf(item, 'List')?.['items'];
      if (!Array.isArray(items) || items.length === 0 || items.length > 2) throw unsupported('this function in FROM');
      const [call, columns] = items as [unknown, unknown];
      if (columns !== undefined && (!isBody(columns) || Object.keys(columns).length > 0)) throw unsupported('a column definition list');
      items[0] = this.visit(call);
    }
    this.alias(body['alias']);
  }

  private columnRef(body: Body): void {
    this.onlyFields('ColumnRef', body, ['fields', 'location']);
    let fields = Array.isArray(body['fields']) ? body['fields'] : [];
    for (const field of fields) {
      const name = bodyOf(field, 'String')?.['sval'];
      if (typeof name === 'string' && HIDDEN_COLUMNS.has(name)) throw new SqlError('INVALID_SQL', `column ${name} does not exist`);
    }
    if (fields.length > 3) throw new SqlError('UNSUPPORTED', 'cross-database references are not supported');
    if (fields.length === 3) body['fields'] = fields = fields.slice(1);
    const [relation, column] = fields.map((f) => bodyOf(f, 'String')?.['sval']);
    if (fields.length === 2 && typeof relation === 'string' && typeof column === 'string') this.proveColumn(relation, column);
  }

  // `a.b` is column b of relation a, or PostgreSQL's function-call notation b(a.*) when a has
  // no column b: admitted only when every relation a could mean has a column b.
  private proveColumn(relation: string, column: string): void {
    const candidates = this.levels.flatMap((level) => level.relationsNamed(relation));
    if (candidates.length === 0) throw new SqlError('INVALID_SQL', `missing FROM-clause entry for table ${relation}`);
    if (candidates.some((c) => c === undefined)) {
      throw new SqlError('UNSUPPORTED', `${relation}.${column}: the columns of ${relation} are not known here (a function or a join with USING); write ${column} without ${relation}.`);
    }
    if (!candidates.every((c) => c?.includes(column))) throw new SqlError('INVALID_SQL', `column ${relation}.${column} does not exist`);
  }

  private alias(alias: unknown): void {
    if (alias === undefined) return;
    if (!isBody(alias)) throw unsupported('a malformed alias');
    this.walkBody('Alias', alias);
  }
}

function aliasColumns(value: unknown): Columns {
  const names = value === undefined ? [] : nameList(value);
  return names.length === 0 ? undefined : names;
}

function stringField(body: Body, field: string): string | undefined {
  const value = body[field];
  return typeof value === 'string' ? value : undefined;
}

function notFound(name: string): SqlError {
  return new SqlError('TABLE_NOT_FOUND', `table ${name} does not exist`);
}

function isHiddenNamespace(namespace: string): boolean {
  const lower = namespace.toLowerCase();
  return lower.startsWith('pg_') || (RESERVED_NAMESPACES as readonly string[]).includes(lower);
}

/**
 * The live rows of `table` the actor may see, as a subquery. Its column references are
 * qualified by the table, so none of them can ever resolve to a column of an enclosing query
 * (a user may name an output column `_user_id`; a qualified reference cannot reach it).
 */
function partitionSelect(table: TableDef, actor: Actor, nowMs: number): AstNode {
  const col = (name: string): AstNode => columnRef(table.name, name);
  const columns = [...table.columns.map((c) => c.name), SYSTEM_COLUMNS.seq, SYSTEM_COLUMNS.deleted];
  const live = not(col(SYSTEM_COLUMNS.deleted));
  const owned = binaryOp('=', col(SYSTEM_COLUMNS.userId), stringConst(actor.userId));
  const floor = expiryFloor(table, nowMs);
  const conditions = [...(table.tableType === 'SHARED' ? [] : [owned]), live, ...(floor === undefined ? [] : [binaryOp('>=', col(SYSTEM_COLUMNS.seq), bigintConst(floor))])];
  return {
    SelectStmt: {
      targetList: columns.map((c) => ({ ResTarget: { val: col(c) } })),
      fromClause: [{ RangeVar: { schemaname: table.namespace, relname: table.name, inh: true, relpersistence: 'p' } }],
      whereClause: conditions.length === 1 ? conditions[0]! : and(...conditions),
      limitOption: 'LIMIT_OPTION_DEFAULT',
      op: 'SETOP_NONE',
    },
  };
}
