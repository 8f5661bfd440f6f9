// The fault campaign's checker (issue 12): reads a history (./history.ts) after the run and
// reports every violation with its first counterexample. The rules, one check each:
//
// lost-write / duplicate-write: for each row id a write touched, the acknowledged writes applied in
//   `_seq` order (acknowledgement time when no `_seq`) give the expected final row: present with
//   the merged values after an insert/update, absent after a delete. PostgreSQL's final table must
//   hold it exactly once. Rows also touched by an indeterminate write are only checked for
//   "at most once", since that write may or may not have happened.
// errored-write-present: a row that only writes with a definite error inserted must be absent,
//   and a failed update's values must not be the final row's unless another write could set them.
// non-monotonic-seq / duplicate-delivery: within one subscription, change events (insert, update,
//   delete) carry strictly increasing `_seq`, across resumes too (a resume continues from the last
//   `_seq`). An equal `_seq` is a duplicate delivery; a smaller one is out of order.
// prev-seq-gap: per subject (row id) within one subscription, a change event's `prev_seq` must be
//   the `_seq` of the last event delivered for that row (snapshot or change). A row the stream has
//   not seen yet has no chain to check. A `reset` event (the server told the client to start over)
//   forgets the stream's last `_seq` and every row's chain: what follows is a new stream.
//   With the change log recorded at the end (`final-log`), the chain is also checked per
//   partition, as `prev_seq` is defined: the log's own chain must be whole (each change names the
//   one before it, from 0), and a subscription that watches a partition must deliver its changes
//   without a hole: each delivered change's `prev_seq` is at or below what the subscription had
//   processed (its last change, or the boundary of its snapshot or resume: `ready`). A change
//   skipped in between is excused only when the subscription later delivers a newer version of
//   the same row: storage's compacted catch-up sends each row's newest version, by design.
// stale-final-rows: each subscription's final materialized rows equal the SELECT of its query
//   read from PostgreSQL, as sets of rows compared by value.
// duplicate-seq: no `_seq` issued twice, whether recorded by a sequencer, returned to two writes,
//   or carried by two different changes of the change log.
// late-delivery: every acknowledged write is seen (a delivery of its row with `_seq` >= the write's)
//   by every live subscriber watching its partition, no later than `bound` ms after both the
//   acknowledgement and the end of the last fault. A live subscriber is one still subscribed at
//   the end; `watches` names the partitions whose every row it receives (so a filtered
//   subscription lists none). A subscription's query reads one table: deliveries name rows by id.
import type { Delivery, FinalLog, FinalTable, HistoryEvent, Row, Subscribed, WriteInvoked } from './history.js';

export const VIOLATION_KINDS = [
  'lost-write', 'duplicate-write', 'errored-write-present', 'non-monotonic-seq', 'duplicate-delivery',
  'prev-seq-gap', 'stale-final-rows', 'duplicate-seq', 'late-delivery',
] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];

export interface Violation {
  readonly kind: ViolationKind;
  readonly message: string;
  /** The first event that shows it (or the write that was lost). */
  readonly event: HistoryEvent;
}

export interface CheckStats {
  readonly writes: { readonly invoked: number; readonly ok: number; readonly failed: number; readonly indeterminate: number };
  readonly deliveries: number;
  readonly resumes: number;
  readonly faults: number;
  /** Longest gap between two successive acknowledged writes (ms). */
  readonly longestUnavailableMs: number;
  /** From the end of the last fault until the last subscriber saw the last write it had to (ms). */
  readonly convergeMs: number | null;
}

export interface CheckResult {
  readonly ok: boolean;
  readonly violations: readonly Violation[];
  readonly stats: CheckStats;
}

export interface CheckOptions {
  /** How long after the faults stop (and the write is acknowledged) a subscriber may take (ms). */
  readonly bound: number;
}

type Outcome = 'ok' | 'failed' | 'indeterminate' | 'pending';
interface Write {
  readonly invoked: WriteInvoked;
  outcome: Outcome;
  seq?: bigint;
  okAt?: number;
}

const rowKey = (table: string, rowId: string): string => `${table}\u0000${rowId}`;
const canon = (row: Row): string =>
  JSON.stringify(Object.keys(row).sort().map((k) => [k, row[k]]));

export function check(history: readonly HistoryEvent[], options: CheckOptions): CheckResult {
  const violations: Violation[] = [];
  const writes = collectWrites(history);
  checkFinalTables(history, writes, violations);
  checkStreams(history, violations);
  checkLog(history, violations);
  checkFinalRows(history, violations);
  checkSeqUnique(history, violations);
  const convergeMs = checkDelivered(history, writes, options.bound, violations);
  return { ok: violations.length === 0, violations, stats: stats(history, writes, convergeMs) };
}

function collectWrites(history: readonly HistoryEvent[]): Map<string, Write> {
  const writes = new Map<string, Write>();
  for (const e of history) {
    // A retry reuses the Idempotency-Key: one write, whose last answer counts, but an
    // acknowledgement is never taken back.
    if (e.type === 'write-invoked' && !writes.has(e.key)) writes.set(e.key, { invoked: e, outcome: 'pending' });
    const w = 'key' in e ? writes.get(e.key) : undefined;
    if (!w || w.outcome === 'ok') continue;
    if (e.type === 'write-ok') Object.assign(w, { outcome: 'ok', okAt: e.t, seq: e.seq === undefined ? undefined : BigInt(e.seq) });
    else if (e.type === 'write-failed') w.outcome = 'failed';
    else if (e.type === 'write-indeterminate') w.outcome = 'indeterminate';
  }
  return writes;
}

function ackOrder(a: Write, b: Write): number {
  if (a.seq !== undefined && b.seq !== undefined) return a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0;
  return (a.okAt ?? 0) - (b.okAt ?? 0);
}

/** The row the acknowledged writes leave, or null when they leave none. */
function expectedRow(acked: readonly Write[]): Row | null {
  let row: Row | null = null;
  for (const w of acked) {
    const { op, values } = w.invoked;
    row = op === 'delete' ? null : { ...(op === 'update' ? row : {}), ...values };
  }
  return row;
}

function matches(actual: Row, expected: Row): boolean {
  return Object.keys(expected).every((k) => JSON.stringify(actual[k]) === JSON.stringify(expected[k]));
}

function checkFinalTables(history: readonly HistoryEvent[], writes: Map<string, Write>, out: Violation[]): void {
  const tables = new Map<string, FinalTable>();
  for (const e of history) if (e.type === 'final-table') tables.set(e.table, e);
  const byRow = new Map<string, Write[]>();
  for (const w of writes.values()) {
    const k = rowKey(w.invoked.table, w.invoked.rowId);
    const list = byRow.get(k);
    if (list) list.push(w);
    else byRow.set(k, [w]);
  }
  for (const ws of byRow.values()) {
    const { table, rowId } = ws[0]!.invoked;
    const final = tables.get(table);
    if (!final) continue;
    const found = final.rows.filter((r) => String(r['id']) === rowId);
    const acked = ws.filter((w) => w.outcome === 'ok').sort(ackOrder);
    const unsure = ws.some((w) => w.outcome === 'indeterminate' || w.outcome === 'pending');
    if (found.length > 1) {
      out.push({ kind: 'duplicate-write', message: `${table} row ${rowId} is present ${found.length} times`, event: ws[0]!.invoked });
      continue;
    }
    if (!unsure && acked.length > 0) checkAcked(table, rowId, acked, found[0], out);
    checkFailed(table, rowId, ws, found[0], out);
  }
}

function checkAcked(table: string, rowId: string, acked: readonly Write[], actual: Row | undefined, out: Violation[]): void {
  const expected = expectedRow(acked);
  const last = acked[acked.length - 1]!.invoked;
  if (expected && !actual) out.push({ kind: 'lost-write', message: `${table} row ${rowId}: acknowledged ${last.op} (key ${last.key}) is missing`, event: last });
  else if (expected && actual && !matches(actual, expected))
    out.push({ kind: 'lost-write', message: `${table} row ${rowId}: expected ${canon(expected)} after key ${last.key}, found ${canon(actual)}`, event: last });
  else if (!expected && actual) out.push({ kind: 'lost-write', message: `${table} row ${rowId}: acknowledged delete (key ${last.key}) but the row is present`, event: last });
}

function checkFailed(table: string, rowId: string, ws: readonly Write[], actual: Row | undefined, out: Violation[]): void {
  if (!actual) return;
  const failed = ws.filter((w) => w.outcome === 'failed');
  const others = ws.filter((w) => w.outcome !== 'failed');
  for (const f of failed) {
    const { op, values, key } = f.invoked;
    const explained = others.some((o) => o.invoked.op !== 'delete' && matches(actual, o.invoked.values ?? {}));
    if ((op === 'insert' && others.length === 0) || (op === 'update' && values && matches(actual, values) && !explained)) {
      out.push({ kind: 'errored-write-present', message: `${table} row ${rowId}: ${op} (key ${key}) failed but its effect is present`, event: f.invoked });
      return;
    }
  }
}

function checkStreams(history: readonly HistoryEvent[], out: Violation[]): void {
  const lastSeq = new Map<string, bigint>();
  const chains = new Map<string, Map<string, bigint>>();
  const reported = new Set<string>();
  for (const e of history) {
    if (e.type !== 'delivery') continue;
    const sub = `${e.client}/${e.subId}`;
    if (e.kind === 'reset') {
      lastSeq.delete(sub);
      chains.delete(sub);
      continue;
    }
    const v = streamViolation(e, lastSeq.get(sub), chains.get(sub));
    if (v && !reported.has(`${sub}/${v.kind}`)) {
      reported.add(`${sub}/${v.kind}`);
      out.push(v);
    }
    if (e.seq === undefined) continue;
    const seq = BigInt(e.seq);
    if (e.kind !== 'snapshot' && (lastSeq.get(sub) ?? -1n) < seq) lastSeq.set(sub, seq);
    if (e.rowId !== undefined) {
      const chain = chains.get(sub) ?? new Map<string, bigint>();
      chain.set(e.rowId, seq);
      chains.set(sub, chain);
    }
  }
}

function streamViolation(e: Delivery, last: bigint | undefined, chain: Map<string, bigint> | undefined): Violation | undefined {
  const where = `subscription ${e.client}/${e.subId}`;
  if (e.kind !== 'snapshot' && e.seq !== undefined && last !== undefined) {
    const seq = BigInt(e.seq);
    if (seq === last) return { kind: 'duplicate-delivery', message: `${where}: _seq ${e.seq} delivered twice`, event: e };
    if (seq < last) return { kind: 'non-monotonic-seq', message: `${where}: _seq ${e.seq} after ${last}`, event: e };
  }
  const before = e.rowId === undefined ? undefined : chain?.get(e.rowId);
  if (e.kind !== 'snapshot' && e.prevSeq !== undefined && before !== undefined && BigInt(e.prevSeq) !== before)
    return { kind: 'prev-seq-gap', message: `${where}: row ${e.rowId} prev_seq ${e.prevSeq}, last delivered _seq ${before}`, event: e };
  return undefined;
}

function checkLog(history: readonly HistoryEvent[], out: Violation[]): void {
  const log = new Map<bigint, FinalLog>();
  const lastOf = new Map<string, bigint>();
  for (const e of history) {
    if (e.type !== 'final-log') continue;
    const seq = BigInt(e.seq);
    const same = log.get(seq);
    if (same !== undefined) {
      if (same.partition !== e.partition || same.rowId !== e.rowId)
        out.push({ kind: 'duplicate-seq', message: `_seq ${e.seq} carried by a change of ${same.partition} row ${same.rowId} and of ${e.partition} row ${e.rowId}`, event: e });
      continue;
    }
    log.set(seq, e);
    const before = lastOf.get(e.partition) ?? 0n;
    if (BigInt(e.prevSeq) !== before) out.push({ kind: 'prev-seq-gap', message: `change log of ${e.partition}: _seq ${e.seq} names prev_seq ${e.prevSeq}, the change before it is ${before}`, event: e });
    lastOf.set(e.partition, seq);
  }
  if (log.size === 0) return;
  const byPartition = new Map<string, FinalLog[]>();
  for (const e of log.values()) {
    const list = byPartition.get(e.partition);
    if (list) list.push(e);
    else byPartition.set(e.partition, [e]);
  }
  const watched = new Map<string, string>();
  for (const e of history) if (e.type === 'subscribed' && e.watches.length === 1) watched.set(`${e.client}/${e.subId}`, e.watches[0]!);
  // Where each subscription delivered each row, so a skipped version can be matched with a later one.
  const deliveredAt = new Map<string, { index: number; seq: bigint }[]>();
  history.forEach((e, index) => {
    if (e.type !== 'delivery' || e.rowId === undefined || e.seq === undefined || e.kind === 'snapshot') return;
    const k = `${e.client}/${e.subId}/${e.rowId}`;
    const list = deliveredAt.get(k);
    if (list) list.push({ index, seq: BigInt(e.seq) });
    else deliveredAt.set(k, [{ index, seq: BigInt(e.seq) }]);
  });
  const supersededLater = (sub: string, missed: FinalLog, from: number): boolean =>
    (deliveredAt.get(`${sub}/${missed.rowId}`) ?? []).some((d) => d.index >= from && d.seq > BigInt(missed.seq));
  const processed = new Map<string, bigint | undefined>();
  const reported = new Set<string>();
  history.forEach((e, index) => {
    if (e.type !== 'ready' && e.type !== 'delivery') return;
    const sub = `${e.client}/${e.subId}`;
    const partition = watched.get(sub);
    if (partition === undefined || reported.has(sub)) return;
    if (e.type === 'ready') {
      processed.set(sub, BigInt(e.seq));
      return;
    }
    if (e.kind === 'reset') processed.set(sub, undefined);
    if (e.kind === 'snapshot' || e.kind === 'reset' || e.seq === undefined) return;
    const seq = BigInt(e.seq);
    const entry = log.get(seq);
    const last = processed.get(sub);
    processed.set(sub, seq);
    if (entry === undefined || entry.partition !== partition) {
      reported.add(sub);
      out.push({ kind: 'prev-seq-gap', message: `subscription ${sub}: delivered _seq ${e.seq}, which is no change of ${partition} in the change log`, event: e });
      return;
    }
    if (last === undefined || BigInt(entry.prevSeq) <= last) return;
    // A compacted catch-up (docs/protocol.md §4) sends each row's newest version only: a skipped
    // change is fine when the subscription delivers a later version of its row.
    const missed = byPartition.get(partition)!.find((m) => BigInt(m.seq) > last && BigInt(m.seq) < seq && !supersededLater(sub, m, index));
    if (missed === undefined) return;
    reported.add(sub);
    out.push({ kind: 'prev-seq-gap', message: `subscription ${sub}: _seq ${e.seq} has prev_seq ${entry.prevSeq}, but the subscription had processed only up to ${last}: change ${missed.seq} (row ${missed.rowId}) was never delivered, nor a later version of its row`, event: e });
  });
}

function checkFinalRows(history: readonly HistoryEvent[], out: Violation[]): void {
  const truth = new Map<string, readonly Row[]>();
  for (const e of history) if (e.type === 'final-query') truth.set(`${e.client}/${e.subId}`, e.rows);
  for (const e of history) {
    if (e.type !== 'final-client') continue;
    const expected = truth.get(`${e.client}/${e.subId}`);
    if (!expected) continue;
    const want = new Set(expected.map(canon));
    const have = new Set(e.rows.map(canon));
    const missing = [...want].find((r) => !have.has(r));
    const extra = [...have].find((r) => !want.has(r));
    if (missing !== undefined || extra !== undefined || want.size !== have.size)
      out.push({
        kind: 'stale-final-rows',
        message: `subscription ${e.client}/${e.subId}: ${missing !== undefined ? `missing ${missing}` : `unexpected ${extra ?? '(duplicate)'}`}`,
        event: e,
      });
  }
}

function checkSeqUnique(history: readonly HistoryEvent[], out: Violation[]): void {
  const issuedBy = new Map<string, string>();
  const ackedBy = new Map<string, string>();
  for (const e of history) {
    if (e.type === 'seq-issued') {
      const first = issuedBy.get(e.seq);
      if (first !== undefined) out.push({ kind: 'duplicate-seq', message: `_seq ${e.seq} issued by ${first} and again by ${e.sequencer}`, event: e });
      else issuedBy.set(e.seq, e.sequencer);
    } else if (e.type === 'write-ok' && e.seq !== undefined) {
      const first = ackedBy.get(e.seq);
      if (first !== undefined && first !== e.key) out.push({ kind: 'duplicate-seq', message: `_seq ${e.seq} returned to writes ${first} and ${e.key}`, event: e });
      else ackedBy.set(e.seq, e.key);
    }
  }
}

function liveSubscribers(history: readonly HistoryEvent[]): Subscribed[] {
  const subs = new Map<string, Subscribed>();
  for (const e of history) {
    if (e.type === 'subscribed') subs.set(`${e.client}/${e.subId}`, e);
    else if (e.type === 'unsubscribed') subs.delete(`${e.client}/${e.subId}`);
  }
  return [...subs.values()];
}

/** Checks late-delivery; returns the time to converge after the last fault. */
function checkDelivered(history: readonly HistoryEvent[], writes: Map<string, Write>, bound: number, out: Violation[]): number | null {
  const faultEnds = history.filter((e) => e.type === 'fault-end').map((e) => e.t);
  const quiet = faultEnds.length === 0 ? -Infinity : Math.max(...faultEnds);
  // Deliveries by subscription and row, in history order: a run has many of each.
  const deliveries = new Map<string, Delivery[]>();
  for (const e of history) {
    if (e.type !== 'delivery' || e.rowId === undefined) continue;
    const k = `${e.client}/${e.subId}/${e.rowId}`;
    const list = deliveries.get(k);
    if (list) list.push(e);
    else deliveries.set(k, [e]);
  }
  let converged = quiet;
  for (const sub of liveSubscribers(history)) {
    // The first write each subscriber missed is its counterexample; later ones add nothing.
    for (const w of writes.values()) {
      const { table, owner, rowId } = w.invoked;
      if (w.outcome !== 'ok' || !sub.watches.some((p) => p === `${table}/${owner}` || p === `${table}/*`)) continue;
      const seen = deliveries.get(`${sub.client}/${sub.subId}/${rowId}`)?.find((d) =>
        (w.seq === undefined || d.seq === undefined || BigInt(d.seq) >= w.seq) && d.t >= sub.t);
      const deadline = Math.max(w.okAt ?? 0, quiet) + bound;
      if (!seen || seen.t > deadline) {
        const late = seen ? `seen ${seen.t - deadline + bound} ms after the faults stopped and it was acknowledged (bound ${bound} ms)` : 'never seen';
        out.push({ kind: 'late-delivery', message: `subscription ${sub.client}/${sub.subId}: write ${w.invoked.key} (${table} row ${rowId}) ${late}`, event: w.invoked });
        break;
      }
      converged = Math.max(converged, seen.t);
    }
  }
  return faultEnds.length === 0 ? null : converged - quiet;
}

function stats(history: readonly HistoryEvent[], writes: Map<string, Write>, convergeMs: number | null): CheckStats {
  const all = [...writes.values()];
  const count = (o: Outcome): number => all.filter((w) => w.outcome === o).length;
  const acks = all.flatMap((w) => (w.okAt === undefined ? [] : [w.okAt])).sort((a, b) => a - b);
  let longest = 0;
  for (let i = 1; i < acks.length; i++) longest = Math.max(longest, acks[i]! - acks[i - 1]!);
  return {
    writes: { invoked: all.length, ok: count('ok'), failed: count('failed'), indeterminate: count('indeterminate') },
    deliveries: history.filter((e) => e.type === 'delivery').length,
    resumes: history.filter((e) => e.type === 'resumed').length,
    faults: history.filter((e) => e.type === 'fault-start').length,
    longestUnavailableMs: longest,
    convergeMs,
  };
}
