import { describe, expect, it } from 'vitest';
import { RemoteCatalog, type CatalogSnapshot } from './remote-catalog.js';

const table = { namespace: 'app', name: 't', tableType: 'USER', accessLevel: 'PRIVATE', deletedRetentionHours: 168, columns: [], primaryKey: 'id' };

describe('RemoteCatalog', () => {
  it('loads on demand, ignores notices that are not newer, and fetches once for concurrent refreshes', async () => {
    let fetches = 0;
    let version = 3n;
    const catalog = new RemoteCatalog(async (): Promise<CatalogSnapshot> => {
      fetches++;
      return { version, namespaces: ['default', 'app'], tablesJson: JSON.stringify([table]) };
    });
    expect(catalog.loaded).toBe(false);
    await Promise.all([catalog.refresh(), catalog.refresh(), catalog.refresh()]);
    expect(fetches).toBe(1);
    expect(catalog.table('app', 't')).toEqual(table);
    expect(catalog.hasNamespace('app')).toBe(true);
    expect(catalog.table('app', 'u')).toBeUndefined();
    await catalog.refresh(3n);
    await catalog.refresh(2n);
    expect(fetches).toBe(1);
    version = 4n;
    await catalog.refresh(4n);
    expect(fetches).toBe(2);
  });
});
