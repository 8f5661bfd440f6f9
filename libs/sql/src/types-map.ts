// Column types: the names a CREATE TABLE may use (docs/protocol.md §3), KalamDB's data types they
// become (types.ts DataType, what clients see in a schema), and the PostgreSQL types of the
// physical columns.
//
// Decisions:
// - DECIMAL without (p,s) is DECIMAL(38,10), DataFusion's default, which KalamDB inherits;
//   DECIMAL(p) has scale 0 (SQL standard). 1 <= p <= 38, 0 <= s <= p.
// - VARCHAR(n) is Text: the length is accepted and not enforced.
// - TIMESTAMP, TIMESTAMPTZ and DATETIME are instants (timestamptz); TIME is time without zone.
// - No other type takes modifiers: TIMESTAMP(3), TEXT(5) are refused rather than ignored.
import type { DataType, SimpleType } from '@seqline/domain';
import { SqlError } from './errors.js';

const PG_TYPES: Readonly<Record<SimpleType, string>> = {
  Boolean: 'boolean',
  SmallInt: 'smallint',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'real',
  Double: 'double precision',
  Text: 'text',
  Bytes: 'bytea',
  Json: 'jsonb',
  Timestamp: 'timestamptz',
  DateTime: 'timestamptz',
  Date: 'date',
  Time: 'time',
  Uuid: 'uuid',
};

/** Type names as PostgreSQL's grammar leaves them (pg_catalog.int4 → int4) and KalamDB's own. */
const NAMES: Readonly<Record<string, SimpleType>> = {
  boolean: 'Boolean',
  bool: 'Boolean',
  smallint: 'SmallInt',
  int2: 'SmallInt',
  int: 'Int',
  integer: 'Int',
  int4: 'Int',
  bigint: 'BigInt',
  int8: 'BigInt',
  float: 'Float',
  real: 'Float',
  float4: 'Float',
  double: 'Double',
  float8: 'Double',
  text: 'Text',
  varchar: 'Text',
  string: 'Text',
  bytes: 'Bytes',
  bytea: 'Bytes',
  blob: 'Bytes',
  json: 'Json',
  jsonb: 'Json',
  timestamp: 'Timestamp',
  timestamptz: 'Timestamp',
  datetime: 'DateTime',
  date: 'Date',
  time: 'Time',
  uuid: 'Uuid',
};

const DECIMAL_NAMES = new Set(['decimal', 'numeric', 'dec']);
export const DEFAULT_DECIMAL = { precision: 38, scale: 10 } as const;
const MAX_PRECISION = 38;

const SUPPORTED =
  'BOOLEAN, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL(p,s), TEXT, VARCHAR, BYTES, JSON, TIMESTAMP, DATE, DATETIME, TIME, UUID';

export function pgType(t: DataType): string {
  if (typeof t === 'string') return PG_TYPES[t];
  return `numeric(${t.Decimal.precision},${t.Decimal.scale})`;
}

/** KalamDB's name of a type, for messages and schemas: `BigInt`, `Decimal(10,2)`. */
export function dataTypeName(t: DataType): string {
  if (typeof t === 'string') return t;
  return `Decimal(${t.Decimal.precision},${t.Decimal.scale})`;
}

/**
 * The DataType of a PostgreSQL TypeName: `names` as the grammar produced them (a leading
 * `pg_catalog` is allowed), `typmods` the integer modifiers. Unsupported → INVALID_SQL.
 */
export function parseDataType(names: readonly string[], typmods: readonly number[]): DataType {
  const parts = names[0]?.toLowerCase() === 'pg_catalog' && names.length === 2 ? names.slice(1) : names;
  const name = parts.length === 1 ? (parts[0] ?? '').toLowerCase() : undefined;
  const shown = `${parts.join('.')}${typmods.length > 0 ? `(${typmods.join(',')})` : ''}`;
  if (name !== undefined && DECIMAL_NAMES.has(name)) return decimal(typmods, shown);
  const simple = name === undefined ? undefined : NAMES[name];
  if (simple === undefined) throw new SqlError('INVALID_SQL', `unsupported column type ${shown}; supported: ${SUPPORTED}`);
  if (typmods.length > 0 && !(name === 'varchar' && typmods.length === 1)) {
    throw new SqlError('INVALID_SQL', `type ${shown} takes no modifiers; use ${name?.toUpperCase() ?? ''}`);
  }
  return simple;
}

function decimal(typmods: readonly number[], shown: string): DataType {
  if (typmods.length === 0) return { Decimal: DEFAULT_DECIMAL };
  const [precision = 0, scale = 0] = typmods;
  if (typmods.length > 2 || precision < 1 || precision > MAX_PRECISION || scale < 0 || scale > precision) {
    throw new SqlError('INVALID_SQL', `invalid ${shown.toUpperCase()}: DECIMAL(p,s) needs 1 <= p <= ${MAX_PRECISION} and 0 <= s <= p`);
  }
  return { Decimal: { precision, scale } };
}
