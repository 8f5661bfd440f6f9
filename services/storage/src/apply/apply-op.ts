// Applying one op inside the apply transaction (docs/architecture.md §3): the statement is re-parsed and
// planned against the catalog; old images come from SELECT … FOR UPDATE, new images from
// … RETURNING; every new row version gets a fresh `_seq` from the id pool, above the shard's
// highest `_seq` so far (ids are taken when planned, so an op that fails never gives its ids
// to another). The caller decides about savepoints.
//
// A transaction op (Op.statements) runs its statements one after the other, each planned when
// the one before has run (so it sees its rows), all with the op's owner, time and actor: their
// `_seq` follow each other, above everything before them on the shard. The first statement
// that fails fails the op (TransactionStatementError names it); the caller's savepoint rolls
// back the statements before it.
import { randomBytes } from 'node:crypto';
import type { busPb } from '@seqline/proto';
import { dmlMessage, encodeCell, ProtocolError, schemaEntry, columnFlags, type Cell, type SchemaEntry } from '@seqline/protocol';
import { SHARED_OWNER, type TableDef } from '@seqline/domain';
import { parseStatements, planDml, type InsertText } from '@seqline/sql';
import type { CatalogCache } from '../catalog.js';
import type { IdPool } from '../ids.js';
import { parseParams } from '../query.js';

type Row = Record<string, unknown>;

/** Runs one statement of the apply transaction and returns its rows. */
export type Exec = (text: string, params: readonly unknown[]) => Promise<Row[]>;

export interface RowImageChange {
  readonly kind: 'insert' | 'update' | 'delete';
  readonly seq: bigint;
  readonly old?: Readonly<Record<string, Cell>>;
  readonly new?: Readonly<Record<string, Cell>>;
}

export interface AppliedOp {
  readonly rowCount: number;
  readonly message: string;
  readonly changes: readonly RowImageChange[];
  readonly returning?: { readonly schema: readonly SchemaEntry[]; readonly rows: readonly (readonly Cell[])[] };
  /** A transaction op: what each of its statements did, in order (`changes` holds them all). */
  readonly statements?: readonly AppliedStatement[];
}

/** One statement of a transaction, applied, with the table it changed. */
export interface AppliedStatement extends AppliedOp {
  readonly namespace: string;
  readonly table: string;
}

/** The statement at `index` of a transaction op failed with `cause`: the whole op fails. */
export class TransactionStatementError extends Error {
  override readonly name = 'TransactionStatementError';
  readonly index: number;

  constructor(index: number, cause: unknown) {
    super(`statement ${index} of the transaction failed`, { cause });
    this.index = index;
  }
}

/** The part of an op one statement needs (a single op is its own; a transaction's are OpStatements). */
type OpStatement = Pick<busPb.OpStatement, 'namespace' | 'statement' | 'paramsJson'>;

export interface ApplyDeps {
  readonly catalog: Pick<CatalogCache, 'table'>;
  readonly ids: Pick<IdPool, 'take'>;
  /** The shard's highest `_seq` so far; ids are taken above it and it is advanced. */
  readonly seqFloor: { value: bigint };
  /**
   * A transaction's time for all its statements (the apply statement timeout: each statement
   * also has it alone), checked before each statement, so a transaction of many statements
   * holds its shard about as long as one slow statement at most. Unset: no limit.
   */
  readonly transactionBudget?: { readonly ms: number; readonly now: () => number } | undefined;
}

/**
 * An op ready to run. An insert is one statement whose text and ids are known before it runs,
 * so the caller may send several in a row without waiting (pipelining: PostgreSQL still runs
 * them one after another, in order); an update or delete reads its old images first.
 */
export type PreparedOp =
  | { readonly kind: 'statement'; readonly text: string; readonly params: readonly unknown[]; readonly finish: (rows: readonly Row[]) => AppliedOp; readonly insert: InsertStatement }
  | { readonly kind: 'steps'; readonly run: (exec: Exec) => Promise<AppliedOp> };

/** An insert's statement in parts (see InsertText) and the `_seq` of each row it writes. */
export interface InsertStatement extends InsertText {
  readonly seqs: readonly bigint[];
}

export async function prepareOp(op: busPb.Op, deps: ApplyDeps): Promise<PreparedOp> {
  if (op.statements.length > 0) return { kind: 'steps', run: (exec) => applyTransaction(exec, op, deps) };
  return prepareStatement(op, op, deps);
}

async function prepareStatement(op: busPb.Op, statement: OpStatement, deps: ApplyDeps): Promise<PreparedOp> {
  const [stmt, ...extra] = parseStatements(statement.statement, { defaultNamespace: statement.namespace });
  if (stmt === undefined || extra.length > 0 || (stmt.kind !== 'insert' && stmt.kind !== 'update' && stmt.kind !== 'delete')) {
    throw new ProtocolError('INVALID_SQL', 'an op must hold exactly one INSERT, UPDATE or DELETE');
  }
  const table = deps.catalog.table(stmt.table.namespace, stmt.table.name);
  if (table === undefined) throw new ProtocolError('TABLE_NOT_FOUND', `table ${stmt.table.namespace}.${stmt.table.name} does not exist`);
  const plan = planDml(stmt, table, parseParams(statement.paramsJson), {
    owner: op.owner,
    currentUser: op.owner === SHARED_OWNER ? op.actor : op.owner,
    nowMicros: op.issuedAtUs,
  });
  const take = async (n: number): Promise<bigint[]> => {
    const ids = await deps.ids.take(n, deps.seqFloor.value);
    advance(deps, ids);
    return ids;
  };
  if (plan.kind === 'insert') {
    const snowflakeColumns = table.columns.filter((c) => c.default?.kind === 'snowflake_id').length;
    const extraIds = await take(plan.rowCount * snowflakeColumns);
    const seqs = await take(plan.rowCount);
    let nextId = 0;
    const query = plan.build({ seqs, nextSnowflakeId: () => extraIds[nextId++] ?? fail('snowflake ids exhausted'), nextUuidV7: uuidV7 });
    const finishInsert = (rows: readonly Row[]): AppliedOp => {
      if (rows.length < plan.rowCount) {
        const n = plan.rowCount - rows.length;
        throw new ProtocolError('SQL_EXECUTION_ERROR', `duplicate primary key: ${n} of ${plan.rowCount} row(s) already exist in ${table.namespace}.${table.name} (${table.primaryKey})`);
      }
      const changes = rows.map((r) => ({ kind: 'insert' as const, seq: BigInt(r['_seq'] as string), new: image(table, r) }));
      return finish('insert', table, changes, plan.returning, rows);
    };
    return { kind: 'statement', text: query.text, params: query.params, finish: finishInsert, insert: { ...query, seqs } };
  }
  const run = async (exec: Exec): Promise<AppliedOp> => {
    const selected = plan.selectForUpdate();
    const old = await exec(selected.text, selected.params);
    if (old.length === 0) return finish(plan.kind, table, [], plan.returning, []);
    const seqs = await take(old.length);
    const applied = plan.apply({ keys: old.map((r) => r[table.primaryKey]), seqs });
    const rows = await exec(applied.text, applied.params);
    const oldByKey = new Map(old.map((r) => [String(r[table.primaryKey]), r]));
    const changes = rows
      .map((r) => {
        const before = oldByKey.get(String(r[table.primaryKey]));
        const seq = BigInt(r['_seq'] as string);
        return plan.kind === 'update'
          ? { kind: 'update' as const, seq, old: image(table, before ?? {}), new: image(table, r) }
          : { kind: 'delete' as const, seq, old: image(table, before ?? {}) };
      })
      .sort((a, b) => (a.seq < b.seq ? -1 : 1));
    return finish(plan.kind, table, changes, plan.returning, plan.kind === 'delete' ? old : rows);
  };
  return { kind: 'steps', run };
}

/** Prepares and runs one op. */
export async function applyOp(exec: Exec, op: busPb.Op, deps: ApplyDeps): Promise<AppliedOp> {
  return run(exec, await prepareOp(op, deps));
}

async function run(exec: Exec, prepared: PreparedOp): Promise<AppliedOp> {
  if (prepared.kind === 'steps') return prepared.run(exec);
  return prepared.finish(await exec(prepared.text, prepared.params));
}

/** A transaction op's statements in order; the first that fails throws TransactionStatementError. */
async function applyTransaction(exec: Exec, op: busPb.Op, deps: ApplyDeps): Promise<AppliedOp> {
  const statements: AppliedStatement[] = [];
  const budget = deps.transactionBudget;
  const started = budget?.now() ?? 0;
  for (const [i, statement] of op.statements.entries()) {
    try {
      if (budget !== undefined && i > 0 && budget.now() - started > budget.ms) {
        throw new ProtocolError('SQL_EXECUTION_ERROR', `the transaction exceeded its time limit (${budget.ms} ms for all its statements)`);
      }
      const applied = await run(exec, await prepareStatement(op, statement, deps));
      statements.push({ ...applied, namespace: statement.namespace, table: statement.table });
    } catch (err) {
      throw new TransactionStatementError(i, err);
    }
  }
  const rowCount = statements.reduce((n, s) => n + s.rowCount, 0);
  return { rowCount, message: `Committed ${statements.length} statement(s)`, changes: statements.flatMap((s) => s.changes), statements };
}

function finish(kind: 'insert' | 'update' | 'delete', table: TableDef, changes: RowImageChange[], returning: readonly string[] | null, rows: readonly Row[]): AppliedOp {
  const base = { rowCount: changes.length, message: dmlMessage(kind, changes.length), changes };
  if (returning === null) return base;
  const columns = returning.map((name) => table.columns.find((c) => c.name === name) ?? fail(`unknown RETURNING column ${name}`));
  return {
    ...base,
    returning: {
      schema: columns.map((c, i) => schemaEntry(c.name, c.dataType, i, columnFlags(c))),
      rows: rows.map((r) => columns.map((c) => encodeCell(r[c.name], c.dataType))),
    },
  };
}

/** A row as protocol cells keyed by column, with `_seq`. */
export function image(table: TableDef, row: Row): Record<string, Cell> {
  const out: Record<string, Cell> = {};
  for (const c of table.columns) out[c.name] = encodeCell(row[c.name], c.dataType);
  const seq = row['_seq'];
  if (typeof seq === 'string' || typeof seq === 'bigint') out['_seq'] = String(seq);
  return out;
}

function advance(deps: ApplyDeps, seqs: readonly bigint[]): void {
  const last = seqs.at(-1);
  if (last !== undefined && last > deps.seqFloor.value) deps.seqFloor.value = last;
}

function fail(message: string): never {
  throw new Error(message);
}

/** A UUID version 7 (RFC 9562): 48-bit ms timestamp, version, random bits. */
export function uuidV7(): string {
  const b = randomBytes(16);
  const ms = BigInt(Date.now());
  for (let i = 0; i < 6; i++) b[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
