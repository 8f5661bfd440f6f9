// A window: what a live query with LIMIT n (docs/protocol.md §4, windows) shows, kept current
// change by change. Pure: it is given row changes and reads, and answers with the events that
// bring the client's rows to the new window.
//
// The gateway holds the window's rows plus some slack below them, in the query's order, with a
// bound: `rows` is exactly the matching rows up to `bound` in that order (or every matching row,
// `complete`). A change moves, adds or removes rows within the bound, and ignores what happens
// below it. While at least n rows are known the window is known; when rows leave and fewer than n
// remain, the window needs a refill: a read of the first rows at a later boundary B, from which
// the changes after the refill point are undone (each carries its old image) to get the rows as
// of that point (`undo`). The client learns the window's changes as deletes, updates and inserts,
// in that order; every event of a row change carries that row change's `_seq`.
import type { LiveOrder, LiveRow } from '@seqline/sql';

/** One event for the client: a row that entered the window, changed in it, or left it. */
export type WindowEvent =
  | { readonly kind: 'insert'; readonly row: LiveRow }
  | { readonly kind: 'update'; readonly row: LiveRow; readonly old: LiveRow }
  | { readonly kind: 'delete'; readonly old: LiveRow };

/** A row change as the window sees it: the images, projected, and whether each matches the filter. */
export interface WindowChange {
  readonly old: LiveRow | undefined;
  readonly oldIn: boolean;
  readonly next: LiveRow | undefined;
  readonly nextIn: boolean;
}

/** A read of the first rows in the window's order: projected rows, and whether they are all. */
export interface WindowRead {
  readonly rows: readonly LiveRow[];
  readonly complete: boolean;
}

export class WindowInconsistent extends Error {}

export class Window {
  readonly #order: LiveOrder;
  readonly #key: string;
  /** n, the rows the client shows. */
  readonly limit: number;
  /** Rows kept: n plus the slack below them. */
  readonly capacity: number;
  #rows: LiveRow[] = [];
  /** The last row `rows` covers (undefined: `complete`, or nothing is known yet). */
  #bound: LiveRow | undefined;
  #complete = false;
  /** What the client holds: primary key → row. */
  readonly #shown = new Map<string, LiveRow>();

  constructor(order: LiveOrder, primaryKey: string, limit: number, slack: number) {
    this.#order = order;
    this.#key = primaryKey;
    this.limit = limit;
    this.capacity = limit + slack;
  }

  /** The window's rows, in order (valid only when `known`). */
  get rows(): LiveRow[] {
    return this.#rows.slice(0, this.limit);
  }

  /** Whether the first n rows are known: enough rows, or all of them. */
  get known(): boolean {
    return this.#complete || this.#rows.length >= this.limit;
  }

  /** Rows the gateway holds for this window (for its memory figures). */
  get held(): number {
    return this.#rows.length;
  }

  /**
   * Takes a read as the state (a snapshot, or a refill's rows at its boundary before `undo`);
   * `adopt`: the client holds the window already (a resume), so nothing is sent for it.
   */
  load(read: WindowRead): void {
    this.#rows = [...read.rows];
    this.#complete = read.complete;
    this.#bound = read.complete ? undefined : this.#rows.at(-1);
    // Not trimmed here: a refill reads more than `capacity` when the changes it undoes take rows
    // out of the top, and `undo` trims after them (trimming first could leave fewer than n).
  }

  /** Records that the client holds the current window (after a snapshot or a resume). */
  adopt(): void {
    this.#shown.clear();
    for (const row of this.rows) this.#shown.set(this.#pk(row), row);
  }

  /**
   * Applies one row change (its `_seq` is `seq`); the client's events, or undefined when the
   * window is no longer known (a refill is due; `resync` then sends what changed).
   */
  apply(change: WindowChange, seq: string): WindowEvent[] | undefined {
    const wasKnown = this.known;
    const oldPk = change.old === undefined ? undefined : this.#pk(change.old);
    if (change.old !== undefined && change.oldIn && this.#covers(change.old)) this.#remove(change.old, true);
    let at = -1;
    const next = change.next !== undefined && change.nextIn ? change.next : undefined;
    if (next !== undefined && this.#covers(next)) at = this.#insert(next);
    this.#trim();
    if (!wasKnown || !this.known) return undefined;
    // Only the changed row and the rows at the window's edge (n-1, n) can enter or leave it.
    const events: WindowEvent[] = [];
    const inserts: WindowEvent[] = [];
    const candidates = new Map<string, number>(); // primary key → index now (-1: not in the window's rows)
    if (oldPk !== undefined) candidates.set(oldPk, -1);
    if (next !== undefined) candidates.set(this.#pk(next), at >= 0 && at < this.#rows.length ? at : -1);
    for (const i of [this.limit - 1, this.limit]) {
      const row = this.#rows[i];
      if (row !== undefined) candidates.set(this.#pk(row), i);
    }
    for (const [pk, index] of candidates) {
      const shown = this.#shown.get(pk);
      const row = index >= 0 && index < this.limit ? this.#rows[index]! : undefined;
      if (shown !== undefined && row === undefined) {
        events.push({ kind: 'delete', old: { ...shown, _seq: seq } });
        this.#shown.delete(pk);
      } else if (shown === undefined && row !== undefined) {
        const sent = { ...row, _seq: seq };
        inserts.push({ kind: 'insert', row: sent });
        this.#shown.set(pk, sent);
      } else if (shown !== undefined && row !== undefined && row === next) {
        events.push({ kind: 'update', row, old: shown });
        this.#shown.set(pk, row);
      }
    }
    // Deletes first, then the update, then inserts: the client never holds more than n rows.
    events.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'delete' ? -1 : 1));
    return [...events, ...inserts];
  }

  /** The events that bring the client from what it holds to the current window (which must be known). */
  resync(seq: string): WindowEvent[] {
    if (!this.known) throw new WindowInconsistent('resync of a window that is not known');
    const now = new Map(this.rows.map((row) => [this.#pk(row), row] as const));
    const deletes: WindowEvent[] = [];
    const updates: WindowEvent[] = [];
    const inserts: WindowEvent[] = [];
    for (const [pk, shown] of this.#shown) {
      const row = now.get(pk);
      if (row === undefined) deletes.push({ kind: 'delete', old: { ...shown, _seq: seq } });
      else if (!sameCells(row, shown)) updates.push({ kind: 'update', row: { ...row, _seq: seq }, old: shown });
    }
    for (const [pk, row] of now) if (!this.#shown.has(pk)) inserts.push({ kind: 'insert', row: { ...row, _seq: seq } });
    for (const e of deletes) this.#shown.delete(this.#pk(e.kind === 'delete' ? e.old : e.row));
    for (const e of [...updates, ...inserts]) if (e.kind !== 'delete') this.#shown.set(this.#pk(e.row), e.row);
    return [...deletes, ...updates, ...inserts];
  }

  /**
   * Turns the state loaded from a read at boundary B back into the state as of the refill point:
   * `after` are the row changes from just after that point up to B, oldest first; each is
   * undone, newest first (its new image taken out, its old image put back), within the read's
   * bound. Rows past the bound stay unknown, as in any state.
   */
  undo(after: readonly WindowChange[]): void {
    for (let i = after.length - 1; i >= 0; i--) {
      const c = after[i]!;
      if (c.next !== undefined && c.nextIn && this.#covers(c.next)) this.#remove(c.next, true);
      if (c.old !== undefined && c.oldIn && this.#covers(c.old)) this.#insert(c.old);
    }
    this.#trim();
  }

  /** Forgets everything known (a resume starts from nothing). */
  reset(): void {
    this.#rows = [];
    this.#bound = undefined;
    this.#complete = false;
    this.#shown.clear();
  }

  #covers(row: LiveRow): boolean {
    return this.#complete || (this.#bound !== undefined && this.#order.compare(row, this.#bound) <= 0);
  }

  /** Index of `row`'s place (by the order, which ends with the primary key), and whether it is there. */
  #search(row: LiveRow): { index: number; found: boolean } {
    let lo = 0;
    let hi = this.#rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.#order.compare(this.#rows[mid]!, row);
      if (c === 0) return { index: mid, found: true };
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return { index: lo, found: false };
  }

  #remove(row: LiveRow, mustBeThere: boolean): void {
    const { index, found } = this.#search(row);
    if (!found) {
      if (mustBeThere) throw new WindowInconsistent(`row ${this.#pk(row)} is not where its old image says`);
      return;
    }
    this.#rows.splice(index, 1);
  }

  #insert(row: LiveRow): number {
    const { index, found } = this.#search(row);
    if (found) throw new WindowInconsistent(`row ${this.#pk(row)} is in the window twice`);
    this.#rows.splice(index, 0, row);
    return index;
  }

  /** Keeps at most `capacity` rows; the bound moves up to the last one kept. */
  #trim(): void {
    if (this.#rows.length <= this.capacity) return;
    this.#rows.length = this.capacity;
    this.#bound = this.#rows.at(-1);
    this.#complete = false;
  }

  #pk(row: LiveRow): string {
    return String(row[this.#key]);
  }
}

function sameCells(a: LiveRow, b: LiveRow): boolean {
  for (const k of Object.keys(a)) if (k !== '_seq' && JSON.stringify(a[k]) !== JSON.stringify(b[k])) return false;
  return true;
}
