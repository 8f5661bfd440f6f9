// system.users, system.namespaces and system.tables over POST /v1/api/sql: for dba (no password
// hash anywhere), refused to others by the rewrite, and, underneath, views that show a session
// nothing unless its role is dba or system (layer 2, checked straight in PostgreSQL).
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, ok, sql } from './client.js';
import { startStack, type Stack } from './stack.js';
import { ticketsFixture } from './tickets.js';

let stack: Stack;
let alice: string;
let admin: string;

beforeAll(async () => {
  stack = await startStack();
  ({ alice } = await ticketsFixture(stack));
  admin = await login(stack.url, stack.admin.user, stack.admin.password);
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

const result = async (token: string, text: string): Promise<{ columns: string[]; rows: unknown[][] }> => {
  const [r] = await ok(stack.url, token, text);
  return { columns: (r!['schema'] as { name: string }[]).map((c) => c.name), rows: r!['rows'] as unknown[][] };
};

describe('system tables', () => {
  it('shows a dba the users (without password hashes), namespaces and tables', async () => {
    const users = await result(admin, 'SELECT * FROM system.users ORDER BY user_id');
    expect(users.columns).toEqual(['user_id', 'role', 'email', 'created_at', 'updated_at', 'locked_until']);
    expect(users.rows.map((r) => [r[0], r[1]])).toEqual([
      ['admin', 'dba'],
      ['alice', 'user'],
      ['bob', 'user'],
    ]);
    expect(JSON.stringify(users.rows)).not.toMatch(/argon|scrypt|\$/);
    expect((await result(admin, "SELECT namespace_id FROM system.namespaces WHERE namespace_id <> 'default' ORDER BY 1")).rows).toEqual([['app']]);
    const tables = await result(admin, "SELECT table_id, table_type, access_level, primary_key, columns FROM system.tables WHERE namespace_id = 'app'");
    expect(tables.rows.map((r) => r.slice(0, 4))).toEqual([['app.tickets', 'USER', 'PRIVATE', 'id']]);
    expect((JSON.parse(tables.rows[0]![4] as string) as { name: string }[]).map((c) => c.name)).toEqual(['id', 'title', 'status', 'priority']);
  });

  it('refuses them to a user, and the views underneath admit no other role', async () => {
    const refused = await sql(stack.url, alice, 'SELECT user_id FROM system.users');
    expect([refused.status, refused.body.error?.code, refused.body.error?.message]).toEqual([403, 'PERMISSION_DENIED', 'permission denied: system.users is readable by dba and system only']);
    const db = postgres(stack.postgresUrl, { max: 1, onnotice: () => {} });
    try {
      const asRole = (role: string) =>
        db.begin(async (tx) => {
          await tx`SELECT set_config('seqline.role', ${role}, true), set_config('seqline.user_id', 'alice', true)`;
          await tx.unsafe('SET LOCAL ROLE seqline_reader');
          const [counts] = await tx<{ users: string; namespaces: string; tables: string }[]>`SELECT (SELECT count(*) FROM seqline.system_users) AS users, (SELECT count(*) FROM seqline.system_namespaces) AS namespaces, (SELECT count(*) FROM seqline.system_tables) AS tables`;
          return counts;
        });
      expect(await asRole('user')).toEqual({ users: '0', namespaces: '0', tables: '0' });
      expect(await asRole('service')).toEqual({ users: '0', namespaces: '0', tables: '0' });
      expect(await asRole('dba')).toEqual({ users: '3', namespaces: '2', tables: '1' });
      const hidden = db.begin(async (tx) => {
        await tx.unsafe('SET LOCAL ROLE seqline_reader');
        return tx`SELECT password_hash FROM seqline.users`;
      });
      await expect(hidden).rejects.toThrow('permission denied for table users');
    } finally {
      await db.end();
    }
  });
});
