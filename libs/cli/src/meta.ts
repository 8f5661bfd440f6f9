// The REPL's meta-commands (scripts take them too), each a line that starts with a backslash:
//   \q quits, \? lists them; \dt [NS] lists the tables (SHOW TABLES [IN ns]), \dn the
//   namespaces (SHOW NAMESPACES), \d TABLE describes one (DESCRIBE TABLE ns.t; alone, \dt).
// They print a few columns of KalamDB's result shapes (docs/protocol.md §3, "Schema
// introspection"); the rest (the `columns` JSON of SHOW TABLES, the options) is for tools, and
// the statements themselves return it. Pure.
import { cliError, CLI_ERROR } from './errors.js';

/** What a handled input asks of the loop. */
export type Next = 'continue' | 'quit';

export interface MetaQuery {
  readonly sql: string;
  /** The columns of the answer to print, in this order. */
  readonly columns: readonly string[];
}

interface MetaCommand {
  readonly usage: string;
  readonly help: string;
  /** The query it runs, or what the loop does next; throws on a bad argument. */
  readonly run: (argument: string, out: (text: string) => void) => MetaQuery | Next;
}

const TABLES = ['namespace_id', 'table_name', 'table_type', 'access_level'] as const;
const COLUMNS = ['column_name', 'data_type', 'is_nullable', 'is_primary_key', 'column_default'] as const;
const NAME = /^\w+$/;
const TABLE = /^\w+(\.\w+)?$/;

export const META: Readonly<Record<string, MetaCommand>> = {
  dt: {
    usage: '\\dt [NS]',
    help: 'the tables you may read (in namespace NS): SHOW TABLES [IN NS]',
    run: (argument) => ({ sql: argument === '' ? 'SHOW TABLES' : `SHOW TABLES IN ${name('dt', argument, NAME, 'a namespace')}`, columns: TABLES }),
  },
  d: {
    usage: '\\d [TABLE]',
    help: "a table's columns: DESCRIBE TABLE ns.t (alone: \\dt)",
    run: (argument) => (argument === '' ? { sql: 'SHOW TABLES', columns: TABLES } : { sql: `DESCRIBE TABLE ${name('d', argument, TABLE, 'a table, ns.t')}`, columns: COLUMNS }),
  },
  dn: {
    usage: '\\dn',
    help: 'the namespaces: SHOW NAMESPACES',
    run: (argument) => {
      noArgument('dn', argument);
      return { sql: 'SHOW NAMESPACES', columns: ['namespace_id', 'table_count'] };
    },
  },
  q: {
    usage: '\\q',
    help: 'quit (Ctrl-D too)',
    run: (argument) => {
      noArgument('q', argument);
      return 'quit';
    },
  },
  '?': {
    usage: '\\?',
    help: 'this list',
    run: (argument, out) => {
      noArgument('?', argument);
      out(metaHelp());
      return 'continue';
    },
  },
};

/** The meta-commands and the keys, as `\?` prints them. */
export function metaHelp(): string {
  const rows = Object.values(META).map((m) => `  ${m.usage.padEnd(12)} ${m.help}`);
  return [
    'Meta-commands (at the start of a line):',
    ...rows,
    'SQL runs when a ";" ends it; a statement may span lines. BEGIN … COMMIT is sent as one',
    'request when it ends. Tab completes keywords, tables and columns. Ctrl-C cancels the',
    'input (or stops waiting for an answer), Ctrl-D quits.',
    '',
  ].join('\n');
}

/**
 * The answer with only `columns` of its first result, in that order (a result without one of
 * them is left whole: the server's shape is not what this expects, and showing all is safe).
 */
export function project(body: Record<string, unknown>, columns: readonly string[]): Record<string, unknown> {
  const [first] = Array.isArray(body['results']) ? (body['results'] as unknown[]) : [];
  const { schema, rows } = (typeof first === 'object' && first !== null ? first : {}) as { schema?: unknown; rows?: unknown };
  if (!Array.isArray(schema) || !Array.isArray(rows)) return body;
  const at = columns.map((c) => schema.findIndex((s: unknown) => (s as { name?: unknown } | null)?.name === c));
  if (at.some((i) => i < 0)) return body;
  return {
    ...body,
    results: [
      {
        ...(first as object),
        schema: at.map((i, index) => ({ ...(schema[i] as object), index })),
        rows: rows.map((row: unknown) => at.map((i) => (Array.isArray(row) ? (row[i] as unknown) : null))),
      },
    ],
  };
}

function name(command: string, argument: string, pattern: RegExp, what: string): string {
  if (!pattern.test(argument)) throw cliError(CLI_ERROR.badMetaCommand, `\\${command} takes ${what} (letters, digits, _), got "${argument}"`);
  return argument;
}

function noArgument(command: string, argument: string): void {
  if (argument !== '') throw cliError(CLI_ERROR.badMetaCommand, `\\${command} takes no argument`);
}
