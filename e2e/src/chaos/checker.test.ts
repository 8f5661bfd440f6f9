// The checker against hand-written histories: a clean one passes with exact stats, and each kind
// of broken history reports exactly its violation with the counterexample event.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { check, type ViolationKind } from './checker.js';
import { HistoryWriter, readHistory, type HistoryEvent } from './history.js';

const BOUND = 1_000;

/** Two writers, one subscriber of alice's partition, one fault, then the final state. */
function clean(): HistoryEvent[] {
  return [
    { type: 'subscribed', t: 0, client: 'c1', subId: 's1', query: 'SELECT * FROM app.items', watches: ['app.items/alice'] },
    { type: 'delivery', t: 1, client: 'c1', subId: 's1', kind: 'snapshot' },
    { type: 'write-invoked', t: 10, client: 'w1', key: 'k1', op: 'insert', table: 'app.items', owner: 'alice', rowId: '1', values: { id: '1', name: 'a' } },
    { type: 'write-ok', t: 20, client: 'w1', key: 'k1', seq: '100' },
    { type: 'delivery', t: 25, client: 'c1', subId: 's1', kind: 'insert', rowId: '1', row: { id: '1', name: 'a' }, seq: '100' },
    { type: 'fault-start', t: 30, id: 'f1', kind: 'kill', target: 'gateway' },
    { type: 'write-invoked', t: 40, client: 'w1', key: 'k2', op: 'update', table: 'app.items', owner: 'alice', rowId: '1', values: { name: 'b' } },
    { type: 'write-indeterminate', t: 45, client: 'w1', key: 'k2', reason: 'connection-lost' },
    { type: 'write-invoked', t: 50, client: 'w2', key: 'k3', op: 'insert', table: 'app.items', owner: 'alice', rowId: '2', values: { id: '2', name: 'x' } },
    { type: 'write-failed', t: 55, client: 'w2', key: 'k3', code: 'UNAVAILABLE' },
    { type: 'fault-end', t: 60, id: 'f1' },
    { type: 'resumed', t: 70, client: 'c1', subId: 's1', fromSeq: '100' },
    { type: 'write-invoked', t: 80, client: 'w1', key: 'k4', op: 'insert', table: 'app.items', owner: 'alice', rowId: '3', values: { id: '3', name: 'c' } },
    { type: 'write-ok', t: 90, client: 'w1', key: 'k4', seq: '102' },
    { type: 'delivery', t: 91, client: 'c1', subId: 's1', kind: 'update', rowId: '1', row: { id: '1', name: 'b' }, seq: '101', prevSeq: '100' },
    { type: 'delivery', t: 95, client: 'c1', subId: 's1', kind: 'insert', rowId: '3', row: { id: '3', name: 'c' }, seq: '102' },
    { type: 'seq-issued', t: 20, sequencer: 'seq-a', seq: '100' },
    { type: 'seq-issued', t: 45, sequencer: 'seq-b', seq: '101' },
    { type: 'seq-issued', t: 90, sequencer: 'seq-a', seq: '102' },
    { type: 'final-table', t: 100, table: 'app.items', rows: [{ id: '1', name: 'b', owner: 'alice' }, { id: '3', name: 'c', owner: 'alice' }] },
    { type: 'final-client', t: 100, client: 'c1', subId: 's1', rows: [{ id: '3', name: 'c' }, { id: '1', name: 'b' }] },
    { type: 'final-query', t: 100, client: 'c1', subId: 's1', rows: [{ id: '1', name: 'b' }, { id: '3', name: 'c' }] },
  ];
}

/** Replaces the event at `index` of the clean history (or removes it with `undefined`). */
function edit(index: number, event?: HistoryEvent): HistoryEvent[] {
  const h = clean();
  if (event) h.splice(index, 1, event);
  else h.splice(index, 1);
  return h;
}

/** The clean history with `events` inserted before `index`. */
function withInserted(index: number, ...events: HistoryEvent[]): HistoryEvent[] {
  const h = clean();
  h.splice(index, 0, ...events);
  return h;
}

/** A change event delivered to c1/s1. */
function delivery(t: number, kind: 'insert' | 'update', id: string, name: string, seq: string, prevSeq?: string): HistoryEvent {
  return { type: 'delivery', t, client: 'c1', subId: 's1', kind, rowId: id, row: { id, name }, seq, ...(prevSeq === undefined ? {} : { prevSeq }) };
}

function expectOnly(history: HistoryEvent[], kind: ViolationKind, event: HistoryEvent): void {
  const result = check(history, { bound: BOUND });
  expect(result.ok).toBe(false);
  expect(result.violations.map((v) => v.kind)).toEqual([kind]);
  expect(result.violations[0]?.event).toEqual(event);
}

describe('checker', () => {
  it('passes a clean history with exact stats', () => {
    expect(check(clean(), { bound: BOUND })).toEqual({
      ok: true,
      violations: [],
      stats: {
        writes: { invoked: 4, ok: 2, failed: 1, indeterminate: 1 },
        deliveries: 4,
        resumes: 1,
        faults: 1,
        longestUnavailableMs: 70,
        convergeMs: 35,
      },
    });
  });

  it('reports a lost write', () => {
    const h = clean();
    h[19] = { type: 'final-table', t: 100, table: 'app.items', rows: [{ id: '1', name: 'b', owner: 'alice' }] };
    expectOnly(h, 'lost-write', h[12]!);
  });

  it('reports a duplicate delivery', () => {
    const dup = delivery(96, 'insert', '3', 'c', '102');
    expectOnly(withInserted(16, dup), 'duplicate-delivery', dup);
  });

  it('reports a gap in prev_seq', () => {
    const gap = delivery(91, 'update', '1', 'b', '101', '99');
    expectOnly(edit(14, gap), 'prev-seq-gap', gap);
  });

  it('accepts a prev_seq gap after a reset', () => {
    const h = edit(14, delivery(91, 'update', '1', 'b', '101', '99'));
    h.splice(14, 0, { type: 'delivery', t: 90, client: 'c1', subId: 's1', kind: 'reset' });
    expect(check(h, { bound: BOUND }).violations).toEqual([]);
  });

  it('reports stale final rows', () => {
    const stale: HistoryEvent = { type: 'final-client', t: 100, client: 'c1', subId: 's1', rows: [{ id: '3', name: 'c' }, { id: '1', name: 'a' }] };
    expectOnly(edit(20, stale), 'stale-final-rows', stale);
  });

  it('reports a _seq issued twice', () => {
    const twice: HistoryEvent = { type: 'seq-issued', t: 90, sequencer: 'seq-b', seq: '100' };
    expectOnly(edit(18, twice), 'duplicate-seq', twice);
  });

  it('reports a write that failed but is present', () => {
    const h = clean();
    const rows = [{ id: '1', name: 'b', owner: 'alice' }, { id: '2', name: 'x', owner: 'alice' }, { id: '3', name: 'c', owner: 'alice' }];
    h[19] = { type: 'final-table', t: 100, table: 'app.items', rows };
    expectOnly(h, 'errored-write-present', h[8]!);
  });

  it('reports a delivery later than the bound after the faults stop', () => {
    const late = delivery(90 + BOUND + 1, 'insert', '3', 'c', '102');
    expectOnly(edit(15, late), 'late-delivery', clean()[12]!);
  });

  it('reports an acknowledged write a live subscriber never saw', () => {
    expectOnly(edit(15), 'late-delivery', clean()[12]!);
  });

  it('does not expect deliveries on a subscription closed on purpose', () => {
    const h = clean();
    h.splice(15, 1, { type: 'unsubscribed', t: 92, client: 'c1', subId: 's1' });
    expect(check(h, { bound: BOUND }).violations).toEqual([]);
  });

  it('reports a _seq delivered out of order', () => {
    const back = delivery(96, 'insert', '4', 'd', '101');
    expectOnly(withInserted(16, back), 'non-monotonic-seq', back);
  });

  it('reports an acknowledged delete whose row is still present', () => {
    const del: HistoryEvent = { type: 'write-invoked', t: 96, client: 'w1', key: 'k5', op: 'delete', table: 'app.items', owner: 'alice', rowId: '3' };
    const h = withInserted(16, del, { type: 'write-ok', t: 97, client: 'w1', key: 'k5', seq: '103' },
      { type: 'delivery', t: 98, client: 'c1', subId: 's1', kind: 'delete', rowId: '3', seq: '103', prevSeq: '102' });
    expectOnly(h, 'lost-write', del);
  });

  it('counts a retried write once, by its last answer', () => {
    const retry: HistoryEvent = { type: 'write-invoked', t: 46, client: 'w1', key: 'k2', op: 'update', table: 'app.items', owner: 'alice', rowId: '1', values: { name: 'b' } };
    const h = withInserted(8, retry, { type: 'write-ok', t: 47, client: 'w1', key: 'k2', seq: '101' });
    const result = check(h, { bound: BOUND });
    expect(result.violations).toEqual([]);
    expect(result.stats.writes).toEqual({ invoked: 4, ok: 3, failed: 1, indeterminate: 0 });
    h[22] = { type: 'final-table', t: 100, table: 'app.items', rows: [{ id: '1', name: 'a', owner: 'alice' }, { id: '3', name: 'c', owner: 'alice' }] };
    expectOnly(h, 'lost-write', h[6]!); // a write is named by its first invocation
  });

  describe('with the change log', () => {
    /** The clean history plus its boundary and alice's change log: 100, 101, 102. */
    function logged(): HistoryEvent[] {
      const h = clean();
      h.splice(2, 0, { type: 'ready', t: 2, client: 'c1', subId: 's1', seq: '90' });
      h.splice(12, 0, { type: 'ready', t: 71, client: 'c1', subId: 's1', seq: '100' });
      const log = (seq: string, prevSeq: string, rowId: string): HistoryEvent => ({ type: 'final-log', t: 100, partition: 'app.items/alice', rowId, seq, prevSeq });
      h.push(log('100', '0', '1'), log('101', '100', '1'), log('102', '101', '3'));
      return h;
    }

    it('passes when every change of the watched partition is delivered after the boundary', () => {
      expect(check(logged(), { bound: BOUND }).violations).toEqual([]);
    });

    it('reports a change the subscription never got (its successor names it as prev_seq)', () => {
      const h = logged();
      const skipped = h.findIndex((e) => e.type === 'delivery' && e.seq === '101');
      h.splice(skipped, 1);
      const next = h.find((e) => e.type === 'delivery' && e.seq === '102')!;
      expectOnly(h, 'prev-seq-gap', next);
    });

    it('accepts a compacted catch-up: a skipped version whose row comes later in a newer version', () => {
      const h = logged();
      const skipped = h.findIndex((e) => e.type === 'delivery' && e.seq === '101');
      h.splice(skipped, 1);
      // Row 1 changes again (103); the catch-up sends 102, then row 1's newest version only.
      h.push({ type: 'final-log', t: 100, partition: 'app.items/alice', rowId: '1', seq: '103', prevSeq: '102' });
      const at = h.findIndex((e) => e.type === 'delivery' && e.seq === '102');
      h.splice(at + 1, 0, delivery(96, 'update', '1', 'b', '103'));
      expect(check(h, { bound: BOUND }).violations.filter((v) => v.kind === 'prev-seq-gap')).toEqual([]);
    });

    it('reports a hole in the change log itself', () => {
      const h = logged();
      const broken: HistoryEvent = { type: 'final-log', t: 100, partition: 'app.items/alice', rowId: '3', seq: '102', prevSeq: '99' };
      h.splice(h.length - 1, 1, broken);
      expectOnly(h, 'prev-seq-gap', broken);
    });

    it('reports one _seq carried by changes of two partitions', () => {
      const h = logged();
      const other: HistoryEvent = { type: 'final-log', t: 100, partition: 'app.items/bob', rowId: '9', seq: '101', prevSeq: '0' };
      h.push(other);
      expectOnly(h, 'duplicate-seq', other);
    });
  });

  it('reads back what the writer appended', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seqline-history-'));
    try {
      const path = join(dir, 'history.jsonl');
      const writer = new HistoryWriter(path);
      for (const e of clean()) writer.append(e);
      await writer.close();
      await writer.close();
      expect(await readHistory(path)).toEqual(clean());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
