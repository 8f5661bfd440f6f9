// POST /v1/api/sql after authentication and body validation (docs/architecture.md §3 step 1): parse the
// batch, then run its statements one after the other, in order, each on its path:
//
//   read  (SELECT, EXECUTE AS … (SELECT))  → Storage.Query   (the inner SELECT, as_user = target)
//   SHOW NAMESPACES|TABLES, DESCRIBE        → Storage.Query   (answered from the catalog)
//   write, ddl, user                        → Write.Execute  (the statement's own text)
//   SELECT … FROM system.live               → every gateway's subscriptions (live/system-live.ts)
//
// The first failing statement ends the batch and its error is the answer; statements before
// it stay applied (KalamDB's behaviour; each statement is its own transaction). A batch may
// not carry parameters. With an Idempotency-Key, statement i of a batch of several uses
// `<key>#<i>`, so a retried batch re-applies none of the writes that already went through.
//
// BEGIN; …; COMMIT (or ROLLBACK) is one step (sql/transaction.ts): its statements go to the
// write service together, as one Execute, and are applied as one op, all or none; its answer
// is one result per statement, BEGIN and COMMIT included. A transaction takes one key like a
// statement (`<key>#<i>`, i its BEGIN's index, when the request has other steps). A failure
// the write service pins on one statement of it names that statement in the answer.
//
// Statements are split by PostgreSQL's scanner inside @seqline/sql (parseBatch), which gives
// each statement's source text with the parsed statement: there is no second lexer here.
//
// Results are passed through as the JSON text the service wrote (a docs/protocol.md result object):
// checked to be a JSON object, never re-serialized, so nothing is lost or reformatted.
import { ProtocolError, toProtocolError } from '@seqline/protocol';
import { stringifyJsonLossless } from '@seqline/seq';
import { DEFAULT_NAMESPACE } from '@seqline/domain';
import type { ParsedStatement, Statement, StatementClass } from '@seqline/sql';
import type { Backend, Caller } from '../backend.js';
import { readsSystemLive } from '../live/system-live.js';
import type { NamedStatement } from '../http/reply.js';
import type { JsonScalar } from '../http/shapes.js';
import { spansOf, transactionSql, type Span } from './transaction.js';

/** @seqline/sql's parseBatch and classify (injected, so this file is pure). */
export interface SqlParser {
  parse(sql: string, defaultNamespace: string): readonly ParsedStatement[];
  classify(stmt: Statement): StatementClass;
}

export interface BatchRequest {
  readonly sql: string;
  readonly params: readonly JsonScalar[];
  readonly namespaceId: string | undefined;
  readonly idempotencyKey: string | undefined;
}

export type BatchOutcome =
  | { readonly ok: true; readonly results: readonly string[] }
  /**
   * `index` is the failing statement's (undefined when the batch failed as a whole). `named` is
   * set when the answer names the statement (a transaction's): its index and source text.
   */
  | { readonly ok: false; readonly error: ProtocolError; readonly index: number | undefined; readonly named?: NamedStatement };

/** `index`: the request's index of the step's (first) statement. */
type Step =
  | { readonly path: 'query'; readonly sql: string; readonly asUser: string; readonly index: number }
  | { readonly path: 'execute' | 'system_live'; readonly sql: string; readonly index: number }
  /** `sources`: the client's text of each statement, BEGIN to COMMIT. */
  | { readonly path: 'transaction'; readonly sql: string; readonly index: number; readonly sources: readonly string[] };

/** Answers a SELECT of system.live as a docs/protocol.md result object (JSON text). */
export type SystemLive = (caller: Caller, sql: string, params: readonly JsonScalar[]) => Promise<string>;

export interface DispatchDeps {
  readonly backend: Backend;
  readonly parser: SqlParser;
  /** Absent on a gateway without realtime (an embedded one): system.live does not exist there. */
  readonly systemLive?: SystemLive;
}

export async function runBatch(deps: DispatchDeps, caller: Caller, req: BatchRequest): Promise<BatchOutcome> {
  const planned = plan(deps.parser, req);
  if (!planned.ok) return planned;
  const { steps } = planned;
  const paramsJson = req.params.length === 0 ? '' : stringifyJsonLossless(req.params);
  const namespace = req.namespaceId ?? '';
  // Results are JSON texts spliced into the body with `,` between them: a transaction's is the
  // inside of its array (one object per statement), so it stays one entry here.
  const results: string[] = [];
  for (const step of steps) {
    const idempotencyKey = idempotencyKeyFor(req.idempotencyKey, step.index, steps.length);
    try {
      switch (step.path) {
        case 'query':
          results.push(checkResult(await deps.backend.query({ caller, sql: step.sql, paramsJson, namespace, asUser: step.asUser })));
          break;
        case 'system_live':
          results.push(checkResult(await systemLive(deps, caller, step.sql, req.params)));
          break;
        case 'execute':
          results.push(checkResult(await deps.backend.execute({ caller, sql: step.sql, paramsJson, namespace, idempotencyKey })));
          break;
        case 'transaction':
          results.push(checkResults(await deps.backend.execute({ caller, sql: step.sql, paramsJson: '', namespace, idempotencyKey }), step.sources.length));
          break;
      }
    } catch (err) {
      const error = toProtocolError(err);
      if (step.path !== 'transaction') return { ok: false, error, index: step.index };
      return failedAt(error, step.sources, step.index, step.index);
    }
  }
  return { ok: true, results };
}

/** Parses and classifies the whole batch before anything runs: a syntax error in statement 3 runs nothing. */
export function plan(
  parser: SqlParser,
  req: Pick<BatchRequest, 'sql' | 'params' | 'namespaceId'>,
): { ok: true; steps: readonly Step[] } | Failure {
  const failure = (error: ProtocolError) => ({ ok: false as const, error, index: undefined });
  let statements: readonly ParsedStatement[];
  try {
    statements = parser.parse(req.sql, req.namespaceId ?? DEFAULT_NAMESPACE);
  } catch (err) {
    return failure(toProtocolError(err));
  }
  if (statements.length === 0) return failure(new ProtocolError('EMPTY_SQL', 'SQL is empty'));
  if (statements.length > 1 && req.params.length > 0) {
    return failure(new ProtocolError('PARAMS_WITH_BATCH', `parameters cannot be used with a batch of ${statements.length} statements; send one statement per request`));
  }
  let spans: Span[];
  try {
    spans = spansOf(statements, (stmt) => parser.classify(stmt));
  } catch (err) {
    return failedAt(toProtocolError(err), statements.map((p) => p.source), 0, undefined);
  }
  // A batch of one is sent as the client wrote it; a statement of a batch as its source slice.
  const sourceOf = (p: ParsedStatement): string => (statements.length === 1 ? req.sql : p.source);
  return {
    ok: true,
    steps: spans.map((span) =>
      span.kind === 'statement'
        ? stepFor(parser, span.parsed.statement, sourceOf(span.parsed), span.index)
        : { path: 'transaction', sql: transactionSql(span.statements), index: span.index, sources: span.statements.map((p) => p.source) },
    ),
  };
}

type Failure = Extract<BatchOutcome, { ok: false }>;

/**
 * The outcome of `error`, naming the statement it points at (ProtocolError.statement, an index
 * into `texts`, whose first is the request's statement `first`); `otherwise` is the index
 * reported when it points at none.
 */
function failedAt(error: ProtocolError, texts: readonly string[], first: number, otherwise: number | undefined): Failure {
  const text = error.statement === undefined ? undefined : texts[error.statement];
  if (text === undefined) return { ok: false, error, index: otherwise };
  const index = first + error.statement!;
  return { ok: false, error, index, named: { index, text: clip(text) } };
}

/** At most this much of a statement's text is echoed in an error answer. */
const NAMED_TEXT_CHARS = 1000;

function clip(text: string): string {
  return text.length <= NAMED_TEXT_CHARS ? text : `${text.slice(0, NAMED_TEXT_CHARS)}…`;
}

function systemLive(deps: DispatchDeps, caller: Caller, sql: string, params: readonly JsonScalar[]): Promise<string> {
  if (deps.systemLive === undefined) throw new ProtocolError('TABLE_NOT_FOUND', 'table system.live does not exist on a gateway without realtime subscriptions');
  return deps.systemLive(caller, sql, params);
}

function stepFor(parser: SqlParser, stmt: Statement, sourceText: string, index: number): Step {
  if (stmt.kind === 'select' && readsSystemLive(stmt)) return { path: 'system_live', sql: stmt.text, index };
  if (parser.classify(stmt) === 'read') {
    if (stmt.kind === 'select') return { path: 'query', sql: stmt.text, asUser: '', index };
    if (stmt.kind === 'execute_as' && stmt.inner.kind === 'select') return { path: 'query', sql: stmt.inner.text, asUser: stmt.user, index };
    // SHOW NAMESPACES, SHOW TABLES, DESCRIBE: storage answers them from its catalog.
    if (stmt.kind === 'show_namespaces' || stmt.kind === 'show_tables' || stmt.kind === 'describe_table') return { path: 'query', sql: sourceText, asUser: '', index };
  }
  // DML keeps its (parser-normalized) text; other kinds carry none, so send the source slice.
  const own = stmt.kind === 'insert' || stmt.kind === 'update' || stmt.kind === 'delete' ? stmt.text : sourceText;
  return { path: 'execute', sql: own, index };
}

export function idempotencyKeyFor(key: string | undefined, index: number, count: number): string {
  if (key === undefined || key === '') return '';
  return count > 1 ? `${key}#${index}` : key;
}

/** A service's result must be one JSON object; anything else is a bug behind us, not the client's. */
function checkResult(json: string): string {
  if (!isObject(parseJson(json))) throw internal(`a service answered a result that is not a JSON object: ${json.slice(0, 100)}`);
  return json;
}

/** A transaction's results: a JSON array of `count` objects; its inside, to splice into the body. */
function checkResults(json: string, count: number): string {
  const value = parseJson(json);
  if (!Array.isArray(value) || value.length !== count || !value.every(isObject)) throw internal(`a service answered a transaction's results that are not ${count} JSON objects: ${json.slice(0, 100)}`);
  return json.trim().slice(1, -1);
}

function parseJson(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch (err) {
    throw internal('a service answered a result that is not JSON', err);
  }
}

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

function internal(why: string, cause?: unknown): ProtocolError {
  return new ProtocolError('INTERNAL_ERROR', 'internal error', { cause: new Error(why, cause === undefined ? undefined : { cause }) });
}

/** The success body: the results spliced in as they came (see the header). */
export function successBody(results: readonly string[], took: number): string {
  return `{"status":"success","took":${took},"results":[${results.join(',')}]}`;
}
