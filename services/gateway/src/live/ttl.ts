// STREAM rows that expire (docs/architecture.md §2, docs/protocol.md §4): a change whose new
// version is already expired when it is delivered (a resume replaying JetStream history, a
// change that waited in a slow subscription's buffer) must not put that version in the
// client's copy. Its new image is dropped, so the change counts as the row leaving the query:
// an insert delivers nothing and an update delivers a delete of the old version (older, so
// expired too). Storage's expiry sends the row's own delete as well; a delete of a row the
// client does not hold is a no-op for it.
import { expiresRows, isExpired, type LiveRow } from '@seqline/sql';
import type { TableDef } from '@seqline/domain';

export interface Images {
  readonly old: LiveRow | undefined;
  readonly next: LiveRow | undefined;
}

/** The images of a row change with the new one dropped when it is expired at `nowMs`. */
export function unexpired(table: Pick<TableDef, 'tableType' | 'ttlSeconds'>, images: Images, nowMs = Date.now()): Images {
  if (!expiresRows(table) || images.next === undefined) return images;
  const seq = images.next['_seq'];
  if (typeof seq !== 'string' || !/^[0-9]+$/.test(seq) || !isExpired(table, BigInt(seq), nowMs)) return images;
  return { old: images.old, next: undefined };
}
