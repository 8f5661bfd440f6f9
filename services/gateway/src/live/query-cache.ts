// Compiled live queries shared by subscriptions (docs/architecture.md §4). A subscription only
// reads its compiled query (table, columns, filter, order, limit), so the subscriptions of one
// user with the same SQL and parameters share one, with what is derived from it once (the ack's
// column schema), instead of each holding a copy of about 2 KB. An entry holds while the
// catalog hands out the very table definition it was compiled against (a catalog refresh makes
// new ones), and the cache keeps at most `max` entries, the oldest going first: a subscription
// keeps the query it was given either way.
import type { Catalog } from '@seqline/domain';
import type { LiveQuery } from '@seqline/sql';

export class LiveQueryCache<T extends { readonly query: LiveQuery }> {
  readonly #entries = new Map<string, T>();
  readonly #max: number;

  constructor(max = 10_000) {
    this.#max = max;
  }

  /** The entry of `user`'s `sql` with `paramsJson`, compiled by `compile` unless a current one is cached. */
  get(user: string, sql: string, paramsJson: string, catalog: Catalog, compile: () => T): T {
    const key = `${user}\u0000${paramsJson}\u0000${sql}`;
    const cached = this.#entries.get(key);
    if (cached !== undefined && catalog.table(cached.query.table.namespace, cached.query.table.name) === cached.query.table) return cached;
    const entry = compile();
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    return entry;
  }

  get size(): number {
    return this.#entries.size;
  }
}
