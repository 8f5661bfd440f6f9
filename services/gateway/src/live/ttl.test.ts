// unexpired(): a change bringing a STREAM version that is expired at delivery delivers no
// insert and no update of it (an update becomes the old version's delete through liveChange).
import { seqIdFloorForTime } from '@seqline/seq';
import { liveChange, type LiveFilter } from '@seqline/sql';
import { describe, expect, it } from 'vitest';
import { unexpired } from './ttl.js';

const STREAM = { tableType: 'STREAM', ttlSeconds: 10 } as const;
const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
/** A `_seq` stamped `ageMs` before NOW. */
const seqAged = (ageMs: number): string => String(seqIdFloorForTime(NOW - ageMs));
const everything: LiveFilter = { test: () => true };

describe('unexpired', () => {
  it('drops the new image of a STREAM row older than its TTL, so an insert delivers nothing and an update a delete', () => {
    const old = { id: 1, _seq: seqAged(20_000) };
    const expired = { id: 1, _seq: seqAged(10_001) };
    const live = { id: 1, _seq: seqAged(10_000) };
    expect(unexpired(STREAM, { old: undefined, next: expired }, NOW)).toEqual({ old: undefined, next: undefined });
    expect(liveChange(everything, ...pair(unexpired(STREAM, { old: undefined, next: expired }, NOW)))).toBeUndefined();
    expect(liveChange(everything, ...pair(unexpired(STREAM, { old, next: expired }, NOW)))).toBe('delete');
    // Exactly TTL_SECONDS old is not expired yet ("older than").
    expect(unexpired(STREAM, { old: undefined, next: live }, NOW)).toEqual({ old: undefined, next: live });
    expect(liveChange(everything, ...pair(unexpired(STREAM, { old, next: live }, NOW)))).toBe('update');
  });

  it('leaves deletes, USER tables and STREAM tables without TTL_SECONDS alone', () => {
    const old = { id: 1, _seq: seqAged(60_000) };
    expect(unexpired(STREAM, { old, next: undefined }, NOW)).toEqual({ old, next: undefined });
    expect(unexpired({ tableType: 'USER', ttlSeconds: 10 }, { old: undefined, next: old }, NOW)).toEqual({ old: undefined, next: old });
    expect(unexpired({ tableType: 'STREAM' }, { old: undefined, next: old }, NOW)).toEqual({ old: undefined, next: old });
  });
});

function pair(images: ReturnType<typeof unexpired>): [typeof images.old, typeof images.next] {
  return [images.old, images.next];
}
