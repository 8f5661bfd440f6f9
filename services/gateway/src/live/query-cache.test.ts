// LiveQueryCache: one compiled query per user, SQL and parameters, recompiled when the catalog's
// table definition changes, at most `max` entries.
import type { Catalog, TableDef } from '@seqline/domain';
import { describe, expect, it } from 'vitest';
import type { LiveQuery } from '@seqline/sql';
import { LiveQueryCache } from './query-cache.js';

const table = (): TableDef => ({ namespace: 'app', name: 't', tableType: 'USER', accessLevel: 'PRIVATE', deletedRetentionHours: 168, primaryKey: 'id', columns: [{ name: 'id', dataType: 'Int', notNull: true, primaryKey: true }] });

function setup(max?: number) {
  let def = table();
  const catalog: Catalog = { hasNamespace: () => true, table: () => def };
  const cache = new LiveQueryCache<{ query: LiveQuery; n: number }>(max);
  let compiled = 0;
  const get = (user: string, sql = 'SELECT id FROM app.t', params = '[]') => cache.get(user, sql, params, catalog, () => ({ query: { table: def } as LiveQuery, n: ++compiled }));
  return { cache, get, changeTable: () => (def = table()), compiled: () => compiled };
}

describe('LiveQueryCache', () => {
  it('shares one compiled query per user, SQL and parameters', () => {
    const { get, compiled } = setup();
    const a = get('alice');
    expect(get('alice')).toBe(a);
    expect(get('bob')).not.toBe(a);
    expect(get('alice', 'SELECT id FROM app.t WHERE id = $1', '[1]')).not.toBe(a);
    expect(get('alice', 'SELECT id FROM app.t WHERE id = $1', '[2]').n).toBe(4);
    expect(compiled()).toBe(4);
  });

  it('compiles again once the catalog hands out another definition of the table', () => {
    const { get, changeTable, cache } = setup();
    const before = get('alice');
    changeTable();
    const after = get('alice');
    expect(after).not.toBe(before);
    expect(after.n).toBe(2);
    expect(get('alice')).toBe(after);
    expect(cache.size).toBe(1);
  });

  it('keeps at most max entries, forgetting the oldest', () => {
    const { get, cache } = setup(2);
    const a = get('a');
    get('b');
    get('c');
    expect(cache.size).toBe(2);
    expect(get('c').n).toBe(3);
    expect(get('a')).not.toBe(a);
  });
});
