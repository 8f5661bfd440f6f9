// The catalog in memory: namespaces and table definitions from seqline.namespaces/tables, with
// the version that every DDL bumps. Storage is the only writer; other replicas and services
// reload when a notice on the catalog subject says the version moved.
import type { Catalog, TableDef } from '@seqline/domain';
import type { Sql } from 'postgres';

export class CatalogCache implements Catalog {
  #namespaces = new Set<string>();
  #tables = new Map<string, TableDef>();
  #version = 0n;
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  get version(): bigint {
    return this.#version;
  }

  hasNamespace(name: string): boolean {
    return this.#namespaces.has(name);
  }

  table(namespace: string, name: string): TableDef | undefined {
    return this.#tables.get(`${namespace}.${name}`);
  }

  tables(): TableDef[] {
    return [...this.#tables.values()];
  }

  namespaces(): string[] {
    return [...this.#namespaces].sort();
  }

  /** Reads the whole catalog in one snapshot. */
  async reload(sql: Sql = this.#sql): Promise<void> {
    const [namespaces, tables, version] = await Promise.all([
      sql<{ name: string }[]>`SELECT name FROM seqline.namespaces`,
      sql<{ def: TableDef | string }[]>`SELECT def FROM seqline.tables`,
      sql<{ version: string }[]>`SELECT version FROM seqline.catalog_version WHERE id = 1`,
    ]);
    this.#namespaces = new Set(namespaces.map((r) => r.name));
    this.#tables = new Map(
      tables.map((r) => {
        const def = parseDef(r.def);
        return [`${def.namespace}.${def.name}`, def];
      }),
    );
    this.#version = BigInt(version[0]?.version ?? '0');
  }
}

/** jsonb comes back as its text (see db.ts); older rows or tests may hand an object. */
function parseDef(def: TableDef | string): TableDef {
  return typeof def === 'string' ? (JSON.parse(def) as TableDef) : def;
}
