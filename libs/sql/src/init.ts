// Loading PostgreSQL's parser (libpg-query, compiled to WebAssembly). The module loads
// asynchronously once per process; after that every parse is synchronous. Services await
// initSql() during start-up, and every function of this package that parses asserts it did.
import { loadModule } from 'libpg-query';

let loading: Promise<void> | undefined;
let ready = false;

/** Loads the parser once. Idempotent and safe to call concurrently; a failed load can be retried. */
export async function initSql(): Promise<void> {
  loading ??= loadModule().then(
    () => {
      ready = true;
    },
    (err: unknown) => {
      loading = undefined;
      throw new Error('@seqline/sql: loading the PostgreSQL parser failed', { cause: err });
    },
  );
  await loading;
}

/** Throws unless initSql() has completed. `caller` names the function in the message. */
export function assertSqlReady(caller: string): void {
  if (!ready) throw new Error(`@seqline/sql: ${caller}() needs the SQL parser; await initSql() once at start-up first`);
}
