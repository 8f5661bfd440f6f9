// Multi-row inserts (docs/architecture.md §3): consecutive single inserts of a batch into one
// table for one owner go to PostgreSQL as one INSERT … VALUES (…), (…): one statement to bind,
// run and answer instead of one per op. Each op keeps its own result: the rows RETURNING gives
// back are handed to the op whose `_seq` they carry, so an op whose row was not written (its key
// exists) is seen as such. Ids are taken per op as before (the order of `_seq` is unchanged),
// and if the statement fails, every op in it fails, which makes the batch run again with a
// savepoint per op (execute.ts): there each op runs alone and a failing one fails alone.
// Only texts whose `$` are all parameters are joined (no quoted literal or name may hold one):
// the parameters of each op after the first are renumbered by a plain text substitution.
import type { InsertStatement } from './apply-op.js';

type Row = Record<string, unknown>;

/** Most parameters of one statement (PostgreSQL's wire protocol counts them in 16 bits). */
const MAX_PARAMS = 65_535;
/** Most ops joined into one statement. */
export const MAX_JOINED = 200;

const PARAM = /(?<![\w$])\$(\d+)/g;

/** Whether `values` can be renumbered by substitution: every `$` in it starts a parameter. */
export function renumberable(values: string): boolean {
  if (values.includes("'") || values.includes('"')) return false;
  return values.split('$').length - 1 === [...values.matchAll(PARAM)].length;
}

/** Whether `next` can join a statement that `first` starts, already `params` parameters long. */
export function joins(first: InsertStatement, next: InsertStatement, params: number, count: number): boolean {
  return count < MAX_JOINED && next.head === first.head && next.tail === first.tail && params + next.params.length <= MAX_PARAMS && renumberable(next.values);
}

/** One statement inserting the rows of all of `inserts`, which `joins` accepted, in order. */
export function joinInserts(inserts: readonly InsertStatement[]): { text: string; params: unknown[] } {
  const params: unknown[] = [];
  const lists: string[] = [];
  for (const insert of inserts) {
    const offset = params.length;
    lists.push(offset === 0 ? insert.values : insert.values.replace(PARAM, (_, n: string) => `$${Number(n) + offset}`));
    params.push(...insert.params);
  }
  return { text: `${inserts[0]!.head}${lists.join(', ')}${inserts[0]!.tail}`, params };
}

/** The returned rows of each insert, by `_seq` (in the order RETURNING gave them). */
export function rowsByInsert(inserts: readonly InsertStatement[], rows: readonly Row[]): Row[][] {
  const owner = new Map<string, number>();
  inserts.forEach((insert, i) => insert.seqs.forEach((seq) => owner.set(String(seq), i)));
  const out: Row[][] = inserts.map(() => []);
  for (const row of rows) {
    const i = owner.get(String(row['_seq']));
    if (i !== undefined) out[i]!.push(row);
  }
  return out;
}
