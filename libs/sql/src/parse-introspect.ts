// KalamDB's schema introspection statements, read from tokens (docs/protocol.md §3):
//   SHOW NAMESPACES          SHOW TABLES [IN|FROM ns]          DESCRIBE|DESC [TABLE] [ns.]t
// A bare table name is in the request's namespace, as everywhere else. Reserved namespaces are
// not refused here (a dba may DESCRIBE system.users); storage decides what the caller sees.
import { DEFAULT_NAMESPACE, type TableRef } from '@seqline/domain';
import { checkName, defaultNamespace } from './parse-names.js';
import { Cursor, identifierOf, isPunct, type Token } from './tokens.js';
import type { Statement } from './types.js';

export function show(tokens: readonly Token[]): Statement {
  const c = new Cursor(tokens, 'SHOW');
  c.expect('show');
  if (c.accept('namespaces')) {
    c.end();
    return { kind: 'show_namespaces' };
  }
  c.expect('tables');
  if (!c.accept('in') && !c.accept('from')) {
    c.end();
    return { kind: 'show_tables' };
  }
  const namespace = name(c, 'namespace');
  c.end();
  return { kind: 'show_tables', namespace };
}

export function describe(tokens: readonly Token[], options: { readonly defaultNamespace?: string | undefined }): Statement {
  const c = new Cursor(tokens, 'DESCRIBE');
  if (!c.accept('describe')) c.expect('desc');
  c.accept('table');
  const first = name(c, 'table');
  let table: TableRef = { namespace: defaultNamespace(options), name: first };
  if (isPunct(c.peek(), '.')) {
    c.next();
    table = { namespace: checkName('namespace', first), name: name(c, 'table') };
  }
  c.end();
  return { kind: 'describe_table', table };
}

// `default` is a reserved word in PostgreSQL and the name of the default namespace.
function name(c: Cursor, kind: 'namespace' | 'table'): string {
  const t = c.peek();
  const value = t?.word === DEFAULT_NAMESPACE ? DEFAULT_NAMESPACE : identifierOf(t);
  if (value === undefined) throw c.error(`expected a ${kind} name`);
  c.next();
  return checkName(kind, value);
}
