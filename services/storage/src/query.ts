// Reads (docs/architecture.md §2 "Isolation, twice"): the SELECT is rewritten from its AST so every table
// reference becomes the caller's partition with tombstones hidden (layer 1), then runs in a
// read-only transaction as seqline_reader, whose row-level-security policies only admit the
// caller's rows (layer 2). Cells are encoded per docs/protocol.md §1.
import { columnFlags, dataTypeForOid, encodeCell, ProtocolError, schemaEntry, type QueryResult, type SchemaEntry } from '@seqline/protocol';
import { parseJsonLossless } from '@seqline/seq';
import type { Actor, DataType, TableDef } from '@seqline/domain';
import { READER_ROLE, rewriteSelect, SETTING_ROLE, SETTING_USER_ID, type Statement } from '@seqline/sql';
import type { Sql, TransactionSql } from 'postgres';
import type { CatalogCache } from './catalog.js';
import { pgToProtocolError } from './pg-errors.js';

export interface QueryContext {
  readonly sql: Sql;
  readonly catalog: CatalogCache;
  readonly defaultLimit: number;
  readonly maxRows: number;
  readonly timeoutMs: number;
}

interface Column {
  readonly name: string;
  readonly type: number;
}

export async function runQuery(ctx: QueryContext, stmt: Extract<Statement, { kind: 'select' }>, actor: Actor, params: readonly unknown[], namespace: string): Promise<QueryResult> {
  const rewritten = rewriteSelect(stmt, { catalog: ctx.catalog, actor, defaultNamespace: namespace, defaultLimit: ctx.defaultLimit, maxRows: ctx.maxRows });
  let result: { rows: unknown[][]; columns: readonly Column[] };
  try {
    result = await asReader(ctx, actor, async (tx) => {
      const rows = await tx.unsafe(rewritten.sql, [...params] as never[]).values();
      return { rows: rows as unknown as unknown[][], columns: rows.columns };
    });
  } catch (err) {
    throw pgToProtocolError(err) ?? err;
  }
  const schema = result.columns.map((c, i) => columnSchema(c, i, rewritten.tables));
  const rows = result.rows.map((row) => row.map((v, i) => encodeCell(v, schema[i]!.data_type)));
  const truncated = rewritten.limitAdded && rows.length === rewritten.limit;
  const message = truncated
    ? `result limited to ${rewritten.limit} rows (the default); add a LIMIT of up to ${ctx.maxRows} to choose`
    : rewritten.clamped && rows.length === rewritten.limit
      ? `result limited to ${rewritten.limit} rows (the configured maximum)`
      : undefined;
  return { schema, rows, row_count: rows.length, as_user: actor.userId, ...(message === undefined ? {} : { message }) };
}

/** Runs `fn` in a read-only transaction as seqline_reader, with the settings its RLS policies and views read. */
export function asReader<T>(ctx: Pick<QueryContext, 'sql' | 'timeoutMs'>, actor: Actor, fn: (tx: TransactionSql) => Promise<T>): Promise<T> {
  return ctx.sql.begin('read only', async (tx) => {
    await tx`SELECT set_config(${SETTING_USER_ID}, ${actor.userId}, true), set_config(${SETTING_ROLE}, ${actor.role}, true), set_config('statement_timeout', ${String(ctx.timeoutMs)}, true), set_config('search_path', 'pg_catalog', true)`;
    await tx.unsafe(`SET LOCAL ROLE ${READER_ROLE}`);
    return fn(tx);
  }) as Promise<T>;
}

/** Catalog type and flags when the column is a table column of that PostgreSQL type; else from the OID. */
function columnSchema(column: Column, index: number, tables: readonly TableDef[]): SchemaEntry {
  if (column.name === '_seq' && column.type === 20) return schemaEntry('_seq', 'BigInt', index);
  if (column.name === '_deleted' && column.type === 16) return schemaEntry('_deleted', 'Boolean', index);
  const fromOid = dataTypeForOid(column.type);
  for (const t of tables) {
    const def = t.columns.find((c) => c.name === column.name);
    if (def !== undefined && sameFamily(def.dataType, fromOid)) return schemaEntry(def.name, def.dataType, index, columnFlags(def));
  }
  return schemaEntry(column.name, fromOid, index);
}

function sameFamily(declared: DataType, fromOid: DataType): boolean {
  if (typeof declared === 'object' || typeof fromOid === 'object') return typeof declared === 'object' && typeof fromOid === 'object';
  if (declared === 'DateTime') return fromOid === 'Timestamp';
  return declared === fromOid;
}

/** `params_json` of a request: a JSON array of scalars; 64-bit integers stay exact (as strings). */
export function parseParams(json: string): unknown[] {
  if (json === '') return [];
  let value: unknown;
  try {
    value = parseJsonLossless(json);
  } catch {
    throw new ProtocolError('INVALID_PARAMETER', 'params must be a JSON array');
  }
  if (!Array.isArray(value)) throw new ProtocolError('INVALID_PARAMETER', 'params must be a JSON array');
  return (value as unknown[]).map((v: unknown, i) => {
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
    if (typeof v === 'bigint') return v.toString();
    throw new ProtocolError('INVALID_PARAMETER', `parameter $${i + 1} must be a string, number, boolean or null`);
  });
}
