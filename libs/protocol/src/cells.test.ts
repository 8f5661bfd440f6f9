import { describe, expect, it } from 'vitest';
import { dataTypeForOid, dateDays, encodeCell, microsToTimestampText, timeMicros, timestampMicros } from './cells.js';

describe('encodeCell (docs/protocol.md §1)', () => {
  it.each([
    ['BigInt', '9223372036854775807', '9223372036854775807'],
    ['Int', 42, 42],
    ['SmallInt', '7', 7],
    ['Double', 1.5, 1.5],
    ['Boolean', true, true],
    ['Text', 'hé', 'hé'],
    ['Json', '{"a": 9007199254740993}', '{"a": 9007199254740993}'],
    ['Uuid', '0190c9e0-7e3a-7000-8000-000000000001', '0190c9e0-7e3a-7000-8000-000000000001'],
    ['Bytes', Buffer.from([0, 255, 16]), [0, 255, 16]],
    ['Timestamp', '2026-11-24 01:02:03.456789+00', 1795482123456789],
    ['DateTime', '1970-01-01 00:00:00.000001+00', 1],
    ['Date', '1970-01-11', 10],
    ['Time', '01:00:00.5', 3_600_500_000],
  ] as const)('%s %j → %j', (type, raw, cell) => {
    expect(encodeCell(raw, type)).toEqual(cell);
  });

  it('encodes DECIMAL as a string and NULL as null', () => {
    expect(encodeCell('12.3400', { Decimal: { precision: 10, scale: 4 } })).toBe('12.3400');
    expect(encodeCell(null, 'BigInt')).toBeNull();
  });
});

describe('time conversions', () => {
  it('reads PostgreSQL timestamps with offsets and before the epoch exactly', () => {
    expect(timestampMicros('2026-11-24 03:02:03.1+02')).toBe(timestampMicros('2026-11-24 01:02:03.1+00'));
    expect(timestampMicros('1969-12-31 23:59:59.999999+00')).toBe(-1);
    expect(timestampMicros('2000-01-01 00:00:00')).toBe(946_684_800_000_000);
    expect(() => timestampMicros('infinity')).toThrow('no microsecond value');
    expect(dateDays('1969-12-31')).toBe(-1);
    expect(timeMicros('23:59:59.999999')).toBe(86_399_999_999);
  });

  it('reads years 1 to 99 as themselves (Date.UTC alone would read them as 1901 to 1999)', () => {
    expect(timestampMicros('0001-01-01 00:00:00+00')).toBe(-62_135_596_800_000_000);
    expect(timestampMicros('0099-12-31 23:59:59.5+00')).toBe(-59_011_459_200_500_000);
    expect(dateDays('0050-06-15')).toBe(-701_100);
  });

  it('writes µs back as a timestamptz literal body, round-tripping', () => {
    const us = 1_795_482_123_456_789n;
    expect(microsToTimestampText(us)).toBe('2026-11-24 01:02:03.456789+00');
    expect(timestampMicros(microsToTimestampText(us))).toBe(Number(us));
  });

  it('maps result OIDs to data types', () => {
    expect([16, 21, 23, 20, 700, 701, 17, 3802, 1184, 1082, 1083, 2950, 25].map(dataTypeForOid)).toEqual([
      'Boolean', 'SmallInt', 'Int', 'BigInt', 'Float', 'Double', 'Bytes', 'Json', 'Timestamp', 'Date', 'Time', 'Uuid', 'Text',
    ]);
  });
});
