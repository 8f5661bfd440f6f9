// Storage's side of revocable authority (issue 10) against a real PostgreSQL: the credential
// version a lock moves (once, without extending the lock), refresh-family rotation and reuse,
// logout's revocation, the gateways' bulk re-check of credentials, and setup that never takes over an existing or dropped user's name.
import { createTestDatabase, type TestDatabase } from '@seqline/testkit';
import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres } from './db.js';
import { migrate } from './migrations.js';
import { getCredentials, getUser, recordLogin, revokeRefreshFamily, rotateRefresh, setup, startRefreshFamily } from './users.js';

let db: TestDatabase;
let sql: Sql;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = connectPostgres(db.url, { max: 2 });
  await migrate(sql);
  await sql`INSERT INTO seqline.users (user_id, password_hash, role) VALUES ('alice', 'scrypt$x', 'user'), ('bob', 'scrypt$y', 'user')`;
});

afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await db?.[Symbol.asyncDispose]();
});

const policy = { maxFailures: 3, lockoutMs: 60_000 };

describe('recordLogin', () => {
  it('moves the credential version when a failure locks the account, once; failures while locked do not extend the lock', async () => {
    const outcomes = [];
    const until: bigint[] = [];
    for (let i = 0; i < 5; i++) {
      const { user, locked } = await recordLogin(sql, { userId: 'alice', success: false, ...policy });
      outcomes.push([locked, user.credentialVersion, user.lockedUntilUs > 0n]);
      until.push(user.lockedUntilUs);
    }
    expect(outcomes).toEqual([
      [false, 1n, false],
      [false, 1n, false],
      [true, 2n, true],
      [false, 2n, true],
      [false, 2n, true],
    ]);
    expect(until[4]).toBe(until[2]);
    expect((await recordLogin(sql, { userId: 'nobody', success: false, ...policy })).locked).toBe(false);
  });
});

describe('refresh families', () => {
  it('rotates only from the current token; a reused one revokes the family; a moved credential version ends it', async () => {
    const start = { userId: 'bob', familyId: 'fam1', jti: 'j1', credentialVersion: 1n, expiresAtS: BigInt(Math.floor(Date.now() / 1000) + 3600) };
    expect((await startRefreshFamily(sql, start)).userId).toBe('bob');
    await expect(startRefreshFamily(sql, { ...start, familyId: 'fam-old', credentialVersion: 0n })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    const rotate = (familyId: string, jti: string, nextJti: string) => rotateRefresh(sql, { userId: 'bob', familyId, jti, nextJti, expiresAtS: start.expiresAtS });
    expect((await rotate('fam1', 'j1', 'j2')).userId).toBe('bob');
    await expect(rotate('fam1', 'j1', 'j3')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS', message: 'invalid refresh token' });
    await expect(rotate('fam1', 'j2', 'j3')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' }); // revoked by the reuse
    await startRefreshFamily(sql, { ...start, familyId: 'fam2' });
    await expect(rotate('fam2', 'j1', 'j2')).resolves.toMatchObject({ userId: 'bob' });
    await startRefreshFamily(sql, { ...start, familyId: 'fam3' });
    await revokeRefreshFamily(sql, { userId: 'alice', familyId: 'fam3' }); // not alice's family: nothing happens
    await revokeRefreshFamily(sql, { userId: 'bob', familyId: 'fam3' }); // logout
    await expect(rotate('fam3', 'j1', 'j2')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await sql`UPDATE seqline.users SET credential_version = credential_version + 1 WHERE user_id = 'bob'`; // a password change
    await expect(rotate('fam2', 'j2', 'j3')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expect(rotateRefresh(sql, { userId: 'alice', familyId: 'fam2', jti: 'j2', nextJti: 'j3', expiresAtS: start.expiresAtS })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await sql`DELETE FROM seqline.users WHERE user_id = 'bob'`;
    expect((await sql`SELECT family_id FROM seqline.refresh_families`).length).toBe(0);
  });
});

describe('setup', () => {
  it('never takes over an existing or a dropped user', async () => {
    await sql`INSERT INTO seqline.dropped_users (user_id) VALUES ('carol')`;
    await expect(setup(sql, { userId: 'alice', passwordHash: 'scrypt$taken', email: '' })).rejects.toMatchObject({ code: 'SQL_EXECUTION_ERROR', message: 'user alice already exists; choose another name for the first DBA' });
    await expect(setup(sql, { userId: 'carol', passwordHash: 'scrypt$taken', email: '' })).rejects.toMatchObject({ code: 'SQL_EXECUTION_ERROR' });
    expect(await getUser(sql, 'alice')).toMatchObject({ role: 'user', passwordHash: 'scrypt$x' });
    expect(await setup(sql, { userId: 'root', passwordHash: 'scrypt$z', email: '' })).toMatchObject({ found: true, role: 'dba', credentialVersion: 1n });
  });
});

describe('getCredentials', () => {
  it("answers the role and credential version of each user that exists, and nothing of one that does not", async () => {
    await sql`INSERT INTO seqline.users (user_id, password_hash, role, credential_version) VALUES ('gc_dave', 'scrypt$d', 'dba', 7), ('gc_erin', 'scrypt$e', 'user', 1)`;
    const { users } = await getCredentials(sql, ['gc_erin', 'gc_nobody', 'gc_dave']);
    expect(users.sort((a, b) => a.userId.localeCompare(b.userId))).toEqual([
      { userId: 'gc_dave', role: 'dba', credentialVersion: 7n },
      { userId: 'gc_erin', role: 'user', credentialVersion: 1n },
    ]);
    expect(await getCredentials(sql, [])).toEqual({ users: [] });
  });
});
