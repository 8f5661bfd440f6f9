import { describe, expect, it } from 'vitest';
import { busNames, shardOf } from './names.js';

describe('busNames', () => {
  it('builds subjects and stream names from one prefix', () => {
    const n = busNames('seqline');
    expect([n.opsStream, n.changesStream, n.ops(3), n.opsWildcard(), n.changes('alice', 'app', 'tickets'), n.changesWildcard(), n.catalogSubject, n.usersSubject, n.results('w-1')]).toEqual([
      'SEQLINE_OPS',
      'SEQLINE_CHANGES',
      'seqline.ops.3',
      'seqline.ops.*',
      'seqline.changes.alice.app.tickets',
      'seqline.changes.>',
      'seqline.catalog',
      'seqline.users',
      'seqline.results.w-1',
    ]);
    expect(busNames('t-1_x').opsStream).toBe('T_1_X_OPS');
  });

  it('refuses tokens that would change a subject’s meaning', () => {
    const n = busNames();
    for (const bad of ['a.b', 'a*', '>', '', 'a b']) expect(() => n.changes(bad, 'app', 't')).toThrow('is not a valid subject token');
    expect(() => busNames('a.b')).toThrow('bus prefix must match');
  });
});

describe('shardOf', () => {
  it('is FNV-1a mod the shard count, stable across calls', () => {
    expect([shardOf('', 16), shardOf('a', 16), shardOf('alice', 16), shardOf('alice', 1)]).toEqual([0x811c9dc5 % 16, 0xe40c292c % 16, shardOf('alice', 16), 0]);
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[shardOf(`user${i}`, 8)]!++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
  });
});
