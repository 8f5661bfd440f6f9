import { describe, expect, it } from 'vitest';
import type { InsertStatement } from './apply-op.js';
import { joinInserts, joins, renumberable, rowsByInsert } from './merge.js';

const HEAD = 'INSERT INTO "app"."t" AS "t" ("_user_id", "id", "v", "_seq", "_deleted") VALUES ';
const TAIL = ' ON CONFLICT ("_user_id", "id") DO UPDATE SET "v" = EXCLUDED."v" WHERE "t"."_deleted" RETURNING "t"."id", "t"."v", "t"."_seq"';

function insert(values: string, params: unknown[], seqs: bigint[], head = HEAD): InsertStatement {
  return { head, values, tail: TAIL, text: head + values + TAIL, params, seqs };
}

describe('joining inserts', () => {
  it('joins the VALUES lists, renumbering the parameters of each insert after the first', () => {
    const a = insert('($3, CAST(($1) AS integer), CAST(($2) AS text), $4::bigint, false)', [1, 'x', 'alice', '10'], [10n]);
    const b = insert('($2, CAST(($1) AS integer), CAST(NULL AS text), $3::bigint, false), ($2, CAST((abs($1)) AS integer), CAST(NULL AS text), $4::bigint, false)', [2, 'alice', '11', '12'], [11n, 12n]);
    expect(joins(a, b, a.params.length, 1)).toBe(true);
    expect(joinInserts([a, b])).toEqual({
      text: `${HEAD}($3, CAST(($1) AS integer), CAST(($2) AS text), $4::bigint, false), ($6, CAST(($5) AS integer), CAST(NULL AS text), $7::bigint, false), ($6, CAST((abs($5)) AS integer), CAST(NULL AS text), $8::bigint, false)${TAIL}`,
      params: [1, 'x', 'alice', '10', 2, 'alice', '11', '12'],
    });
  });

  it('refuses another table, a quoted literal or name, a $ that is no parameter, and past the limits', () => {
    const a = insert('($1, $2::bigint, false)', ['alice', '1'], [1n]);
    expect(joins(a, insert('($1, $2::bigint, false)', ['alice', '2'], [2n], 'INSERT INTO "app"."u" VALUES '), 2, 1)).toBe(false);
    expect(renumberable("($1, CAST(('costs $1') AS text))")).toBe(false);
    expect(renumberable('($1, CAST(("a$1") AS text))')).toBe(false);
    expect(renumberable('($1, CAST((x$1) AS text))')).toBe(false);
    expect(renumberable('($1, $$x$$)')).toBe(false);
    expect(renumberable('($1, CAST(($2) AS numeric(10,2)))')).toBe(true);
    expect(joins(a, insert('($1, $2::bigint, false)', ['alice', '2'], [2n]), 65_534, 1)).toBe(false);
    expect(joins(a, insert('($1, $2::bigint, false)', ['alice', '2'], [2n]), 2, 200)).toBe(false);
  });

  it('hands each insert the returned rows carrying its _seq, in the order returned', () => {
    const a = insert('', [], [10n]);
    const b = insert('', [], [11n, 12n]);
    const c = insert('', [], [13n]);
    const rows = [{ _seq: '12', id: 3 }, { _seq: '10', id: 1 }, { _seq: '11', id: 2 }];
    expect(rowsByInsert([a, b, c], rows)).toEqual([[{ _seq: '10', id: 1 }], [{ _seq: '12', id: 3 }, { _seq: '11', id: 2 }], []]);
  });
});
