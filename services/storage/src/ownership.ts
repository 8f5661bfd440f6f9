// Shard ownership: replica i of M applies the shards s with s mod M = i. Two replicas must never
// apply one shard at once, so a shard is taken in two steps: a PostgreSQL advisory lock held by
// one dedicated session for as long as this replica lives (a second replica waits for it), then
// a bump of the shard's epoch, which every apply transaction checks (a replica whose lock
// session died, and whose shard was taken over, is fenced out by the epoch).
import type { ReservedSql, Sql } from 'postgres';

const LOCK_CLASS = 0x5e91; // advisory lock namespace of shard ownership

export function ownedShards(shards: number, replica: number, replicas: number): number[] {
  return Array.from({ length: shards }, (_, s) => s).filter((s) => s % replicas === replica);
}

export class ShardLocks {
  readonly #sql: Sql;
  #session: ReservedSql | undefined;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** Tries to take `shard`; on success returns its new epoch, else undefined (held elsewhere). */
  async tryTake(shard: number, owner: string): Promise<bigint | undefined> {
    this.#session ??= await this.#sql.reserve();
    const [lock] = await this.#session<{ ok: boolean }[]>`SELECT pg_try_advisory_lock(${LOCK_CLASS}, ${shard}) AS ok`;
    if (!lock?.ok) return undefined;
    const [row] = await this.#sql<{ epoch: string }[]>`
      INSERT INTO seqline.shards (shard, epoch, owner) VALUES (${shard}, 1, ${owner})
      ON CONFLICT (shard) DO UPDATE SET epoch = seqline.shards.epoch + 1, owner = EXCLUDED.owner
      RETURNING epoch`;
    return BigInt(row!.epoch);
  }

  /** Releases every lock (ending the session). */
  release(): void {
    this.#session?.release();
    this.#session = undefined;
  }
}
