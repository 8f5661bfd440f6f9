// The catalog as the write service and the gateway see it: fetched from storage and kept until
// a notice on the catalog subject says it moved (storage publishes one after each DDL). A
// table missing from the cached copy is looked up once more before a statement is refused, so
// one right after CREATE TABLE on another replica still works.
import type { Catalog, TableDef } from '@seqline/domain';

/** What Storage.GetCatalog answers. */
export interface CatalogSnapshot {
  readonly version: bigint;
  readonly namespaces: readonly string[];
  readonly tablesJson: string;
}

export class RemoteCatalog implements Catalog {
  readonly #fetch: () => Promise<CatalogSnapshot>;
  #namespaces = new Set<string>();
  #tables = new Map<string, TableDef>();
  #version = -1n;
  #loading: Promise<void> | undefined;

  constructor(fetch: () => Promise<CatalogSnapshot>) {
    this.#fetch = fetch;
  }

  hasNamespace(name: string): boolean {
    return this.#namespaces.has(name);
  }

  table(namespace: string, name: string): TableDef | undefined {
    return this.#tables.get(`${namespace}.${name}`);
  }

  get loaded(): boolean {
    return this.#version >= 0n;
  }

  /** Refreshes on each notice (its text is the new catalog version), for as long as they come. */
  follow(notices: AsyncIterable<{ string(): string }>): void {
    void (async () => {
      for await (const m of notices) await this.refresh(BigInt(m.string() || '0')).catch(() => {});
    })();
  }

  /** Reloads (single-flight) when `version` is newer than ours, or always when omitted. */
  refresh(version?: bigint): Promise<void> {
    if (version !== undefined && version <= this.#version) return Promise.resolve();
    this.#loading ??= this.#fetch()
      .then((snap) => {
        this.#namespaces = new Set(snap.namespaces);
        this.#tables = new Map((JSON.parse(snap.tablesJson) as TableDef[]).map((t) => [`${t.namespace}.${t.name}`, t]));
        this.#version = snap.version;
      })
      .finally(() => {
        this.#loading = undefined;
      });
    return this.#loading;
  }
}
