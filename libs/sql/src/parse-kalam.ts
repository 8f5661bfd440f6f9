// KalamDB statements PostgreSQL's grammar does not have, read from tokens (docs/protocol.md §3):
//   CREATE NAMESPACE [IF NOT EXISTS] ns          DROP NAMESPACE [IF EXISTS] ns [CASCADE|RESTRICT]
//   CREATE USER name [WITH] PASSWORD 'pw' [ROLE r] [EMAIL 'e']   (clauses in any order)
//   ALTER USER name SET PASSWORD 'pw' | ROLE r | EMAIL 'e' [, …]   DROP USER [IF EXISTS] name
//   EXECUTE AS USER 'alice' ( <one SELECT, INSERT, UPDATE or DELETE> )
// User names may be bare, "quoted" or 'string literals' (KalamDB writes CREATE USER 'alice').
// Bare namespace and user names fold to lower case as in PostgreSQL, so `CREATE NAMESPACE App`
// and `SELECT * FROM App.t` agree. ROLE defaults to user, as in KalamDB.
import { DEFAULT_NAMESPACE, ROLES, type Role } from '@seqline/domain';
import { SqlError } from './errors.js';
import { checkUserId, checkUserNamespace } from './parse-names.js';
import { Cursor, identifierOf, isPunct, splitStatements, stringOf, type Token } from './tokens.js';
import type { Statement } from './types.js';

export function createNamespace(tokens: readonly Token[]): Statement {
  const c = new Cursor(tokens, 'CREATE NAMESPACE');
  c.expect('create', 'namespace');
  const ifNotExists = c.accept('if', 'not', 'exists');
  const name = namespaceName(c);
  c.end();
  return { kind: 'create_namespace', name, ifNotExists };
}

export function dropNamespace(tokens: readonly Token[]): Statement {
  const c = new Cursor(tokens, 'DROP NAMESPACE');
  c.expect('drop', 'namespace');
  const ifExists = c.accept('if', 'exists');
  const name = namespaceName(c);
  const cascade = c.accept('cascade');
  if (!cascade) c.accept('restrict');
  c.end();
  if (name === DEFAULT_NAMESPACE) throw new SqlError('INVALID_SQL', `namespace ${DEFAULT_NAMESPACE} cannot be dropped`);
  return { kind: 'drop_namespace', name, ifExists, cascade };
}

// `default` is a reserved word in PostgreSQL but the name of KalamDB's default namespace.
function namespaceName(c: Cursor): string {
  const t = c.peek();
  const name = t?.word === DEFAULT_NAMESPACE ? DEFAULT_NAMESPACE : identifierOf(t);
  if (name === undefined) throw c.error('expected a namespace name');
  c.next();
  return checkUserNamespace(name);
}

export function createUser(tokens: readonly Token[]): Statement {
  const c = new Cursor(tokens, 'CREATE USER');
  c.expect('create', 'user');
  if (c.accept('if', 'not', 'exists')) throw new SqlError('UNSUPPORTED', 'CREATE USER IF NOT EXISTS is not supported');
  const name = userName(c);
  c.accept('with');
  const fields = userFields(c, 'create');
  if (fields.password === undefined) throw new SqlError('INVALID_SQL', 'CREATE USER needs WITH PASSWORD');
  return { kind: 'create_user', name, password: fields.password, role: fields.role ?? 'user', ...optional('email', fields.email) };
}

export function alterUser(tokens: readonly Token[]): Statement {
  const c = new Cursor(tokens, 'ALTER USER');
  c.expect('alter', 'user');
  const name = userName(c);
  c.expect('set');
  const f = userFields(c, 'alter');
  return {
    kind: 'alter_user',
    name,
    ...optional('password', f.password),
    ...optional('role', f.role),
    ...optional('email', f.email),
  };
}

export function dropUser(tokens: readonly Token[]): Statement {
  const c = new Cursor(tokens, 'DROP USER');
  c.expect('drop', 'user');
  const ifExists = c.accept('if', 'exists');
  const name = userName(c);
  c.end();
  return { kind: 'drop_user', name, ifExists };
}

/**
 * EXECUTE AS USER 'alice' ( stmt ). `parseInner` parses the tokens inside the parentheses as
 * one statement (the caller's own parser, passed in so this file does not import it).
 */
export function executeAs(tokens: readonly Token[], parseInner: (inner: Token[]) => Statement): Statement {
  const c = new Cursor(tokens, 'EXECUTE AS');
  c.expect('execute', 'as', 'user');
  const user = userName(c);
  const paren = c.peek();
  if (paren === undefined || !isPunct(paren, '(')) throw c.error('expected ( before the statement');
  const open = tokens.indexOf(paren);
  const close = matchingParen(tokens, open);
  if (close !== tokens.length - 1) {
    const after = tokens[close + 1];
    throw new SqlError('INVALID_SQL', `EXECUTE AS: unexpected ${after === undefined ? 'end of input; missing )' : JSON.stringify(after.text)}`);
  }
  const parts = splitStatements(tokens.slice(open + 1, close));
  const [only] = parts;
  if (only === undefined) throw new SqlError('INVALID_SQL', 'EXECUTE AS needs a statement in parentheses');
  if (parts.length > 1) throw new SqlError('INVALID_SQL', 'EXECUTE AS runs exactly one statement');
  const inner = parseInner(only);
  if (inner.kind === 'execute_as') throw new SqlError('INVALID_SQL', 'EXECUTE AS cannot be nested');
  if (inner.kind !== 'select' && inner.kind !== 'insert' && inner.kind !== 'update' && inner.kind !== 'delete') {
    throw new SqlError('INVALID_SQL', `EXECUTE AS runs a SELECT, INSERT, UPDATE or DELETE, not ${inner.kind.replaceAll('_', ' ').toUpperCase()}`);
  }
  return { kind: 'execute_as', user, inner };
}

/** Index of the `)` closing the `(` at `open`, or tokens.length if it is never closed. */
function matchingParen(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (isPunct(tokens[i], '(')) depth++;
    if (isPunct(tokens[i], ')') && --depth === 0) return i;
  }
  return tokens.length;
}

function userName(c: Cursor): string {
  const t = c.peek();
  const name = stringOf(t) ?? identifierOf(t);
  if (name === undefined) throw c.error('expected a user name');
  c.next();
  return checkUserId(name);
}

interface UserFields {
  password?: string;
  role?: Role;
  email?: string;
}

// Clauses of CREATE USER … WITH and ALTER USER … SET. ALTER separates them with commas (or a
// further SET); CREATE lists them one after another.
function userFields(c: Cursor, mode: 'create' | 'alter'): UserFields {
  const fields: UserFields = {};
  for (let first = true; c.peek() !== undefined; first = false) {
    if (!first && mode === 'alter' && !isPunct(c.peek(), ',') && !c.accept('set')) throw c.error('unexpected');
    if (!first && mode === 'alter' && isPunct(c.peek(), ',')) c.next();
    if (c.peek() === undefined) throw c.error('expected PASSWORD, ROLE or EMAIL');
    const clause = c.next();
    const key = clause?.word;
    if (key === 'password' || key === 'role' || key === 'email') {
      if (fields[key] !== undefined) throw new SqlError('INVALID_SQL', `${key.toUpperCase()} is given twice`);
      if (key === 'role') fields.role = roleOf(c);
      else fields[key] = stringValue(c, key);
    } else if (key === 'metadata' || key === 'allow_remote' || key === 'oauth' || key === 'internal') {
      throw new SqlError('UNSUPPORTED', `${key.toUpperCase()} is not supported for users`);
    } else {
      throw new SqlError('INVALID_SQL', `${mode === 'create' ? 'CREATE' : 'ALTER'} USER: unexpected ${JSON.stringify(clause?.text ?? '')}`);
    }
  }
  if (mode === 'alter' && Object.keys(fields).length === 0) throw c.error('expected PASSWORD, ROLE or EMAIL');
  return fields;
}

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+$/;

function stringValue(c: Cursor, key: 'password' | 'email'): string {
  const value = stringOf(c.peek());
  if (value === undefined) throw c.error(`expected a string literal after ${key.toUpperCase()}`);
  c.next();
  if (key === 'password' && value === '') throw new SqlError('INVALID_SQL', 'PASSWORD must not be empty');
  if (key === 'email' && !EMAIL_PATTERN.test(value)) throw new SqlError('INVALID_SQL', `EMAIL ${JSON.stringify(value)} is not an email address`);
  return value;
}

function roleOf(c: Cursor): Role {
  const t = c.peek();
  const value = (stringOf(t) ?? t?.word)?.toLowerCase();
  const role = ROLES.find((r) => r === value);
  if (role === undefined) throw c.error(`expected a role (${ROLES.join(', ')})`);
  c.next();
  return role;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
