// Tab completion in the REPL: the word before the cursor completed from the SQL keywords
// Seqline accepts (docs/protocol.md §3), in the case the word was typed in. Nothing is
// offered inside a string, a quoted identifier or a comment. Pure.
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

/**
 * readline's answer for `line` (the text before the cursor), the lines of the statement typed
 * before it given as `pending`: the candidates, and the word they replace.
 */
export function completeKeyword(line: string, pending: string): [string[], string] {
  const word = /[A-Za-z_][A-Za-z0-9_]*$/.exec(line)?.[0] ?? '';
  const open = splitSql(`${pending}${line}`).unterminated;
  if (word === '' || (open !== undefined && open !== 'parenthesis')) return [[], word];
  const lower = word === word.toLowerCase();
  const prefix = word.toUpperCase();
  return [KEYWORDS.filter((k) => k.startsWith(prefix)).map((k) => (lower ? k.toLowerCase() : k)), word];
}
