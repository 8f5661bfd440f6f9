// Result objects of POST /v1/api/sql (docs/protocol.md §2), built once here so every service
// answers in exactly KalamDB's shapes.
import type { ColumnDef, DataType } from '@seqline/domain';
import type { Cell } from './cells.js';

export type SchemaFlag = 'pk' | 'nn' | 'uq';

export interface SchemaEntry {
  readonly name: string;
  readonly data_type: DataType;
  readonly index: number;
  readonly flags?: readonly SchemaFlag[];
}

export interface QueryResult {
  readonly schema: readonly SchemaEntry[];
  readonly rows: readonly (readonly Cell[])[];
  readonly row_count: number;
  readonly as_user: string;
  readonly message?: string;
}

export interface DmlResult {
  readonly row_count: number;
  readonly message: string;
  readonly as_user: string;
  /** Extension: the highest `_seq` the statement wrote, as a string (read-your-writes). */
  readonly seq?: string;
  readonly schema?: readonly SchemaEntry[];
  readonly rows?: readonly (readonly Cell[])[];
}

export interface DdlResult {
  readonly row_count: 0;
  readonly message: string;
}

export type StatementResult = QueryResult | DmlResult | DdlResult;

export function columnFlags(column: Pick<ColumnDef, 'primaryKey' | 'notNull'>): SchemaFlag[] | undefined {
  if (column.primaryKey) return ['pk', 'nn', 'uq'];
  if (column.notNull) return ['nn'];
  return undefined;
}

export function schemaEntry(name: string, dataType: DataType, index: number, flags?: readonly SchemaFlag[]): SchemaEntry {
  return flags === undefined || flags.length === 0 ? { name, data_type: dataType, index } : { name, data_type: dataType, index, flags };
}

const VERBS = { insert: 'Inserted', update: 'Updated', delete: 'Deleted' } as const;

export function dmlMessage(kind: keyof typeof VERBS, rows: number): string {
  return `${VERBS[kind]} ${rows} row(s)`;
}

export interface ErrorBody {
  readonly status: 'error';
  readonly results: readonly [];
  readonly took: number;
  /** `statement_index` and `statement` (additions) name the failing statement of a transaction: its index in the request and its text. */
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown; readonly statement_index?: number; readonly statement?: string };
}

export interface SuccessBody {
  readonly status: 'success';
  readonly took: number;
  readonly results: readonly StatementResult[];
}
