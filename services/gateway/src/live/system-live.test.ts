// system.live over a fixed set of entries: projection, WHERE with PostgreSQL's semantics,
// order, access, the refusals, and statements that read it recognized (and others not).
import type { ProtocolError } from '@seqline/protocol';
import { initSql, parseStatements } from '@seqline/sql';
import { beforeAll, describe, expect, it } from 'vitest';
import { querySystemLive, readsSystemLive, type LiveEntry } from './system-live.js';

beforeAll(async () => {
  await initSql();
});

const entry = (node: string, connectionId: string, subscriptionId: string, userId: string, extra: Partial<LiveEntry> = {}): LiveEntry => ({
  node,
  connectionId,
  subscriptionId,
  userId,
  namespace: 'app',
  table: 'tickets',
  query: 'SELECT id FROM app.tickets',
  status: 'live',
  createdAtMs: 1_700_000_000_000,
  lastSeq: null,
  changes: 0,
  ...extra,
});

const entries = [
  entry('gw-b', '1', 'feed', 'bob', { status: 'loading', lastSeq: '9007199254740993', changes: 3 }),
  entry('gw-a', '10', 'later', 'alice', { createdAtMs: 1_700_000_000_500 }),
  entry('gw-a', '2', 'tickets', 'alice', { table: 'tasks', query: 'SELECT id FROM app.tasks' }),
  entry('gw-a', '2', 'first', 'alice', { createdAtMs: 1_699_999_999_000 }),
];
const dba = { userId: 'admin', role: 'dba' } as const;

describe('querySystemLive', () => {
  it('lists every column of SELECT *, BIGINTs as strings and times in µs, ordered by node, connection, creation', () => {
    const r = querySystemLive('SELECT * FROM system.live', [], dba, entries);
    expect(r.schema.map((s) => [s.name, s.data_type])).toEqual([
      ['live_id', 'Text'],
      ['node', 'Text'],
      ['connection_id', 'Text'],
      ['subscription_id', 'Text'],
      ['user_id', 'Text'],
      ['namespace_id', 'Text'],
      ['table_name', 'Text'],
      ['query', 'Text'],
      ['status', 'Text'],
      ['created_at', 'Timestamp'],
      ['last_seq_id', 'BigInt'],
      ['changes', 'BigInt'],
    ]);
    expect(r.schema[0]?.flags).toEqual(['pk', 'nn', 'uq']);
    expect(r.rows.map((row) => row[0])).toEqual(['gw-a/2/first', 'gw-a/2/tickets', 'gw-a/10/later', 'gw-b/1/feed']);
    expect(r.rows[3]).toEqual(['gw-b/1/feed', 'gw-b', '1', 'feed', 'bob', 'app', 'tickets', 'SELECT id FROM app.tickets', 'loading', 1_700_000_000_000_000, '9007199254740993', '3']);
    expect(r.row_count).toBe(4);
    expect(r.as_user).toBe('admin');
    expect(r.message).toBeUndefined();
  });

  it('projects the selected columns (and the key) and filters with the WHERE, parameters included', () => {
    const r = querySystemLive("SELECT user_id, table_name FROM system.live WHERE user_id = $1 AND table_name LIKE 't%s' AND last_seq_id IS NULL", ['alice'], dba, entries);
    expect(r.schema.map((s) => s.name)).toEqual(['user_id', 'table_name', 'live_id']);
    expect(r.rows).toEqual([
      ['alice', 'tickets', 'gw-a/2/first'],
      ['alice', 'tasks', 'gw-a/2/tickets'],
      ['alice', 'tickets', 'gw-a/10/later'],
    ]);
    expect(querySystemLive("SELECT live_id FROM system.live WHERE changes > 2 OR status = 'nothing'", [], dba, entries).rows).toEqual([['gw-b/1/feed']]);
  });

  it('orders and limits as PostgreSQL would, ties broken by live_id', () => {
    const r = querySystemLive('SELECT live_id FROM system.live ORDER BY changes DESC, user_id LIMIT 3', [], dba, entries);
    const all = querySystemLive('SELECT live_id, changes, user_id FROM system.live', [], dba, entries).rows as [string, number, string][];
    const expected = [...all].sort((a, b) => b[1] - a[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0) || (a[0] < b[0] ? -1 : 1)).slice(0, 3);
    expect(r.schema.map((s) => s.name)).toEqual(['live_id', 'changes', 'user_id']);
    expect(r.rows).toEqual(expected);
    expect(r.row_count).toBe(3);
  });

  it('says which gateways did not answer', () => {
    expect(querySystemLive('SELECT live_id FROM system.live', [], dba, [], 'incomplete: gateway(s) gw-c did not answer within 2000 ms')).toEqual({
      schema: [{ name: 'live_id', data_type: 'Text', index: 0, flags: ['pk', 'nn', 'uq'] }],
      rows: [],
      row_count: 0,
      as_user: 'admin',
      message: 'incomplete: gateway(s) gw-c did not answer within 2000 ms',
    });
  });

  it('is for dba and system only, and refuses what it cannot evaluate with a message naming it', () => {
    const refusal = (sql: string, caller: { userId: string; role: 'user' | 'service' | 'dba' | 'system' } = dba): { code: string; message: string } => {
      try {
        querySystemLive(sql, [], caller, entries);
      } catch (err) {
        return { code: (err as ProtocolError).code, message: (err as Error).message };
      }
      throw new Error(`accepted: ${sql}`);
    };
    expect(refusal('SELECT * FROM system.live', { userId: 'alice', role: 'user' })).toEqual({ code: 'PERMISSION_DENIED', message: 'system.live is readable by dba and system only' });
    expect(refusal('SELECT * FROM system.live', { userId: 'svc', role: 'service' }).code).toBe('PERMISSION_DENIED');
    expect(querySystemLive('SELECT live_id FROM system.live', [], { userId: 'root', role: 'system' }, entries).row_count).toBe(4);
    expect(refusal('SELECT count(*) FROM system.live')).toEqual({ code: 'INVALID_SQL', message: 'the function count() in the select list is not supported on system.live (SELECT columns FROM system.live [WHERE …] [ORDER BY …] [LIMIT n])' });
    expect(refusal('SELECT live_id FROM system.live ORDER BY lower(user_id)').code).toBe('INVALID_SQL');
    expect(refusal('SELECT nothing FROM system.live')).toEqual({ code: 'INVALID_SQL', message: 'column nothing does not exist in system.live' });
  });
});

describe('readsSystemLive', () => {
  it('recognizes a SELECT of system.live wherever it names it, and nothing else', () => {
    const reads = (sql: string): boolean => readsSystemLive(parseStatements(sql, { defaultNamespace: 'default' })[0]!);
    expect(reads('SELECT * FROM system.live')).toBe(true);
    expect(reads('SELECT * FROM app.t JOIN system.live l ON true')).toBe(true);
    expect(reads('SELECT * FROM app.t WHERE id IN (SELECT 1 FROM system.live)')).toBe(true);
    expect(reads('SELECT * FROM app.live')).toBe(false);
    expect(reads('SELECT * FROM system.users')).toBe(false);
    expect(reads('INSERT INTO app.t (id) VALUES (1)')).toBe(false);
  });
});
