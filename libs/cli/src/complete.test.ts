import { describe, expect, it } from 'vitest';
import type { CatalogTable } from './catalog.js';
import { complete } from './complete.js';

const TABLES: CatalogTable[] = [
  { namespace: 'app', name: 'tickets', columns: ['id', 'title', 'status', 'priority', '_seq', '_deleted'] },
  { namespace: 'app', name: 'tags', columns: ['id', 'label'] },
  { namespace: 'chat', name: 'messages', columns: ['id', 'text'] },
];

describe('complete', () => {
  it('completes keywords in the case they were typed in', () => {
    expect(complete('sel', '', [])).toEqual([['select'], 'sel']);
    expect(complete('SELECT * FR', '', [])).toEqual([['FROM'], 'FR']);
    expect(complete('Ta', '', [])).toEqual([['TABLE', 'TABLES'], 'Ta']);
    expect(complete('SELECT count(di', '', [])).toEqual([['distinct'], 'di']);
  });

  it('completes tables where a table comes, and the tables of a namespace', () => {
    expect(complete('SELECT * FROM ', '', TABLES)).toEqual([[], '']);
    expect(complete('SELECT * FROM a', '', TABLES)).toEqual([['app.', 'app.tags', 'app.tickets'], 'a']);
    expect(complete('INSERT INTO app.ti', '', TABLES)).toEqual([['app.tickets'], 'app.ti']);
    expect(complete('\\d ch', '', TABLES)).toEqual([['chat.', 'chat.messages'], 'ch']);
    expect(complete('FROM', 'SELECT id\n', TABLES)).toEqual([['FROM'], 'FROM']);
  });

  it('completes the columns of the tables the statement names, with keywords and namespaces', () => {
    expect(complete('SELECT * FROM app.tickets WHERE pri', '', TABLES)).toEqual([['primary', 'priority'], 'pri']);
    expect(complete('AND st', 'SELECT * FROM app.tickets\nWHERE id = 1\n', TABLES)).toEqual([['status', 'stream'], 'st']);
    expect(complete('SELECT * FROM app.tags WHERE t', '', TABLES)).toEqual([['table', 'tables', 'text', 'then', 'time', 'timestamp', 'true'], 't']);
    expect(complete('SELECT la', '', TABLES)).toEqual([[], 'la']); // app.tags is not named yet
  });

  it('offers nothing without a word, or inside a string, a quoted name or a comment', () => {
    expect(complete('SELECT ', '', TABLES)).toEqual([[], '']);
    expect(complete("SELECT 'sel", '', TABLES)).toEqual([[], 'sel']);
    expect(complete('sel', "SELECT 'a\n", TABLES)).toEqual([[], 'sel']);
    expect(complete('SELECT "sel', '', TABLES)).toEqual([[], 'sel']);
    expect(complete('SELECT 1 -- sel', '', TABLES)).toEqual([[], 'sel']);
    expect(complete('sel', 'SELECT 1 /* a\n', TABLES)).toEqual([[], 'sel']);
  });
});
