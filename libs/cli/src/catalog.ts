// The tables and columns the REPL completes, read over the API as the user, so only what they
// may read: one SHOW TABLES (its `columns` JSON names each table's columns), on the first Tab,
// read again after a statement that may change the schema (CREATE, ALTER, DROP). Failing to
// read it only means no names to complete: the next Tab tries again.
import { parseResults } from './format.js';
import type { RunSql } from './shell.js';

export interface CatalogTable {
  readonly namespace: string;
  readonly name: string;
  readonly columns: readonly string[];
}

const CHANGES_SCHEMA = new Set(['create', 'alter', 'drop']);

export class Catalog {
  readonly #run: RunSql;
  #tables: Promise<readonly CatalogTable[]> | undefined;

  constructor(run: RunSql) {
    this.#run = run;
  }

  tables(): Promise<readonly CatalogTable[]> {
    this.#tables ??= this.#read().catch((err: unknown) => {
      this.#tables = undefined;
      throw err;
    });
    return this.#tables;
  }

  /** After statements ran (first words, lower-cased): forgets the tables if they may have changed. */
  ran(keywords: readonly string[]): void {
    if (keywords.some((k) => CHANGES_SCHEMA.has(k))) this.#tables = undefined;
  }

  async #read(): Promise<readonly CatalogTable[]> {
    const table = parseResults((await this.#run('SHOW TABLES'))['results'])[0]?.table;
    if (table === undefined) return [];
    const [ns, name, columns] = ['namespace_id', 'table_name', 'columns'].map((c) => table.columns.findIndex((col) => col.name === c));
    if (ns === undefined || name === undefined || columns === undefined || ns < 0 || name < 0) return [];
    return table.rows.map((row) => ({ namespace: String(row[ns]), name: String(row[name]), columns: columnNames(row[columns]) }));
  }
}

/** The `column_name`s of KalamDB's column definitions (JSON text); none if unreadable. */
function columnNames(json: unknown): string[] {
  try {
    const parsed = (typeof json === 'string' ? JSON.parse(json) : json) as unknown;
    return Array.isArray(parsed) ? parsed.map((c: unknown) => (c as { column_name?: unknown } | null)?.column_name).filter((n): n is string => typeof n === 'string') : [];
  } catch {
    return [];
  }
}
