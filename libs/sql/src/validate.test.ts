import { parseSync } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_LEVELS, ROLES, SHARED_OWNER, TABLE_TYPES, type AccessLevel, type Actor, type Catalog, type Role, type TableDef, type TableType } from '@seqline/domain';
import { SqlError } from './errors.js';
import { initSql } from './init.js';
import type { Statement } from './types.js';
import { actAs, checkExecuteAs, checkReadAccess, checkWriteAccess, resolveOwner, validateWrite } from './validate.js';

function table(name: string, tableType: TableType, accessLevel: AccessLevel = 'PUBLIC'): TableDef {
  return {
    namespace: 'app',
    name,
    tableType,
    accessLevel,
    deletedRetentionHours: 168,
    primaryKey: 'id',
    columns: [
      { name: 'id', dataType: 'BigInt', notNull: true, primaryKey: true },
      { name: 'title', dataType: 'Text', notNull: true, primaryKey: false },
      { name: 'n', dataType: 'Int', notNull: false, primaryKey: false, default: { kind: 'literal', sql: '0' } },
      { name: 'owner', dataType: 'Text', notNull: true, primaryKey: false, default: { kind: 'current_user' } },
      { name: 'uid', dataType: 'Uuid', notNull: false, primaryKey: false, default: { kind: 'uuid_v7' } },
    ],
  };
}

const TABLES = [table('t', 'USER'), table('pub', 'SHARED', 'PUBLIC'), table('priv', 'SHARED', 'PRIVATE'), table('dbat', 'SHARED', 'DBA')];
const catalog: Catalog = {
  hasNamespace: (ns) => ns === 'app',
  table: (ns, name) => TABLES.find((t) => t.namespace === ns && t.name === name),
};
const ALICE: Actor = { userId: 'alice', role: 'user' };

function outcome(run: () => unknown): string {
  try {
    run();
    return 'ok';
  } catch (err) {
    if (err instanceof SqlError) return `${err.code}: ${err.message}`;
    throw err;
  }
}

type Dml = Extract<Statement, { kind: 'insert' | 'update' | 'delete' }>;

/** A DML Statement as parse.ts will produce it (built here from libpg-query directly). */
function dml(text: string): Dml {
  const stmt = parseSync(text).stmts?.[0]?.stmt as unknown as Record<string, Record<string, unknown>>;
  const type = Object.keys(stmt)[0] ?? '';
  const kind = ({ InsertStmt: 'insert', UpdateStmt: 'update', DeleteStmt: 'delete' } as const)[type] ?? 'insert';
  const relation = stmt[type]?.['relation'] as { schemaname?: string; relname: string };
  return { kind, table: { namespace: relation.schemaname ?? 'app', name: relation.relname }, ast: stmt, text };
}

beforeAll(async () => {
  await initSql();
});

describe('checkExecuteAs', () => {
  // Rows: the acting role; columns: the target's role (docs/protocol.md §3).
  const MATRIX: Record<Role, Record<Role, boolean>> = {
    system: { system: true, dba: true, service: true, user: true },
    dba: { system: false, dba: true, service: true, user: true },
    service: { system: false, dba: false, service: true, user: true },
    user: { system: false, dba: false, service: false, user: true },
  };

  for (const actor of ROLES) {
    for (const target of ROLES) {
      const allowed = MATRIX[actor][target];
      it(`${actor} → ${target}: ${allowed ? 'allowed' : 'PERMISSION_DENIED'}`, () => {
        const expected = allowed ? 'ok' : `PERMISSION_DENIED: permission denied: role ${actor} cannot act as a user with role ${target}`;
        expect(outcome(() => checkExecuteAs(actor, target))).toBe(expected);
      });
    }
  }

  it('a user acts only as itself when the ids are given', () => {
    expect(outcome(() => checkExecuteAs('user', 'user', { actor: 'alice', target: 'alice' }))).toBe('ok');
    expect(outcome(() => checkExecuteAs('user', 'user', { actor: 'alice', target: 'bob' }))).toBe('PERMISSION_DENIED: permission denied: a user may only act as itself');
    expect(outcome(() => checkExecuteAs('service', 'user', { actor: 'svc', target: 'bob' }))).toBe('ok');
    expect(outcome(() => checkExecuteAs('service', 'dba', { actor: 'svc', target: 'root' }))).toBe(
      'PERMISSION_DENIED: permission denied: role service cannot act as a user with role dba',
    );
  });
});

describe('checkReadAccess and checkWriteAccess', () => {
  const READ: Record<TableType, Record<AccessLevel, readonly Role[]>> = {
    USER: { PUBLIC: ROLES, PRIVATE: ROLES, DBA: ROLES },
    STREAM: { PUBLIC: ROLES, PRIVATE: ROLES, DBA: ROLES },
    SHARED: { PUBLIC: ROLES, PRIVATE: ['service', 'dba', 'system'], DBA: ['dba', 'system'] },
  };
  const WRITE: Record<TableType, Record<AccessLevel, readonly Role[]>> = {
    USER: { PUBLIC: ROLES, PRIVATE: ROLES, DBA: ROLES },
    STREAM: { PUBLIC: ROLES, PRIVATE: ROLES, DBA: ROLES },
    SHARED: { PUBLIC: ['service', 'dba', 'system'], PRIVATE: ['service', 'dba', 'system'], DBA: ['dba', 'system'] },
  };

  for (const type of TABLE_TYPES) {
    for (const level of ACCESS_LEVELS) {
      for (const role of ROLES) {
        const t = table('x', type, level);
        const actor: Actor = { userId: 'u1', role };
        it(`${type} ${level} × ${role}`, () => {
          const read = READ[type][level].includes(role) ? 'ok' : `PERMISSION_DENIED: permission denied: table app.x is ${level}`;
          expect(outcome(() => checkReadAccess(t, actor))).toBe(read);
          const write = WRITE[type][level].includes(role)
            ? 'ok'
            : role === 'user'
              ? 'PERMISSION_DENIED: permission denied: table app.x is SHARED; only service, dba and system write it'
              : `PERMISSION_DENIED: permission denied: table app.x is ${level}`;
          expect(outcome(() => checkWriteAccess(t, actor))).toBe(write);
        });
      }
    }
  }
});

describe('resolveOwner', () => {
  it('is the actor or the EXECUTE AS target for USER and STREAM tables, the shared token for SHARED ones', () => {
    expect(resolveOwner(table('t', 'USER'), ALICE)).toBe('alice');
    expect(resolveOwner(table('t', 'USER'), { userId: 'svc', role: 'service' }, 'bob')).toBe('bob');
    expect(resolveOwner(table('s', 'STREAM'), ALICE)).toBe('alice');
    expect(resolveOwner(table('p', 'SHARED'), { userId: 'svc', role: 'service' }, 'bob')).toBe(SHARED_OWNER);
  });
});

describe('validateWrite', () => {
  const SERVICE: Actor = { userId: 'svc', role: 'service' };

  it('returns the table of a valid write', () => {
    expect(validateWrite(dml("INSERT INTO app.t (id, title) VALUES (1, 'a'), ($1, upper($2))"), catalog, ALICE)).toBe(TABLES[0]);
    expect(validateWrite(dml('UPDATE app.t SET n = n + 1, title = CURRENT_USER WHERE id = $1 RETURNING id, n'), catalog, ALICE).name).toBe('t');
    expect(validateWrite(dml('DELETE FROM app.t x WHERE x.id IN (1, 2) RETURNING *'), catalog, ALICE).name).toBe('t');
    expect(validateWrite(dml("INSERT INTO app.pub VALUES (1, 'a', DEFAULT, DEFAULT, DEFAULT)"), catalog, SERVICE).name).toBe('pub');
    expect(validateWrite(dml("UPDATE app.t SET title = lower(title) || '!' WHERE app.t.id = 1 AND t.n >= 0"), catalog, ALICE).name).toBe('t');
  });

  it.each([
    ["INSERT INTO app.nope (id) VALUES (1)", 'TABLE_NOT_FOUND: table app.nope does not exist'],
    ["INSERT INTO app.pub (id, title) VALUES (1, 'a')", 'PERMISSION_DENIED: permission denied: table app.pub is SHARED; only service, dba and system write it'],
    ["INSERT INTO app.t (id, nope) VALUES (1, 'a')", 'INVALID_SQL: column nope does not exist in app.t'],
    ["INSERT INTO app.t (id, title, _seq) VALUES (1, 'a', 5)", 'INVALID_SQL: column _seq is a system column and cannot be used in a write'],
    ["INSERT INTO app.t (id, title, _user_id) VALUES (1, 'a', 'bob')", 'INVALID_SQL: column _user_id is a system column and cannot be used in a write'],
    ["UPDATE app.t SET _deleted = true", 'INVALID_SQL: column _deleted is a system column and cannot be used in a write'],
    ['DELETE FROM app.t WHERE _user_id = $1', 'INVALID_SQL: column _user_id is a system column and cannot be used in a write'],
    ['DELETE FROM app.t WHERE ctid = $1', 'INVALID_SQL: column ctid does not exist in app.t'],
    ["UPDATE app.t SET title = 'x' WHERE nope = 1", 'INVALID_SQL: column nope does not exist in app.t'],
    ["INSERT INTO app.t (id, title, id) VALUES (1, 'a', 2)", 'INVALID_SQL: column id is specified more than once'],
    ["UPDATE app.t SET n = 1, n = 2", 'INVALID_SQL: column n is assigned more than once'],
    ["INSERT INTO app.t (id, title) VALUES ((SELECT 1), 'a')", 'UNSUPPORTED: subqueries are not supported in INSERT, UPDATE or DELETE'],
    ["UPDATE app.t SET n = (SELECT max(n) FROM app.t)", 'UNSUPPORTED: subqueries are not supported in INSERT, UPDATE or DELETE'],
    ['DELETE FROM app.t WHERE id IN (SELECT id FROM app.t)', 'UNSUPPORTED: subqueries are not supported in INSERT, UPDATE or DELETE'],
    ['DELETE FROM app.t WHERE EXISTS (SELECT 1)', 'UNSUPPORTED: subqueries are not supported in INSERT, UPDATE or DELETE'],
    ['WITH x AS (SELECT 1) DELETE FROM app.t', 'UNSUPPORTED: WITH is not supported in DELETE'],
    ["INSERT INTO app.t (id, title) SELECT 1, 'a'", 'UNSUPPORTED: INSERT … SELECT is not supported; use INSERT … VALUES'],
    ["INSERT INTO app.t (id, title) VALUES (1, 'a') ON CONFLICT DO NOTHING", 'UNSUPPORTED: INSERT … ON CONFLICT is not supported'],
    ["INSERT INTO app.t (id, title) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET title = 'b'", 'UNSUPPORTED: INSERT … ON CONFLICT is not supported'],
    ["UPDATE app.t SET title = 'x' FROM app.pub", 'UNSUPPORTED: UPDATE … FROM is not supported'],
    ['DELETE FROM app.t USING app.pub WHERE t.id = pub.id', 'UNSUPPORTED: DELETE … USING is not supported'],
    ['UPDATE app.t SET id = 2 WHERE id = 1', 'UNSUPPORTED: updating the primary key id is not supported'],
    ["UPDATE app.t SET (title, n) = ('a', 1)", 'UNSUPPORTED: SET (a, b) = … is not supported'],
    ["UPDATE app.t SET uid = DEFAULT", 'UNSUPPORTED: SET uid = DEFAULT is not supported for a generated id'],
    ["UPDATE app.t SET title = DEFAULT", 'INVALID_SQL: column title is NOT NULL and has no default'],
    ["INSERT INTO app.t (id, title) VALUES (1, 'a') RETURNING id + 1", 'UNSUPPORTED: RETURNING supports column names and * only'],
    ["INSERT INTO app.t (id, title) VALUES (1, 'a') RETURNING id AS x", 'UNSUPPORTED: RETURNING supports column names and * only'],
    ["INSERT INTO app.t (id, title) VALUES (1, 'a') RETURNING t.id", 'UNSUPPORTED: RETURNING supports column names and * only'],
    ["INSERT INTO app.t (id, title) VALUES (1, 'a') RETURNING _seq", 'INVALID_SQL: column _seq is a system column and cannot be used in a write'],
    ["INSERT INTO app.t VALUES (1, 'a')", 'INVALID_SQL: VALUES row 1 has 2 values for the 5 columns of app.t'],
    ["INSERT INTO app.t (id, title) VALUES (1, 'a'), (2)", 'INVALID_SQL: VALUES row 2 has 1 values for 2 columns'],
    ['INSERT INTO app.t (id) VALUES (1)', 'INVALID_SQL: column title is NOT NULL and has no default'],
    ["INSERT INTO app.t (title) VALUES ('a')", 'INVALID_SQL: column id is NOT NULL and has no default'],
    ["INSERT INTO app.t (id, title) VALUES (1, DEFAULT)", 'INVALID_SQL: column title is NOT NULL and has no default'],
    ['INSERT INTO app.t DEFAULT VALUES', 'INVALID_SQL: column id is NOT NULL and has no default'],
    ["INSERT INTO app.t (id, title) VALUES (1, pg_read_file('/etc/passwd'))", 'UNSUPPORTED: function pg_read_file is not allowed'],
    ["INSERT INTO app.t (id, title) VALUES (1, pg_catalog.upper('a'))", 'UNSUPPORTED: function pg_catalog.upper is not allowed'],
    ["UPDATE app.t SET title = set_config('seqline.user_id', 'bob', true)", 'UNSUPPORTED: function set_config is not allowed'],
    ['UPDATE app.t SET n = count(*)', 'UNSUPPORTED: aggregate and window functions (count) are not supported in INSERT, UPDATE or DELETE'],
    ['UPDATE app.t SET n = row_number() OVER ()', 'UNSUPPORTED: aggregate and window functions (row_number) are not supported in INSERT, UPDATE or DELETE'],
    ["UPDATE app.t SET title = gen_random_uuid()::text", 'UNSUPPORTED: function gen_random_uuid is not supported in INSERT, UPDATE or DELETE: a write must not depend on when it is applied'],
    ["UPDATE app.t SET title = age(now())::text", 'UNSUPPORTED: function age is not supported in INSERT, UPDATE or DELETE: a write must not depend on when it is applied'],
    ["UPDATE app.t SET title = 'app.t'::regclass::text", 'UNSUPPORTED: cast to regclass is not allowed'],
    ["INSERT INTO app.t (id, title) VALUES (1, n)", 'INVALID_SQL: column references are not allowed in INSERT … VALUES'],
    ["UPDATE app.t x SET title = t.title", 'INVALID_SQL: invalid reference to table t'],
    ["UPDATE app.t SET title = other.title", 'INVALID_SQL: invalid reference to table other'],
    ['DELETE FROM app.t WHERE t.* IS NULL', 'UNSUPPORTED: * in an expression is not supported'],
    ["UPDATE app.t SET title = session_user", 'UNSUPPORTED: SESSION_USER is not supported; CURRENT_USER is the acting user'],
    ['DELETE FROM app.t WHERE n = 1 OPERATOR(pg_catalog.+) 1', 'UNSUPPORTED: operator pg_catalog.+ is not allowed'],
    ["UPDATE app.t SET title = xmlserialize(content 'a' as text)", 'UNSUPPORTED: XMLSERIALIZE is not supported'],
  ])('%s → %s', (text, expected) => {
    expect(outcome(() => validateWrite(dml(text), catalog, ALICE))).toBe(expected);
  });

  it('lets service write SHARED PUBLIC and PRIVATE tables and only dba/system write DBA ones', () => {
    const insert = (name: string) => dml(`INSERT INTO app.${name} (id, title) VALUES (1, 'a')`);
    expect(outcome(() => validateWrite(insert('priv'), catalog, SERVICE))).toBe('ok');
    expect(outcome(() => validateWrite(insert('dbat'), catalog, SERVICE))).toBe('PERMISSION_DENIED: permission denied: table app.dbat is DBA');
    expect(outcome(() => validateWrite(insert('dbat'), catalog, { userId: 'root', role: 'dba' }))).toBe('ok');
  });

  it('does not modify the statement it checks', () => {
    const stmt = dml('UPDATE app.t SET title = CURRENT_USER, n = $1 WHERE app.t.id = now()::text::bigint');
    const before = structuredClone(stmt.ast);
    validateWrite(stmt, catalog, ALICE);
    expect(stmt.ast).toEqual(before);
  });
});

describe('actAs', () => {
  it('acts as an existing user the caller may act as, with that user’s role', () => {
    expect(actAs({ userId: 'svc', role: 'service' }, 'alice', 'user')).toEqual({ userId: 'alice', role: 'user' });
    expect(actAs({ userId: 'alice', role: 'user' }, 'alice', 'user')).toEqual({ userId: 'alice', role: 'user' });
  });

  it('refuses unknown users, users acting as others, and roles above the caller’s', () => {
    expect(() => actAs({ userId: 'svc', role: 'service' }, 'ghost', undefined)).toThrow(/no such user/);
    expect(() => actAs({ userId: 'bob', role: 'user' }, 'alice', 'user')).toThrow(expect.objectContaining({ code: 'PERMISSION_DENIED' }) as Error);
    expect(() => actAs({ userId: 'svc', role: 'service' }, 'root', 'dba')).toThrow(expect.objectContaining({ code: 'PERMISSION_DENIED' }) as Error);
  });
});
