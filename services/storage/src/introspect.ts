// SHOW NAMESPACES, SHOW TABLES [IN ns] and DESCRIBE [TABLE] ns.t (docs/protocol.md §3), in
// KalamDB's result shapes (introspect-rows.ts). A caller sees exactly the tables it may read,
// decided twice like a read's partitions: the catalog rows are read as seqline_reader through
// the views seqline.schema_tables and schema_namespaces, which admit a SHARED table only to the
// roles its access level names (migrations.ts), and each row is checked again with mayRead
// (libs/sql validate.ts). A table the caller may not read is answered as one that does not
// exist, so DESCRIBE does not tell whether it does.
import { ProtocolError, timestampMicros, type QueryResult } from '@seqline/protocol';
import type { Actor, TableDef } from '@seqline/domain';
import { mayRead, type Statement } from '@seqline/sql';
import { pgToProtocolError } from './pg-errors.js';
import { describeResult, namespacesResult, tablesResult, type TableRow } from './introspect-rows.js';
import { asReader, type QueryContext } from './query.js';

export type Introspection = Extract<Statement, { kind: 'show_namespaces' | 'show_tables' | 'describe_table' }>;

export function isIntrospection(stmt: Statement): stmt is Introspection {
  return stmt.kind === 'show_namespaces' || stmt.kind === 'show_tables' || stmt.kind === 'describe_table';
}

interface CatalogRow {
  readonly namespace: string;
  readonly name: string;
  readonly def: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly schema_version: number;
}

export async function runIntrospection(ctx: QueryContext, stmt: Introspection, actor: Actor): Promise<QueryResult> {
  try {
    switch (stmt.kind) {
      case 'show_namespaces':
        return await showNamespaces(ctx, actor);
      case 'show_tables':
        return tablesResult(await readTables(ctx, actor, stmt.namespace), actor.userId);
      case 'describe_table': {
        const { namespace, name } = stmt.table;
        const [table] = await readTables(ctx, actor, namespace, name);
        if (table === undefined) throw new ProtocolError('TABLE_NOT_FOUND', `table ${namespace}.${name} does not exist`);
        return describeResult(table, actor.userId);
      }
    }
  } catch (err) {
    throw pgToProtocolError(err) ?? err;
  }
}

/** The tables the actor may read (of one namespace, or one table), ordered by namespace and name. */
async function readTables(ctx: QueryContext, actor: Actor, namespace?: string, name?: string): Promise<TableRow[]> {
  const rows = await asReader(
    ctx,
    actor,
    (tx) => tx<CatalogRow[]>`
      SELECT namespace, name, def, created_at, updated_at, schema_version FROM seqline.schema_tables
      WHERE (${namespace ?? null}::text IS NULL OR namespace = ${namespace ?? null}) AND (${name ?? null}::text IS NULL OR name = ${name ?? null})
      ORDER BY namespace, name`,
  );
  return rows.flatMap((r) => {
    const def = JSON.parse(r.def) as TableDef;
    if (!mayRead(def, actor)) return [];
    return [{ def, createdAtUs: timestampMicros(r.created_at), updatedAtUs: timestampMicros(r.updated_at), schemaVersion: r.schema_version }];
  });
}

async function showNamespaces(ctx: QueryContext, actor: Actor): Promise<QueryResult> {
  const [namespaces, tables] = await Promise.all([
    asReader(ctx, actor, (tx) => tx<{ name: string; created_at: string }[]>`SELECT name, created_at FROM seqline.schema_namespaces ORDER BY name`),
    readTables(ctx, actor),
  ]);
  const counts = new Map<string, number>();
  for (const t of tables) counts.set(t.def.namespace, (counts.get(t.def.namespace) ?? 0) + 1);
  return namespacesResult(
    namespaces.map((n) => ({ name: n.name, createdAtUs: timestampMicros(n.created_at), tableCount: counts.get(n.name) ?? 0 })),
    actor.userId,
  );
}
