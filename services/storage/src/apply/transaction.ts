// The pipelined apply transaction (docs/architecture.md §3). The apply loop has a connection
// of its own; BEGIN is not waited for (it goes out with the batch's first statements) and
// COMMIT is sent right after the last ones: postgres.js pipelines the statements of one
// connection, so a batch costs two round trips, not one per statement. Any failure rolls back.
import { ownerSettingSql } from '@seqline/sql';
import type { Sql } from 'postgres';
import { isConnectionLost } from '../db.js';
import type { Exec } from './apply-op.js';
import { timeoutsStatement, type ApplyLimits } from './limits.js';
import type { PreparedTexts } from './prepared.js';

/** An open transaction: its connection, its BEGIN (awaited with the first statements) and COMMIT. */
export interface Tx {
  readonly sql: Sql;
  /** Runs an op's statement (prepared or not, see PreparedTexts). */
  readonly exec: Exec;
  /**
   * Sends the SET LOCAL of the next op's owner (not waited for: it goes out before the op);
   * nothing when that owner is already set.
   */
  readonly asOwner: (owner: string) => Promise<unknown>;
  /** A ROLLBACK TO SAVEPOINT undid the last SET LOCAL: the next asOwner sends it again. */
  readonly forgetOwner: () => void;
  readonly begun: Promise<unknown>;
  readonly commit: () => Promise<void>;
}

/** Runs `fn` in a transaction on `sql` (a client with one connection). */
export async function inTransaction<T>(sql: Sql, limits: ApplyLimits, prepared: PreparedTexts, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const timeouts = timeoutsStatement(limits);
  const begun = Promise.all([sql.unsafe('BEGIN'), sql.unsafe(timeouts.text, timeouts.params)]);
  begun.catch(() => {}); // a failed BEGIN fails the statements after it, which fn awaits
  // Sent at once (execute), not when first awaited: a query awaited through Promise.all goes out
  // some microtasks later, after an owner's SET LOCAL sent meanwhile for the next op.
  const exec: Exec = (text, params) => sql.unsafe<Record<string, unknown>[]>(text, params as never[], { prepare: prepared.shouldPrepare(text) }).execute();
  let owner: string | undefined;
  const asOwner = (next: string): Promise<unknown> => {
    if (next === owner) return Promise.resolve();
    owner = next;
    return sql.unsafe(ownerSettingSql(next), [], { prepare: false }).execute();
  };
  const forgetOwner = (): void => {
    owner = undefined;
  };
  try {
    return await fn({ sql, exec, asOwner, forgetOwner, begun, commit: () => sql.unsafe('COMMIT').then(() => undefined) });
  } catch (err) {
    // After a lost connection the client connects again for the next batch.
    if (isConnectionLost(err)) prepared.forget();
    else await sql.unsafe('ROLLBACK').catch(() => {});
    throw err;
  }
}
