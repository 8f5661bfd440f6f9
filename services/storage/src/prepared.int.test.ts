// Write statements of one shape share a text and are prepared on the apply connection from
// their second use. A prepared statement must keep working when its table is dropped and
// created again with the same shape (PostgreSQL re-plans it).
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { storageHarness } from './testing.js';

describe('prepared write statements', () => {
  it('survive their table being dropped and created again', async () => {
    await using h = await storageHarness('pp');
    const storage = await h.start({ SEQLINE_APPLY_PREPARED_STATEMENTS: '10' });
    const create = "CREATE TABLE app.p (id INT PRIMARY KEY, v TEXT) WITH (TYPE='USER')";
    await h.admin(storage, ['CREATE NAMESPACE app', create]);
    const insert = (opId: string, id: number, v: string) => h.publish({ opId, owner: 'alice', table: 'p', statement: 'INSERT INTO app.p (id, v) VALUES ($1, $2)', params: [id, v] }, 1);
    for (let i = 1; i <= 3; i++) {
      await insert(`a${i}`, i, `v${i}`);
      await expect.poll(() => h.results.length, { timeout: 10_000 }).toBe(i);
    }
    await h.admin(storage, ['DROP TABLE app.p', create]);
    for (let i = 4; i <= 5; i++) {
      await insert(`a${i}`, i, `v${i}`);
      await expect.poll(() => h.results.length, { timeout: 10_000 }).toBe(i);
    }
    expect(h.results.map((r) => [r.opId, r.ok, r.errorMessage])).toEqual(['a1', 'a2', 'a3', 'a4', 'a5'].map((id) => [id, true, '']));
    const sql = postgres(h.db.url, { max: 1 });
    expect(await sql`SELECT id, v FROM app.p ORDER BY id`).toEqual([
      { id: 4, v: 'v4' },
      { id: 5, v: 'v5' },
    ]);
    await sql.end();
  });
});
