// The JSON PostgreSQL builds for a snapshot page (snapshot-json.ts) against the cells storage
// encodes itself (encodeCell over what postgres.js reads): the same values for every data
// type, at their edges, through real PostgreSQL.
import type { DataType } from '@seqline/domain';
import { encodeCell } from '@seqline/protocol';
import { createTestDatabase } from '@seqline/testkit';
import { describe, expect, it } from 'vitest';
import { connectPostgres } from './db.js';
import { cellJsonSql, rowJsonLateral } from './snapshot-json.js';

const COLUMNS: readonly (readonly [string, DataType, string])[] = [
  ['b', 'Boolean', 'boolean'],
  ['s', 'SmallInt', 'smallint'],
  ['i', 'Int', 'integer'],
  ['big', 'BigInt', 'bigint'],
  ['f', 'Float', 'real'],
  ['d', 'Double', 'double precision'],
  ['t', 'Text', 'text COLLATE "C"'],
  ['j', 'Json', 'jsonb'],
  ['ts', 'Timestamp', 'timestamptz'],
  ['dt', 'DateTime', 'timestamptz'],
  ['day', 'Date', 'date'],
  ['tm', 'Time', 'time'],
  ['u', 'Uuid', 'uuid'],
  ['dec', { Decimal: { precision: 38, scale: 10 } }, 'numeric(38,10)'],
];

// Each row: a value per column (SQL literals), the edges of each type among them.
const ROWS: readonly (readonly string[])[] = [
  ['true', '-32768', '-2147483648', '-9223372036854775808', "'-0'", "'-0'", "''", `'{"a": [1, 2.50, "x"], "b": null}'`, "'1970-01-01 00:00:00+00'", "'1969-12-31 23:59:59.5+00'", "'1970-01-01'", "'00:00:00'", "'00000000-0000-0000-0000-000000000000'", "'-0.0000000001'"],
  ['false', '32767', '2147483647', '9223372036854775807', "'NaN'", "'NaN'", `E'quote " backslash \\\\ tab \\t newline \\n bell \\u0007 \\u001f é ✓ 𝄞 \\u2028'`, `'"a string"'`, "'2026-12-03 12:34:56.789012+00'", "'0001-01-01 00:00:00+00'", "'1900-02-28'", "'23:59:59.999999'", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'1234567890123456789012345678.0123456789'"],
  ['true', '0', '0', '0', "'Infinity'", "'-Infinity'", "'plain'", "'[]'", "'2200-01-01 00:00:00.000001+00'", "'2000-01-01 00:00:00.000001+05:30'", "'2099-12-31'", "'24:00:00'", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "'0'"],
  ['false', '1', '-1', '-1', "'0.1'", "'0.1'", "'x'", "'1e400'", "'1999-06-15 08:00:00-07'", "'2026-01-01 00:00:00+00'", "'2026-12-03'", "'12:00:00.5'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'", "'3.14'"],
  ['true', '7', '42', '331234567890123456', "'3.4028235e38'", "'1.7976931348623157e308'", "'0'", "'0.1'", "'2026-12-03 12:34:56+00'", "'2026-12-03 12:34:56.1+00'", "'1970-01-02'", "'00:00:00.000001'", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12'", "'-99.5'"],
  ['false', '-1', '1', '1', "'1e-45'", "'5e-324'", "'null'", "'1.0e-7'", "'1970-01-01 00:00:00.000001+00'", "'1969-12-31 23:59:59.999999+00'", "'1969-12-31'", "'01:02:03'", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13'", "'100'"],
  Array.from({ length: 14 }, () => 'NULL'),
];

describe('snapshot rows as JSON built by PostgreSQL', () => {
  it('gives every data type the value storage’s own cell encoding gives, at the edges too', async () => {
    await using db = await createTestDatabase();
    const sql = connectPostgres(db.url, { max: 1 });
    try {
      await sql.unsafe(`CREATE TABLE cells (n int PRIMARY KEY, ${COLUMNS.map(([name, , type]) => `${name} ${type}`).join(', ')})`);
      await sql.unsafe(`INSERT INTO cells VALUES ${ROWS.map((row, n) => `(${n}, ${row.join(', ')})`).join(', ')}`);
      const types = COLUMNS.map(([name, type]) => [name, type] as const);
      const lateral = rowJsonLateral('c', types, 'cells_json')!;
      const built = await sql.unsafe<{ json: string }[]>(`SELECT row_to_json(cells_json)::text AS json FROM cells AS c, ${lateral} ORDER BY c.n`);
      const read = await sql.unsafe<Record<string, unknown>[]>('SELECT * FROM cells ORDER BY n');
      // What storage sends: its cells through JSON (NaN and ±Infinity become null, −0 becomes 0).
      const encoded = JSON.parse(JSON.stringify(read.map((row) => Object.fromEntries(COLUMNS.map(([name, type]) => [name, encodeCell(row[name], type)]))))) as Record<string, unknown>[];
      expect(built.map((r) => JSON.parse(r.json) as unknown)).toEqual(encoded);
      // Spot checks of the rules themselves (docs/protocol.md §1), not only of the agreement.
      expect(encoded[0]).toMatchObject({ big: '-9223372036854775808', f: 0, d: 0, ts: 0, dt: -500_000, day: 0, tm: 0, dec: '-0.0000000001' });
      expect(Object.is(encoded[0]!['f'], 0)).toBe(true);
      expect(encoded[1]).toMatchObject({ f: null, d: null, ts: 1_796_301_296_789_012, dt: -62_135_596_800_000_000, day: -25_509, tm: 86_399_999_999 });
      expect(encoded[2]).toMatchObject({ f: null, d: null, ts: 7_258_118_400_000_001, tm: 86_400_000_000 });
      expect(Object.values(encoded[6]!)).toEqual(Array.from({ length: COLUMNS.length }, () => null));
    } finally {
      await sql.end();
    }
  });

  it('has no SQL for BYTES: such a row is encoded by storage', () => {
    expect(cellJsonSql('x', 'Bytes')).toBeUndefined();
    expect(rowJsonLateral('r', [['id', 'Int'], ['blob', 'Bytes']], 'c')).toBeUndefined();
  });
});
