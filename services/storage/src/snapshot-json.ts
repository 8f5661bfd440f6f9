// Snapshot rows as JSON built by PostgreSQL (docs/architecture.md §4 step 2): a page of a
// snapshot in `_seq` order is read as one value, the JSON array of its rows, so storage
// forwards text instead of turning each row into objects and back into JSON. Each cell's SQL
// gives the value docs/protocol.md §1 prescribes, the same one @seqline/protocol's encodeCell
// gives for what postgres.js reads (snapshot-json.int.test.ts holds the two to each other over
// every type and its edge values):
//   BIGINT, DECIMAL, UUID, TEXT, JSON → their text as a string; SMALLINT, INT, BOOLEAN → as
//   they are; FLOAT, DOUBLE → the number, null for NaN and ±Infinity (JSON has neither), +0 for
//   −0; TIMESTAMP, DATETIME → µs since the epoch and TIME → µs since midnight (extract gives
//   exact numeric seconds); DATE → days since 1970-01-01.
// BYTES (an array of byte values) has no such SQL: a query selecting one is encoded by storage.
import type { DataType } from '@seqline/domain';
import { quoteIdent } from '@seqline/sql';

/** A cell's JSON value as SQL over `ref` (a column reference); undefined for BYTES. */
export function cellJsonSql(ref: string, type: DataType): string | undefined {
  if (typeof type === 'object') return `${ref}::text`; // DECIMAL: exact, as text
  switch (type) {
    case 'Boolean':
    case 'SmallInt':
    case 'Int':
      return ref;
    case 'Float':
      return finite(ref, 'real');
    case 'Double':
      return finite(ref, 'double precision');
    case 'BigInt':
    case 'Text':
    case 'Json':
    case 'Uuid':
      return `${ref}::text`;
    case 'Timestamp':
    case 'DateTime':
    case 'Time':
      return `(extract(epoch FROM ${ref}) * 1000000)::bigint`;
    case 'Date':
      return `(${ref} - DATE '1970-01-01')`;
    case 'Bytes':
      return undefined;
  }
}

/** A float as JSON reads it back in JavaScript: NaN and ±Infinity are null, −0 is 0 (adding +0 makes it so). */
function finite(ref: string, type: string): string {
  return `CASE WHEN ${ref} IN ('NaN'::${type}, 'Infinity'::${type}, '-Infinity'::${type}) THEN NULL ELSE ${ref} + 0::${type} END`;
}

/**
 * A row's JSON object as SQL: `columns` (each with its data type) read from `relation`, as a
 * LATERAL item to select `row_to_json(<alias>)` from (json_build_object would stop at 50
 * columns). Undefined when a column has no SQL encoding (BYTES).
 */
export function rowJsonLateral(relation: string, columns: readonly (readonly [string, DataType])[], alias: string): string | undefined {
  const cells: string[] = [];
  for (const [name, type] of columns) {
    const cell = cellJsonSql(`${relation}.${quoteIdent(name)}`, type);
    if (cell === undefined) return undefined;
    cells.push(`${cell} AS ${quoteIdent(name)}`);
  }
  return `LATERAL (SELECT ${cells.join(', ')}) AS ${alias}`;
}
