import { describe, expect, it } from 'vitest';
import { formatCell, formatResults, formatTable, parseResults } from './format.js';

const col = (name: string, dataType: unknown) => ({ name, dataType });

describe('formatTable', () => {
  it('aligns columns under their header, numbers to the right, NULL for null, no trailing spaces', () => {
    const lines = formatTable(
      [col('id', 'BigInt'), col('title', 'Text'), col('priority', 'Int'), col('done', 'Boolean')],
      [
        ['331234567890123456', 'first', 3, false],
        ['7', 'a longer title', null, true],
      ],
    );
    expect(lines).toEqual([
      'id                 | title          | priority | done',
      '-------------------+----------------+----------+------',
      '331234567890123456 | first          |        3 | false',
      '                 7 | a longer title |     NULL | true',
    ]);
  });

  it('keeps the table straight with control characters and non-ASCII text', () => {
    expect(formatTable([col('t', 'Text'), col('n', 'Text')], [['two\nlines\tand a tab', 'x'], ['héllo ✓', 'y']])).toEqual([
      't                     | n',
      '----------------------+--',
      'two\\nlines\\tand a tab | x',
      'héllo ✓               | y',
    ]);
  });

  it('prints only the header and separator for no rows', () => {
    expect(formatTable([col('a', 'Int'), col('bb', 'Text')], [])).toEqual(['a | bb', '--+---']);
  });
});

describe('formatCell', () => {
  it('shows times in UTC, bytes as hex, JSON and embeddings as JSON, decimals as sent', () => {
    expect(formatCell(1_748_779_200_123_456, 'Timestamp')).toBe('2025-06-01T12:00:00.123456Z');
    expect(formatCell(1_748_779_200_000_000, 'Timestamp')).toBe('2025-06-01T12:00:00Z');
    expect(formatCell(-1, 'Timestamp')).toBe('1969-12-31T23:59:59.999999Z');
    expect(formatCell(1_748_779_200_000_000, 'DateTime')).toBe('2025-06-01T12:00:00Z');
    expect(formatCell(20_240, 'Date')).toBe('2025-06-01');
    expect(formatCell(49_500_250_000, 'Time')).toBe('13:45:00.250000');
    expect(formatCell(49_500_000_000, 'Time')).toBe('13:45:00');
    expect(formatCell([0, 15, 255], 'Bytes')).toBe('\\x000fff');
    expect(formatCell({ a: [1, 'x'] }, 'Json')).toBe('{"a":[1,"x"]}');
    expect(formatCell([0.5, 1], { Embedding: 2 })).toBe('[0.5,1]');
    expect(formatCell('12.50', { Decimal: { precision: 10, scale: 2 } })).toBe('12.50');
    expect(formatCell(1.5, 'Double')).toBe('1.5');
    expect(formatCell('00000000-0000-0000-0000-000000000001', 'Uuid')).toBe('00000000-0000-0000-0000-000000000001');
    expect(formatCell(null, 'Timestamp')).toBe('NULL');
  });
});

describe('formatResults', () => {
  it('prints each statement: a table with its row count, or the server message, a blank line between', () => {
    const results = parseResults([
      { row_count: 1, message: 'Inserted 1 row(s)', as_user: 'alice', seq: '331234567890123456' },
      { schema: [{ name: 'title', data_type: 'Text', index: 0 }, { name: 'n', data_type: { Decimal: { precision: 5, scale: 1 } }, index: 1 }], rows: [['one', '1.5']], row_count: 1, as_user: 'alice' },
      { schema: [{ name: 'title', data_type: 'Text', index: 0 }], rows: [], row_count: 0, as_user: 'alice' },
      { schema: [{ name: 'x', data_type: 'Int', index: 0 }], rows: [[1], [2]], row_count: 2, as_user: 'alice', message: 'showing the first 2 rows (LIMIT 2 applied)' },
      { row_count: 0, message: 'Namespace app created' },
      {},
    ]);
    expect(formatResults(results)).toBe(
      [
        'Inserted 1 row(s)',
        '',
        'title | n',
        '------+----',
        'one   | 1.5',
        '(1 row)',
        '',
        'title',
        '-----',
        '(0 rows)',
        '',
        'x',
        '-',
        '1',
        '2',
        '(2 rows)',
        'showing the first 2 rows (LIMIT 2 applied)',
        '',
        'Namespace app created',
        '',
        'OK',
        '',
      ].join('\n'),
    );
  });

  it('refuses an answer without a results array', () => {
    expect(() => parseResults(undefined)).toThrow('the SQL answer has no results array');
  });
});
