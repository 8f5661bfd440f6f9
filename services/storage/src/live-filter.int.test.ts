// Differential test of the live-filter evaluator (libs/sql) against PostgreSQL: 10,000 random
// rows with every supported type and NULLs are written to a table with Seqline's physical
// types, read back as storage reads row images (the same client and cell encoding), and
// random supported predicates are evaluated both by PostgreSQL (SELECT … WHERE) and by the
// compiled filter. Every predicate must select exactly the same rows.
import { encodeCell } from '@seqline/protocol';
import type { ColumnDef, TableDef } from '@seqline/domain';
import { compileLiveQuery, initSql, pgType, type LiveRow } from '@seqline/sql';
import { createTestDatabase } from '@seqline/testkit';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres } from './db.js';

const ROWS = 10_000;
const PREDICATES = 400;

const COLUMNS: readonly ColumnDef[] = [
  { name: 'i', dataType: 'Int', notNull: false, primaryKey: false },
  { name: 's', dataType: 'SmallInt', notNull: false, primaryKey: false },
  { name: 'b', dataType: 'BigInt', notNull: false, primaryKey: false },
  { name: 'd', dataType: { Decimal: { precision: 10, scale: 2 } }, notNull: false, primaryKey: false },
  { name: 'f', dataType: 'Float', notNull: false, primaryKey: false },
  { name: 'g', dataType: 'Double', notNull: false, primaryKey: false },
  { name: 't', dataType: 'Text', notNull: false, primaryKey: false },
  { name: 'u', dataType: 'Uuid', notNull: false, primaryKey: false },
  { name: 'ok', dataType: 'Boolean', notNull: false, primaryKey: false },
  { name: 'ts', dataType: 'Timestamp', notNull: false, primaryKey: false },
  { name: 'dt', dataType: 'Date', notNull: false, primaryKey: false },
  { name: 'tm', dataType: 'Time', notNull: false, primaryKey: false },
  { name: 'j', dataType: 'Json', notNull: false, primaryKey: false },
  { name: 'by', dataType: 'Bytes', notNull: false, primaryKey: false },
];

const TABLE: TableDef = {
  namespace: 'app',
  name: 'x',
  tableType: 'USER',
  accessLevel: 'PRIVATE',
  deletedRetentionHours: 168,
  columns: [{ name: 'id', dataType: 'Int', notNull: true, primaryKey: true }, ...COLUMNS],
  primaryKey: 'id',
};
const catalog = { hasNamespace: (ns: string) => ns === 'app', table: (ns: string, name: string) => (ns === 'app' && name === 'x' ? TABLE : undefined) };

type Kind = 'int' | 'smallint' | 'bigint' | 'decimal' | 'real' | 'double' | 'text' | 'uuid' | 'bool' | 'ts' | 'date' | 'time' | 'json' | 'bytes';
const KIND: Readonly<Record<string, Kind>> = { i: 'int', s: 'smallint', b: 'bigint', d: 'decimal', f: 'real', g: 'double', t: 'text', u: 'uuid', ok: 'bool', ts: 'ts', dt: 'date', tm: 'time', j: 'json', by: 'bytes' };

// ---- Values, as SQL literal text (also used to insert the rows) ------------------------------

const CHARS = ['a', 'b', 'A', 'B', 'z', 'Z', '0', '9', ' ', '%', '_', '\\', "'", 'é', 'É', 'ß', 'ÿ', '😀', '\u00a0', '~', '\ufb01'];
const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const pad = (n: number, w: number): string => String(n).padStart(w, '0');

const DAY_US = 86_400_000_000;
const tsText = (us: number): string => {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${pad(((us % 1_000_000) + 1_000_000) % 1_000_000, 6)}+00`;
};
const dateText = (days: number): string => new Date(days * 86_400_000).toISOString().slice(0, 10);
const timeText = (us: number): string => `${pad(Math.floor(us / 3_600_000_000), 2)}:${pad(Math.floor(us / 60_000_000) % 60, 2)}:${pad(Math.floor(us / 1_000_000) % 60, 2)}.${pad(us % 1_000_000, 6)}`;

/** A random value of a kind, as SQL literal text (without a cast); null = SQL NULL. */
function valueArb(kind: Kind): fc.Arbitrary<string> {
  switch (kind) {
    case 'int':
      return fc.oneof(fc.integer({ min: -5, max: 5 }), fc.integer({ min: -2147483648, max: 2147483647 })).map(String);
    case 'smallint':
      return fc.oneof(fc.integer({ min: -5, max: 5 }), fc.integer({ min: -32768, max: 32767 })).map(String);
    case 'bigint':
      return fc.oneof(fc.bigInt({ min: -5n, max: 5n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })).map(String);
    case 'decimal':
      return fc.oneof(fc.integer({ min: -500, max: 500 }), fc.integer({ min: -9_999_999_999, max: 9_999_999_999 })).map((c) => `${c < 0 ? '-' : ''}${Math.floor(Math.abs(c) / 100)}.${pad(Math.abs(c) % 100, 2)}`);
    case 'real':
      return fc.oneof(fc.constantFrom(0, -0, 1.1, 0.5, -2.25, 3), fc.float({ noNaN: true, noDefaultInfinity: true })).map((x) => (Object.is(x, -0) ? '-0' : String(Math.fround(x))));
    case 'double':
      return fc.oneof(fc.constantFrom(0, 1.1, 0.1 + 0.2, -2.25, 1e300), fc.double({ noNaN: true, noDefaultInfinity: true })).map((x) => String(x));
    case 'text':
      return fc.array(fc.constantFrom(...CHARS), { maxLength: 5 }).map((cs) => quote(cs.join('')));
    case 'uuid':
      return fc.oneof(fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '0190a0b0-0000-7000-8000-00000000000a'), fc.uuid({ version: [4, 7] })).map(quote);
    case 'bool':
      return fc.boolean().map(String);
    case 'ts':
      return fc.oneof(fc.constantFrom(0, DAY_US, 1_795_482_123_456_789), fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => ms * 1000 + (ms % 1000)), fc.integer({ min: -2_000_000_000_000, max: 4_102_444_800_000_000 })).map((us) => quote(tsText(us)));
    case 'date':
      return fc.integer({ min: -25_000, max: 50_000 }).map((d) => quote(dateText(d)));
    case 'time':
      return fc.integer({ min: 0, max: DAY_US - 1 }).map((us) => quote(timeText(us)));
    case 'json':
      return fc.constantFrom('{"a":1}', '[]', '"x"', 'null', '{"b":[1,2]}').map(quote);
    case 'bytes':
      return fc.uint8Array({ maxLength: 4 }).map((b) => quote(`\\x${Buffer.from(b).toString('hex')}`));
  }
}

const rowArb = fc.record(Object.fromEntries(COLUMNS.map((c) => [c.name, fc.option(valueArb(KIND[c.name]!), { freq: 6, nil: null })])));

// ---- Predicates -------------------------------------------------------------------------------

const OPS = ['=', '<>', '!=', '<', '<=', '>', '>='];
const comparable = COLUMNS.filter((c) => KIND[c.name] !== 'json' && KIND[c.name] !== 'bytes').map((c) => c.name);
const numeric = ['i', 's', 'b', 'd', 'f', 'g'];

/** A literal that suits column `name`: its own kind, the forms PostgreSQL coerces, or NULL. */
function literalFor(name: string): fc.Arbitrary<string> {
  const kind = KIND[name]!;
  const own = valueArb(kind);
  const extra: fc.Arbitrary<string>[] = [fc.constant('NULL')];
  if (numeric.includes(name)) extra.push(fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((x) => String(Math.round(x * 100) / 100)));
  if (kind === 'int' || kind === 'bigint' || kind === 'smallint') extra.push(fc.integer({ min: -1000, max: 1000 }).map((n) => quote(String(n))));
  if (kind === 'double' || kind === 'real' || kind === 'decimal') extra.push(fc.constantFrom('1.1', "'1.1'", '0.5', '-0', '1e3'));
  if (kind === 'bool') extra.push(fc.constantFrom("'yes'", "'f'", "'on'", "'0'"));
  if (kind === 'ts') extra.push(fc.constantFrom("'2026-01-01'", "'2026-01-01T10:00:00Z'", "'2026-01-01 10:00:00+02'", "'1970-01-01 00:00:00.000001+00'::timestamptz"));
  if (kind === 'uuid') extra.push(fc.uuid().map((u) => quote(u.toUpperCase())));
  if (kind === 'text') extra.push(fc.constant('CURRENT_USER'));
  return fc.oneof({ arbitrary: own, weight: 6 }, ...extra.map((arbitrary) => ({ arbitrary, weight: 1 })));
}

const atomArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...comparable).chain((c) => fc.tuple(fc.constantFrom(...OPS), literalFor(c), fc.boolean()).map(([op, lit, flip]) => (flip ? `${lit} ${op} ${c}` : `${c} ${op} ${lit}`))),
  fc.constantFrom(['i', 's'], ['i', 'b'], ['d', 'i'], ['f', 'g'], ['g', 'd'], ['t', 't'], ['ts', 'ts'], ['s', 'f']).chain(([a, b]) => fc.constantFrom(...OPS).map((op) => `${a} ${op} ${b}`)),
  fc.constantFrom(...comparable).chain((c) => fc.tuple(fc.array(literalFor(c), { minLength: 1, maxLength: 4 }), fc.boolean()).map(([lits, neg]) => `${c} ${neg ? 'NOT IN' : 'IN'} (${lits.join(', ')})`)),
  fc.tuple(fc.constantFrom(...COLUMNS.map((c) => c.name)), fc.boolean()).map(([c, neg]) => `${c} IS ${neg ? 'NOT ' : ''}NULL`),
  fc.constantFrom(...comparable).chain((c) => fc.tuple(literalFor(c), literalFor(c), fc.constantFrom('BETWEEN', 'NOT BETWEEN', 'BETWEEN SYMMETRIC')).map(([a, b, op]) => `${c} ${op} ${a} AND ${b}`)),
  fc.tuple(fc.array(fc.constantFrom('a', 'A', 'é', 'É', '%', '_', '\\%', '\\_', 'z', ' ', 'ß'), { maxLength: 4 }), fc.constantFrom('LIKE', 'NOT LIKE', 'ILIKE', 'NOT ILIKE')).map(([p, op]) => `t ${op} ${quote(p.join(''))}`),
  fc.constantFrom('ok', 'NOT ok'),
);

const predicateArb: fc.Arbitrary<string> = fc.letrec<{ p: string }>((tie) => ({
  p: fc.oneof({ depthSize: 'small', withCrossShrink: true }, atomArb, atomArb, fc.tuple(tie('p'), fc.constantFrom('AND', 'OR'), tie('p')).map(([a, op, b]) => `(${a}) ${op} (${b})`), tie('p').map((a) => `NOT (${a})`)),
})).p;

const LIKE_PATTERNS = 600;
const LIKE_STRINGS = 300;
const LIKE_CHARS = ['a', 'b', 'A', 'é', 'É', '😀', '%', '_', '\\'];
const likePatternArb = fc
  .array(fc.oneof({ arbitrary: fc.constantFrom('%', '_'), weight: 4 }, { arbitrary: fc.constantFrom('a', 'b', 'A', 'é', '😀', '\\%', '\\_', '\\\\', 'ab', 'ba'), weight: 5 }), { maxLength: 10 })
  .map((parts) => parts.join(''));

// ---- The test ---------------------------------------------------------------------------------

describe('live filters against PostgreSQL', () => {
  beforeAll(async () => {
    await initSql();
  });

  it(`select the same rows as PostgreSQL for ${PREDICATES} random predicates over ${ROWS} random rows`, async () => {
    await using db = await createTestDatabase();
    const sql = connectPostgres(db.url, { max: 2 });
    try {
      await sql.unsafe(`CREATE TABLE x (id int PRIMARY KEY, ${COLUMNS.map((c) => `"${c.name}" ${c.dataType === "Text" ? `text COLLATE "C"` : pgType(c.dataType)}`).join(', ')})`);
      const rows = fc.sample(rowArb, { numRuns: ROWS, seed: 20261124 });
      for (let start = 0; start < rows.length; start += 500) {
        const values = rows.slice(start, start + 500).map((r, k) => `(${start + k}, ${COLUMNS.map((c) => r[c.name] ?? 'NULL').join(', ')})`);
        await sql.unsafe(`INSERT INTO x (id, ${COLUMNS.map((c) => `"${c.name}"`).join(', ')}) VALUES ${values.join(', ')}`);
      }
      // Row images exactly as storage builds them: the storage client, then encodeCell per column.
      const stored = await sql.unsafe<Record<string, unknown>[]>(`SELECT * FROM x ORDER BY id`);
      const images: { id: number; image: LiveRow }[] = stored.map((r) => ({ id: r['id'] as number, image: Object.fromEntries(COLUMNS.map((c) => [c.name, encodeCell(r[c.name], c.dataType)])) }));
      expect(images).toHaveLength(ROWS);
      // Every kind shows up with NULLs and values.
      for (const c of COLUMNS) expect([images.some((x) => x.image[c.name] === null), images.some((x) => x.image[c.name] !== null)]).toEqual([true, true]);

      let matchedSome = 0;
      await fc.assert(
        fc.asyncProperty(predicateArb, async (predicate) => {
          const { filter } = compileLiveQuery(`SELECT * FROM app.x WHERE ${predicate}`, { catalog, defaultNamespace: 'app', currentUser: 'alice' });
          const expected = (await sql.unsafe<{ id: number }[]>(`SELECT id FROM x WHERE ${predicate.replace(/CURRENT_USER/g, "'alice'::text")} ORDER BY id`)).map((r) => r.id);
          const actual = images.filter((x) => filter.test(x.image) === true).map((x) => x.id);
          if (expected.length > 0 && expected.length < ROWS) matchedSome++;
          expect({ predicate, rows: actual }).toEqual({ predicate, rows: expected });
        }),
        { numRuns: PREDICATES, seed: 1124, endOnFailure: true },
      );
      // The predicates were not trivially all-or-nothing.
      expect(matchedSome).toBeGreaterThan(PREDICATES / 4);
    } finally {
      await sql.end();
    }
  }, 300_000);

  // LIKE and ILIKE are matched by a segment matcher of their own (libs/sql/src/like.ts), not a
  // regular expression: patterns dense in % and _ (escaped or not) against longer strings.
  it(`match LIKE and ILIKE patterns full of % and _ as PostgreSQL does (${LIKE_PATTERNS} patterns × ${LIKE_STRINGS} strings)`, async () => {
    await using db = await createTestDatabase();
    const sql = connectPostgres(db.url, { max: 1 });
    try {
      const strings = [null, '', ...fc.sample(fc.array(fc.constantFrom(...LIKE_CHARS), { maxLength: 14 }).map((cs) => cs.join('')), { numRuns: LIKE_STRINGS - 2, seed: 1010 })];
      const images = strings.map((t, i) => ({ i: i + 1, image: { ...Object.fromEntries(COLUMNS.map((c) => [c.name, null])), t } }));
      let matchedSome = 0;
      await fc.assert(
        fc.asyncProperty(likePatternArb, fc.constantFrom('LIKE', 'NOT LIKE', 'ILIKE', 'NOT ILIKE'), async (pattern, op) => {
          const predicate = `t ${op} ${quote(pattern)}`;
          const { filter } = compileLiveQuery(`SELECT * FROM app.x WHERE ${predicate}`, { catalog, defaultNamespace: 'app', currentUser: 'alice' });
          const expected = (await sql.unsafe<{ i: string }[]>(`SELECT i FROM unnest($1::text[]) WITH ORDINALITY AS s(t, i) WHERE t COLLATE "C" ${op} ${quote(pattern)} ORDER BY i`, [strings as never])).map((r) => Number(r.i));
          const actual = images.filter((x) => filter.test(x.image) === true).map((x) => x.i);
          if (expected.length > 0 && expected.length < strings.length - 1) matchedSome++;
          expect({ predicate, rows: actual }).toEqual({ predicate, rows: expected });
        }),
        { numRuns: LIKE_PATTERNS, seed: 1011, endOnFailure: true },
      );
      expect(matchedSome).toBeGreaterThan(LIKE_PATTERNS / 4);
    } finally {
      await sql.end();
    }
  }, 300_000);
});

