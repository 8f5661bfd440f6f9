import { describe, expect, it } from 'vitest';
import { META, project } from './meta.js';

const run = (command: string, argument: string) => META[command]!.run(argument, () => {});

describe('META', () => {
  it('turns \\dt, \\dn and \\d into SHOW and DESCRIBE statements', () => {
    expect(run('dt', '')).toEqual({ sql: 'SHOW TABLES', columns: ['namespace_id', 'table_name', 'table_type', 'access_level'] });
    expect(run('dt', 'app')).toMatchObject({ sql: 'SHOW TABLES IN app' });
    expect(run('d', '')).toMatchObject({ sql: 'SHOW TABLES' });
    expect(run('d', 'app.tickets')).toEqual({ sql: 'DESCRIBE TABLE app.tickets', columns: ['column_name', 'data_type', 'is_nullable', 'is_primary_key', 'column_default'] });
    expect(run('dn', '')).toEqual({ sql: 'SHOW NAMESPACES', columns: ['namespace_id', 'table_count'] });
    expect(run('q', '')).toBe('quit');
  });

  it('refuses an argument that is not a name, so it cannot carry another statement', () => {
    expect(() => run('d', 'app.t; DROP TABLE app.t')).toThrow('\\d takes a table, ns.t (letters, digits, _), got "app.t; DROP TABLE app.t"');
    expect(() => run('dt', 'app.t')).toThrow('\\dt takes a namespace (letters, digits, _), got "app.t"');
    expect(() => run('q', 'now')).toThrow('\\q takes no argument');
  });
});

describe('project', () => {
  const body = {
    status: 'success',
    results: [
      {
        schema: [
          { name: 'a', data_type: 'Text', index: 0 },
          { name: 'b', data_type: 'Int', index: 1 },
          { name: 'c', data_type: 'Json', index: 2 },
        ],
        rows: [['x', 1, '{}']],
        row_count: 1,
      },
    ],
  };

  it('keeps the columns asked for, in their order', () => {
    expect(project(body, ['b', 'a'])).toEqual({
      status: 'success',
      results: [{ schema: [{ name: 'b', data_type: 'Int', index: 0 }, { name: 'a', data_type: 'Text', index: 1 }], rows: [[1, 'x']], row_count: 1 }],
    });
  });

  it('leaves an answer of another shape whole', () => {
    expect(project(body, ['a', 'missing'])).toBe(body);
    expect(project({ results: [{ row_count: 0, message: 'ok' }] }, ['a'])).toEqual({ results: [{ row_count: 0, message: 'ok' }] });
  });
});
