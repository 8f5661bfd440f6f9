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
import type { JsonScalar } from '../http/shapes.js';

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
  /** `index` is the failing statement's (undefined when the batch failed as a whole). */
  | { readonly ok: false; readonly error: ProtocolError; readonly index: number | undefined };

type Step = { readonly path: 'query'; readonly sql: string; readonly asUser: string } | { readonly path: 'execute' | 'system_live'; readonly sql: string };

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
  const results: string[] = [];
  for (const [i, step] of steps.entries()) {
    try {
      const json =
        step.path === 'query'
          ? await deps.backend.query({ caller, sql: step.sql, paramsJson, namespace, asUser: step.asUser })
          : step.path === 'system_live'
            ? await systemLive(deps, caller, step.sql, req.params)
            : await deps.backend.execute({ caller, sql: step.sql, paramsJson, namespace, idempotencyKey: idempotencyKeyFor(req.idempotencyKey, i, steps.length) });
      results.push(checkResult(json));
    } catch (err) {
      return { ok: false, error: toProtocolError(err), index: i };
    }
  }
  return { ok: true, results };
}

/** Parses and classifies the whole batch before anything runs: a syntax error in statement 3 runs nothing. */
export function plan(parser: SqlParser, req: Pick<BatchRequest, 'sql' | 'params' | 'namespaceId'>): { ok: true; steps: readonly Step[] } | { ok: false; error: ProtocolError; index: undefined } {
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
  // A batch of one is sent as the client wrote it; a statement of a batch as its source slice.
  const sourceOf = (p: ParsedStatement): string => (statements.length === 1 ? req.sql : p.source);
  return { ok: true, steps: statements.map((p) => stepFor(parser, p.statement, sourceOf(p))) };
}

function systemLive(deps: DispatchDeps, caller: Caller, sql: string, params: readonly JsonScalar[]): Promise<string> {
  if (deps.systemLive === undefined) throw new ProtocolError('TABLE_NOT_FOUND', 'table system.live does not exist on a gateway without realtime subscriptions');
  return deps.systemLive(caller, sql, params);
}

function stepFor(parser: SqlParser, stmt: Statement, sourceText: string): Step {
  if (stmt.kind === 'select' && readsSystemLive(stmt)) return { path: 'system_live', sql: stmt.text };
  if (parser.classify(stmt) === 'read') {
    if (stmt.kind === 'select') return { path: 'query', sql: stmt.text, asUser: '' };
    if (stmt.kind === 'execute_as' && stmt.inner.kind === 'select') return { path: 'query', sql: stmt.inner.text, asUser: stmt.user };
    // SHOW NAMESPACES, SHOW TABLES, DESCRIBE: storage answers them from its catalog.
    if (stmt.kind === 'show_namespaces' || stmt.kind === 'show_tables' || stmt.kind === 'describe_table') return { path: 'query', sql: sourceText, asUser: '' };
  }
  // DML keeps its (parser-normalized) text; other kinds carry none, so send the source slice.
  const own = stmt.kind === 'insert' || stmt.kind === 'update' || stmt.kind === 'delete' ? stmt.text : sourceText;
  return { path: 'execute', sql: own };
}

export function idempotencyKeyFor(key: string | undefined, index: number, count: number): string {
  if (key === undefined || key === '') return '';
  return count > 1 ? `${key}#${index}` : key;
}

/** A service's result must be one JSON object; anything else is a bug behind us, not the client's. */
function checkResult(json: string): string {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new ProtocolError('INTERNAL_ERROR', 'internal error', { cause: new Error('a service answered a result that is not JSON', { cause: err }) });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('INTERNAL_ERROR', 'internal error', { cause: new Error(`a service answered a result that is not a JSON object: ${json.slice(0, 100)}`) });
  }
  return json;
}

/** The success body: the results spliced in as they came (see the header). */
export function successBody(results: readonly string[], took: number): string {
  return `{"status":"success","took":${took},"results":[${results.join(',')}]}`;
}
