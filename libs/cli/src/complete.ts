// Tab completion in the REPL: the word before the cursor completed from
//   - after FROM, JOIN, INTO, UPDATE, TABLE, DESCRIBE or \d: the tables, as `ns.table`;
//   - `ns.` and the start of a name: the tables of that namespace;
//   - anywhere else: the SQL keywords Seqline accepts (docs/protocol.md §3), in the case the
//     word was typed in, the columns of the tables the statement names, and the namespaces.
// Nothing is offered inside a string, a quoted identifier or a comment. Pure: the tables come
// from catalog.ts.
import type { CatalogTable } from './catalog.js';
import { splitSql } from './statements.js';

export const KEYWORDS = [
  'ADD', 'ALTER', 'AND', 'AS', 'ASC', 'BEGIN', 'BETWEEN', 'BIGINT', 'BOOLEAN', 'BY', 'BYTES', 'CASCADE', 'CASE', 'COLUMN',
  'COMMIT', 'COUNT', 'CREATE', 'CURRENT_USER', 'DATE', 'DATETIME', 'DECIMAL', 'DEFAULT', 'DELETE', 'DESC', 'DESCRIBE',
  'DISTINCT', 'DOUBLE', 'DROP', 'ELSE', 'END', 'EXECUTE', 'EXISTS', 'FALSE', 'FLOAT', 'FROM', 'GROUP', 'HAVING', 'IF', 'ILIKE',
  'IN', 'INNER', 'INSERT', 'INT', 'INTO', 'IS', 'JOIN', 'JSON', 'KEY', 'LEFT', 'LIKE', 'LIMIT', 'NAMESPACE', 'NAMESPACES',
  'NOT', 'NOW', 'NULL', 'OFFSET', 'ON', 'OR', 'ORDER', 'PASSWORD', 'PRIMARY', 'RETURNING', 'ROLE', 'ROLLBACK', 'SELECT',
  'SET', 'SHARED', 'SHOW', 'SMALLINT', 'SNOWFLAKE_ID', 'STREAM', 'TABLE', 'TABLES', 'TEXT', 'THEN', 'TIME', 'TIMESTAMP',
  'TRUE', 'UPDATE', 'USER', 'UUID', 'UUID_V7', 'VALUES', 'VARCHAR', 'WHEN', 'WHERE', 'WITH',
] as const;

/** Words after which a table name comes. */
const BEFORE_TABLE = new Set(['from', 'join', 'into', 'update', 'table', 'describe', 'desc', '\\d']);

/**
 * readline's answer for `line` (the text before the cursor), the lines of the statement typed
 * before it given as `pending`: the candidates, sorted, and the word they replace.
 */
export function complete(line: string, pending: string, tables: readonly CatalogTable[]): [string[], string] {
  const word = /[A-Za-z_]\w*(?:\.\w*)?$/.exec(line)?.[0] ?? '';
  const text = `${pending}${line}`;
  const open = splitSql(text).unterminated;
  if (word === '' || (open !== undefined && open !== 'parenthesis')) return [[], word];
  const starts = (candidate: string): boolean => candidate.toLowerCase().startsWith(word.toLowerCase());
  const qualified = tables.map((t) => `${t.namespace}.${t.name}`);
  if (word.includes('.')) return [sorted(qualified.filter(starts)), word];
  const namespaces = [...new Set(tables.map((t) => `${t.namespace}.`))];
  const before = /(\S+)\s+$/.exec(text.slice(0, text.length - word.length))?.[1]?.toLowerCase();
  if (before !== undefined && BEFORE_TABLE.has(before)) return [sorted([...namespaces, ...qualified].filter(starts)), word];
  const named = new Set(qualified.filter((q) => new RegExp(`\\b${q.replace('.', '\\.')}\\b`, 'i').test(text)));
  const columns = tables.filter((t) => named.has(`${t.namespace}.${t.name}`)).flatMap((t) => t.columns);
  const lower = word === word.toLowerCase();
  const keywords = KEYWORDS.map((k) => (lower ? k.toLowerCase() : k));
  return [sorted([...columns, ...keywords, ...namespaces].filter(starts)), word];
}

function sorted(candidates: readonly string[]): string[] {
  return [...new Set(candidates)].sort();
}
