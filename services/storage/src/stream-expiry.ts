// The expiry of STREAM tables' rows (docs/architecture.md §2, docs/protocol.md §4). Reads leave
// expired versions out by themselves (libs/sql stream-ttl.ts); this deletes them through the
// change log, so a live subscriber gets a `delete` at expiry and a resume gets it too.
//
// Each run, for every STREAM table with TTL_SECONDS: its partitions are the owners that have a
// head in seqline.heads (a partition ever written has one). A partition's oldest live versions
// are read (as seqline_reader inside that partition, like a snapshot); the expired ones become
// ordinary delete ops, `DELETE FROM ns.t WHERE _seq < $1` as the owner, published to the
// owner's ops shard like the write service's (docs/architecture.md §3), each covering at most
// MAX_ROWS_PER_OP rows and `maxOpBytes` of row images (so its change stays under the change
// size limit). The applier applies them like any delete: tombstones with new `_seq`s, a change
// record, the change published. A version written after the cut has a higher `_seq` and stays,
// so a row updated meanwhile does not expire.
//
// The op id is a hash of table, owner and cut: a publish retried by JetStream's client is
// dropped (Nats-Msg-Id), and two replicas running this at once at most publish a delete that
// matches nothing. Tombstones of these tables are purged once older than the TTL, so an expired
// row is gone from PostgreSQL about one TTL after its delete (a resume from before that cut gets
// a reset, which is right: everything it held has expired).
//
// Per partition a bound on its oldest live `_seq` is remembered, so a partition with nothing to
// expire is not read again until the bound expires or, for an empty one, its head moves.
import { createHash } from 'node:crypto';
import type { BusNames } from '@seqline/bus';
import { shardOf } from '@seqline/bus';
import { busPb } from '@seqline/proto';
import type { TableDef } from '@seqline/domain';
import { expiresRows, expiryFloor, quoteIdent, quoteLiteral, READER_ROLE, SETTING_USER_ID } from '@seqline/sql';
import type { Sql, TransactionSql } from 'postgres';
import type { CatalogCache } from './catalog.js';
import { purgeTombstones } from './purge.js';

/** Rows one delete op removes at most. */
export const MAX_ROWS_PER_OP = 100;
/** Oldest live rows read per partition and run; the rest wait for the next run. */
const ROWS_PER_RUN = 1000;
/** The actor recorded in expiry ops (docs/protocol.md §4). */
export const EXPIRY_ACTOR = '_expiry';
/** An op not yet visible in its partition's head is not published again before this long. */
const PENDING_MS = 30_000;

export interface StreamExpiryDeps {
  readonly sql: Sql;
  readonly catalog: CatalogCache;
  readonly names: BusNames;
  readonly shards: number;
  /** Largest row images (JSON bytes) one op may delete. */
  readonly maxOpBytes: number;
  /** Publishes an op to the ops log with its Nats-Msg-Id, resolving when JetStream stored it. */
  readonly publish: (subject: string, data: Uint8Array, msgID: string) => Promise<unknown>;
}

interface Partition {
  readonly owner: string;
  readonly subject: string;
  readonly head: bigint;
}

/** What a run learnt about a partition. */
interface Known {
  readonly head: bigint;
  /** A lower bound of its oldest live `_seq`; undefined: it had no live rows at `head`. */
  readonly oldest: bigint | undefined;
  /** When deletes were published at `head` (their ops are applied once the head moves). */
  readonly publishedAtMs?: number;
}

export class StreamExpiry {
  readonly #d: StreamExpiryDeps;
  readonly #known = new Map<string, Known>();

  constructor(deps: StreamExpiryDeps) {
    this.#d = deps;
  }

  /** One run at `nowMs`: delete ops published, tombstones purged. */
  async runOnce(nowMs: number): Promise<{ ops: number; tombstones: number }> {
    let ops = 0;
    let tombstones = 0;
    const seen = new Set<string>();
    for (const table of this.#d.catalog.tables()) {
      const floor = expiryFloor(table, nowMs);
      if (floor === undefined || !expiresRows(table)) continue;
      const partitions = await this.#partitions(table);
      for (const p of partitions) seen.add(p.subject);
      const due = partitions.filter((p) => this.#due(p, floor, nowMs));
      if (due.length > 0) ops += await this.#expire(table, due, floor, nowMs);
      tombstones += await purgeTombstones(this.#d.sql, table, floor);
    }
    for (const subject of this.#known.keys()) if (!seen.has(subject)) this.#known.delete(subject);
    return { ops, tombstones };
  }

  async #partitions(table: TableDef): Promise<Partition[]> {
    const head = `${this.#d.names.prefix}.changes.`;
    const tail = `.${table.namespace}.${table.name}`;
    const rows = await this.#d.sql<{ subject: string; seq: string }[]>`
      SELECT subject, seq FROM seqline.heads WHERE left(subject, ${head.length}) = ${head} AND right(subject, ${tail.length}) = ${tail}`;
    return rows
      .map((r) => ({ owner: r.subject.slice(head.length, r.subject.length - tail.length), subject: r.subject, head: BigInt(r.seq) }))
      .filter((p) => p.owner.length > 0 && !p.owner.includes('.'));
  }

  #due(p: Partition, floor: bigint, nowMs: number): boolean {
    const known = this.#known.get(p.subject);
    if (known === undefined) return true;
    if (known.publishedAtMs !== undefined) return known.head !== p.head || nowMs - known.publishedAtMs >= PENDING_MS;
    // Every version written after `known.head` is above it: the oldest live `_seq` only grows.
    const bound = known.oldest ?? (known.head === p.head ? undefined : known.head + 1n);
    return bound !== undefined && bound < floor;
  }

  /** Reads the due partitions' oldest live rows and publishes their deletes; returns the ops published. */
  async #expire(table: TableDef, due: readonly Partition[], floor: bigint, nowMs: number): Promise<number> {
    const relation = `${quoteIdent(table.namespace)}.${quoteIdent(table.name)}`;
    const oldest = await this.#d.sql.begin('read only', async (tx) => {
      const out = new Map<Partition, { seq: bigint; bytes: number }[]>();
      for (const p of due) out.set(p, await oldestLive(tx, relation, p.owner));
      return out;
    });
    let ops = 0;
    for (const [p, rows] of oldest) {
      const cuts = cutsOf(rows, floor, this.#d.maxOpBytes);
      for (const cut of cuts) await this.#publishDelete(table, p.owner, cut, nowMs);
      ops += cuts.length;
      const firstLive = rows.find((r) => r.seq >= floor)?.seq;
      if (cuts.length > 0) this.#known.set(p.subject, { head: p.head, oldest: undefined, publishedAtMs: nowMs });
      else this.#known.set(p.subject, { head: p.head, oldest: firstLive });
    }
    return ops;
  }

  async #publishDelete(table: TableDef, owner: string, cut: bigint, nowMs: number): Promise<void> {
    const opId = createHash('sha256').update(`expiry\0${table.namespace}\0${table.name}\0${owner}\0${cut}`).digest('hex').slice(0, 32);
    const op: busPb.Op = {
      opId,
      actor: EXPIRY_ACTOR,
      actorRole: 'system',
      owner,
      namespace: table.namespace,
      table: table.name,
      statement: `DELETE FROM ${quoteIdent(table.namespace)}.${quoteIdent(table.name)} WHERE _seq < $1`,
      paramsJson: JSON.stringify([cut.toString()]),
      issuedAtUs: BigInt(nowMs) * 1000n,
      replyTo: '',
      traceparent: '',
      statements: [],
    };
    await this.#d.publish(this.#d.names.ops(shardOf(owner, this.#d.shards)), busPb.Op.encode(op).finish(), opId);
  }
}

/** The partition's oldest live versions with the size of their images, oldest first. */
async function oldestLive(tx: TransactionSql, relation: string, owner: string): Promise<{ seq: bigint; bytes: number }[]> {
  // The reader may not call set_config: the runtime role sets the partition, then steps down.
  await tx.unsafe('RESET ROLE');
  await tx`SELECT set_config(${SETTING_USER_ID}, ${owner}, true)`;
  await tx.unsafe(`SET LOCAL ROLE ${READER_ROLE}`);
  const rows = await tx.unsafe<{ seq: string; bytes: number }[]>(
    `SELECT r."_seq" AS seq, octet_length(row_to_json(r)::text) AS bytes FROM ${relation} AS r WHERE r."_user_id" = ${quoteLiteral(owner)} AND NOT r."_deleted" ORDER BY r."_seq" LIMIT ${ROWS_PER_RUN}`,
  );
  return rows.map((r) => ({ seq: BigInt(r.seq), bytes: Number(r.bytes) }));
}

/**
 * The cuts of the delete ops for rows (oldest first) given the expiry floor: op i deletes the
 * live versions with `_seq` below cut i, at most MAX_ROWS_PER_OP rows and `maxBytes` of images
 * each (a single bigger row goes alone). The last cut is the floor when every expired row was
 * read, else just above the last row read.
 */
export function cutsOf(rows: readonly { readonly seq: bigint; readonly bytes: number }[], floor: bigint, maxBytes: number): bigint[] {
  const expired = rows.filter((r) => r.seq < floor);
  if (expired.length === 0) return [];
  const cuts: bigint[] = [];
  let count = 0;
  let bytes = 0;
  for (const r of expired) {
    if (count > 0 && (count >= MAX_ROWS_PER_OP || bytes + r.bytes > maxBytes)) {
      cuts.push(r.seq);
      count = 0;
      bytes = 0;
    }
    count++;
    bytes += r.bytes;
  }
  cuts.push(expired.length < rows.length || rows.length < ROWS_PER_RUN ? floor : expired.at(-1)!.seq + 1n);
  return cuts;
}
