// Smoke run of the peers benchmark: Seqline, Rocicorp Zero (zero-cache on the npm Node 22 binary)
// and the LISTEN/NOTIFY baseline must keep working, and each one's counting must be exact: every
// acknowledged change reaches each of its user's clients once and nobody else, and the initial
// sync delivers exactly the reader's rows.
import { describe, expect, it } from 'vitest';
import { runPeersBench, type PeerName, type Phase } from './bench.ts';

const CLIENTS_PER_USER = 2; // the smoke configuration: 8 clients over 4 users

function expectExact(p: Phase, label: string): void {
  expect(p.failedWrites, label).toBe(0);
  expect(p.acked, label).toBe(p.offered);
  expect(p.expected, label).toBe(p.acked * CLIENTS_PER_USER);
  expect(p.delivered, label).toBe(p.expected);
  expect(p.duplicates, label).toBe(0);
  expect(p.foreign, label).toBe(0);
  expect(p.fromRequest.count, label).toBe(p.delivered);
}

const NAMES = { seqline: 'Seqline', zero: 'Rocicorp Zero', notify: 'LISTEN/NOTIFY + re-query' } as const satisfies Record<PeerName, string>;

describe('peers benchmark (smoke)', () => {
  it.each(Object.entries(NAMES) as [PeerName, string][])('%s: every change reaches each client of its user exactly once, and the initial sync every row', async (peer, name) => {
    const [r] = await runPeersBench({ smoke: true }, [peer]);
    expect(r?.name).toBe(name);
    expect(r!.errors).toEqual([]);
    expect(r!.live.offered).toBe(50);
    expectExact(r!.live, 'fixed rate');
    expect(r!.ramp.map((p) => p.rate)).toEqual([25, 50]);
    expect(r!.ramp[1]).toBe(r!.live);
    expectExact(r!.ramp[0]!, 'ramp');
    expect(r!.snapshotMs).toHaveLength(1);
    expect(r!.rssKb.every((kb) => kb > 0)).toBe(true);
  });
});
