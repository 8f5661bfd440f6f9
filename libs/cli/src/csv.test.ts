import { describe, expect, it } from 'vitest';
import { csvRecord, formatCsv } from './csv.js';
import { parseResults } from './format.js';

describe('csvRecord', () => {
  it('quotes a field only when it holds a comma, a quote, CR or LF, doubling the quotes', () => {
    expect(csvRecord(['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\rhere', ' spaced ', 'é ✓'])).toBe('plain,"a,b","say ""hi""","two\nlines","cr\rhere", spaced ,é ✓\r\n');
  });

  it('writes NULL as an empty field and the empty string as ""', () => {
    expect(csvRecord([undefined, '', 'x', undefined])).toBe(',"",x,\r\n');
  });
});

describe('formatCsv', () => {
  it('writes a header and the rows of each result, an empty line between, messages apart', () => {
    const results = parseResults([
      { row_count: 1, message: 'Inserted 1 row(s)' },
      {
        schema: [
          { name: 'id', data_type: 'BigInt', index: 0 },
          { name: 'title', data_type: 'Text', index: 1 },
          { name: 'at', data_type: 'Timestamp', index: 2 },
          { name: 'data', data_type: 'Bytes', index: 3 },
          { name: 'doc', data_type: 'Json', index: 4 },
        ],
        rows: [
          ['331234567890123456', 'a, "quoted"\ntitle', 1_748_779_200_123_456, [0, 255], { k: ['v', 1] }],
          ['2', '', null, null, null],
        ],
        row_count: 2,
      },
      { schema: [{ name: 'n', data_type: 'Int', index: 0 }], rows: [], row_count: 0, message: 'no rows' },
    ]);
    expect(formatCsv(results)).toEqual({
      csv: [
        'id,title,at,data,doc',
        '331234567890123456,"a, ""quoted""\ntitle",2025-06-01T12:00:00.123456Z,\\x00ff,"{""k"":[""v"",1]}"',
        '2,"",,,',
        '',
        'n',
        '',
      ].join('\r\n'),
      messages: ['Inserted 1 row(s)', 'no rows'],
    });
  });

  it('writes nothing for results without rows', () => {
    expect(formatCsv(parseResults([{ row_count: 1, message: 'Namespace app created' }]))).toEqual({ csv: '', messages: ['Namespace app created'] });
  });
});
