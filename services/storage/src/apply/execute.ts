// Running a batch's ops inside the apply transaction (docs/architecture.md §3). First without
// savepoints, pipelined: runs of inserts go to PostgreSQL without waiting for each other's
// answers, and any op that fails throws RedoWithSavepoints, so the transaction is rolled back
// and the batch applied again with a savepoint per op: a failing op then commits only its
// error result and never stops its shard. A lost connection, a fencing or a sequencer outage
// is no op's failure: it aborts the batch, which is retried whole.
import type { busPb } from '@seqline/proto';
import { ProtocolError, toProtocolError } from '@seqline/protocol';
import type { Logger } from '@seqline/runtime';
import { SqlError } from '@seqline/sql';
import type { CatalogCache } from '../catalog.js';
import { isConnectionLost } from '../db.js';
import { SequencerUnavailableError, type IdPool } from '../ids.js';
import { pgToProtocolError } from '../pg-errors.js';
import { applyOp, prepareOp, TransactionStatementError, type AppliedOp, type ApplyDeps, type PreparedOp } from './apply-op.js';
import type { Pending } from './feed.js';
import { joinInserts, joins, rowsByInsert } from './merge.js';
import { checkChangeSize, type ChangeLimits } from './limits.js';
import type { Tx } from './transaction.js';

/** What applying an op came to: its effect, or the error it gets as its result. */
export type Outcome = AppliedOp | ProtocolError;
type Settled = { readonly applied: AppliedOp } | { readonly err: unknown };
type Statement = Extract<PreparedOp, { kind: 'statement' }>;

/** Another replica took a shard of this one: the apply loop stops and the service fails. */
export class FencedError extends Error {
  override readonly name = 'FencedError';
}

/** Thrown inside an optimistic transaction when an op fails: the batch is redone with savepoints. */
export class RedoWithSavepoints extends Error {}

export interface ExecuteDeps {
  readonly catalog: CatalogCache;
  readonly ids: IdPool;
  readonly limits: ChangeLimits;
  readonly logger: Logger;
  /** See ApplyDeps.transactionBudget. */
  readonly transactionBudget?: ApplyDeps['transactionBudget'];
}

/** Each op in its own savepoint: a failing op rolls back alone and gets its error. */
export async function applyEach(deps: ExecuteDeps, { sql: tx, exec, asOwner, forgetOwner }: Tx, fresh: readonly Pending[], floors: ReadonlyMap<number, { value: bigint }>): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const p of fresh) {
    const opDeps = { catalog: deps.catalog, ids: deps.ids, seqFloor: floors.get(p.shard)!, transactionBudget: deps.transactionBudget };
    try {
      await tx.unsafe('SAVEPOINT op');
      await asOwner(p.op.owner);
      const applied = await applyOp(exec, p.op, opDeps);
      checkChangeSize(p.op, applied, deps.limits);
      out.push(applied);
      await tx.unsafe('RELEASE SAVEPOINT op');
    } catch (err) {
      await tx.unsafe('ROLLBACK TO SAVEPOINT op');
      forgetOwner();
      const failure = opFailure(err);
      if (failure.code === 'INTERNAL_ERROR') deps.logger.error('op failed with an internal error', { shard: p.shard, opId: p.op.opId, err });
      out.push(failure);
    }
  }
  return out;
}

/**
 * The ops without savepoints; runs of inserts go to PostgreSQL without waiting for each
 * other's answers, and consecutive inserts of one table and owner as one statement (merge.ts).
 * Any failing op throws RedoWithSavepoints (a lost connection throws as is).
 */
export async function applyPipelined(deps: ExecuteDeps, { exec, asOwner }: Tx, fresh: readonly Pending[], floors: ReadonlyMap<number, { value: bigint }>): Promise<AppliedOp[]> {
  const inflight: Promise<Settled>[] = [];
  const settle = (op: busPb.Op, promise: Promise<AppliedOp>): Promise<Settled> =>
    promise
      .then((applied) => {
        checkChangeSize(op, applied, deps.limits);
        return { applied };
      })
      .catch((err: unknown) => ({ err }));
  const drain = async (): Promise<AppliedOp[]> => {
    send();
    const settled = await Promise.all(inflight.splice(0));
    for (const s of settled) if ('err' in s) throw new RedoWithSavepoints(opFailure(s.err).message);
    return settled.map((s) => (s as { applied: AppliedOp }).applied);
  };
  /** Inserts waiting to be sent as one statement: consecutive, one table, one owner. */
  let run: { readonly p: Pending; readonly op: Statement }[] = [];
  let runParams = 0;
  const send = (): void => {
    if (run.length === 0) return;
    const ops = run;
    run = [];
    const owned = asOwner(ops[0]!.p.op.owner);
    if (ops.length === 1) {
      const { p, op } = ops[0]!;
      inflight.push(settle(p.op, Promise.all([owned, exec(op.text, op.params)]).then(([, rows]) => op.finish(rows))));
      return;
    }
    const inserts = ops.map(({ op }) => op.insert);
    const joined = joinInserts(inserts);
    const rows = Promise.all([owned, exec(joined.text, joined.params)]).then(([, r]) => rowsByInsert(inserts, r));
    ops.forEach(({ p, op }, i) => inflight.push(settle(p.op, rows.then((byInsert) => op.finish(byInsert[i]!)))));
  };
  const out: AppliedOp[] = [];
  for (const p of fresh) {
    const opDeps = { catalog: deps.catalog, ids: deps.ids, seqFloor: floors.get(p.shard)!, transactionBudget: deps.transactionBudget };
    let op: PreparedOp;
    try {
      op = await prepareOp(p.op, opDeps);
    } catch (err) {
      await drain();
      throw new RedoWithSavepoints(opFailure(err).message);
    }
    if (op.kind === 'statement') {
      const first = run[0];
      if (first !== undefined && !(first.p.op.owner === p.op.owner && joins(first.op.insert, op.insert, runParams, run.length))) send();
      if (run.length === 0) runParams = 0;
      run.push({ p, op });
      runParams += op.params.length;
    } else {
      out.push(...(await drain()));
      const owned = asOwner(p.op.owner);
      inflight.push(settle(p.op, Promise.all([owned, op.run(exec)]).then(([, applied]) => applied)));
      out.push(...(await drain()));
    }
  }
  out.push(...(await drain()));
  return out;
}

/**
 * A failure that belongs to the op (bad input, constraint) becomes its result; a broken
 * connection aborts the batch. A transaction's statement's failure keeps the statement's index.
 */
export function opFailure(err: unknown): ProtocolError {
  if (err instanceof TransactionStatementError) {
    const failure = opFailure(err.cause);
    return new ProtocolError(failure.code, failure.message, { cause: failure, statement: err.index });
  }
  if (isConnectionLost(err)) throw err;
  if (err instanceof FencedError) throw err;
  if (err instanceof SequencerUnavailableError) throw err; // transient: the batch is retried
  if (err instanceof SqlError) return new ProtocolError(err.code, err.message);
  const pg = pgToProtocolError(err);
  if (pg !== undefined) return pg;
  return toProtocolError(err);
}
