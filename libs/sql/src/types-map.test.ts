import { describe, expect, it } from 'vitest';
import { SIMPLE_TYPES, type DataType } from '@seqline/domain';
import { SqlError } from './errors.js';
import { dataTypeName, parseDataType, pgType } from './types-map.js';

const SUPPORTED =
  'supported: BOOLEAN, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL(p,s), TEXT, VARCHAR, BYTES, JSON, TIMESTAMP, DATE, DATETIME, TIME, UUID';

describe('pgType', () => {
  it.each<[DataType, string]>([
    ['Boolean', 'boolean'],
    ['SmallInt', 'smallint'],
    ['Int', 'integer'],
    ['BigInt', 'bigint'],
    ['Float', 'real'],
    ['Double', 'double precision'],
    ['Text', 'text'],
    ['Bytes', 'bytea'],
    ['Json', 'jsonb'],
    ['Timestamp', 'timestamptz'],
    ['DateTime', 'timestamptz'],
    ['Date', 'date'],
    ['Time', 'time'],
    ['Uuid', 'uuid'],
    [{ Decimal: { precision: 10, scale: 2 } }, 'numeric(10,2)'],
    [{ Decimal: { precision: 38, scale: 0 } }, 'numeric(38,0)'],
  ])('%j → %s', (t, pg) => {
    expect(pgType(t)).toBe(pg);
  });

  it('covers every simple type', () => {
    for (const t of SIMPLE_TYPES) expect(pgType(t)).toMatch(/^[a-z ]+$/);
  });
});

describe('dataTypeName', () => {
  it('names simple types as KalamDB does and spells out decimals', () => {
    expect(dataTypeName('BigInt')).toBe('BigInt');
    expect(dataTypeName('DateTime')).toBe('DateTime');
    expect(dataTypeName({ Decimal: { precision: 10, scale: 2 } })).toBe('Decimal(10,2)');
  });
});

describe('parseDataType', () => {
  it.each<[string[], number[], DataType]>([
    [['pg_catalog', 'bool'], [], 'Boolean'],
    [['boolean'], [], 'Boolean'],
    [['BOOL'], [], 'Boolean'],
    [['pg_catalog', 'int2'], [], 'SmallInt'],
    [['smallint'], [], 'SmallInt'],
    [['pg_catalog', 'int4'], [], 'Int'],
    [['int'], [], 'Int'],
    [['INTEGER'], [], 'Int'],
    [['pg_catalog', 'int8'], [], 'BigInt'],
    [['bigint'], [], 'BigInt'],
    [['float'], [], 'Float'],
    [['real'], [], 'Float'],
    [['pg_catalog', 'float4'], [], 'Float'],
    [['double'], [], 'Double'],
    [['pg_catalog', 'float8'], [], 'Double'],
    [['text'], [], 'Text'],
    [['pg_catalog', 'varchar'], [], 'Text'],
    [['pg_catalog', 'varchar'], [255], 'Text'],
    [['string'], [], 'Text'],
    [['bytes'], [], 'Bytes'],
    [['bytea'], [], 'Bytes'],
    [['blob'], [], 'Bytes'],
    [['pg_catalog', 'json'], [], 'Json'],
    [['jsonb'], [], 'Json'],
    [['pg_catalog', 'timestamp'], [], 'Timestamp'],
    [['timestamptz'], [], 'Timestamp'],
    [['datetime'], [], 'DateTime'],
    [['date'], [], 'Date'],
    [['pg_catalog', 'time'], [], 'Time'],
    [['uuid'], [], 'Uuid'],
    [['pg_catalog', 'numeric'], [], { Decimal: { precision: 38, scale: 10 } }],
    [['decimal'], [12], { Decimal: { precision: 12, scale: 0 } }],
    [['numeric'], [1, 1], { Decimal: { precision: 1, scale: 1 } }],
    [['DEC'], [38, 0], { Decimal: { precision: 38, scale: 0 } }],
  ])('%j %j → %j', (names, typmods, expected) => {
    expect(parseDataType(names, typmods)).toEqual(expected);
  });

  it.each<[string[], number[], string]>([
    [['serial'], [], `unsupported column type serial; ${SUPPORTED}`],
    [['pg_catalog', 'bpchar'], [3], `unsupported column type bpchar(3); ${SUPPORTED}`],
    [['pg_catalog', 'timetz'], [], `unsupported column type timetz; ${SUPPORTED}`],
    [['myschema', 'mytype'], [], `unsupported column type myschema.mytype; ${SUPPORTED}`],
    [['a', 'b', 'c'], [], `unsupported column type a.b.c; ${SUPPORTED}`],
    [[], [], `unsupported column type ; ${SUPPORTED}`],
    [['pg_catalog', 'timestamp'], [3], 'type timestamp(3) takes no modifiers; use TIMESTAMP'],
    [['text'], [5], 'type text(5) takes no modifiers; use TEXT'],
    [['varchar'], [1, 2], 'type varchar(1,2) takes no modifiers; use VARCHAR'],
    [['numeric'], [0], 'invalid NUMERIC(0): DECIMAL(p,s) needs 1 <= p <= 38 and 0 <= s <= p'],
    [['numeric'], [39, 2], 'invalid NUMERIC(39,2): DECIMAL(p,s) needs 1 <= p <= 38 and 0 <= s <= p'],
    [['decimal'], [5, 6], 'invalid DECIMAL(5,6): DECIMAL(p,s) needs 1 <= p <= 38 and 0 <= s <= p'],
    [['decimal'], [5, -1], 'invalid DECIMAL(5,-1): DECIMAL(p,s) needs 1 <= p <= 38 and 0 <= s <= p'],
    [['decimal'], [5, 2, 1], 'invalid DECIMAL(5,2,1): DECIMAL(p,s) needs 1 <= p <= 38 and 0 <= s <= p'],
  ])('%j %j is INVALID_SQL', (names, typmods, message) => {
    expect(() => parseDataType(names, typmods)).toThrow(new SqlError('INVALID_SQL', message));
    try {
      parseDataType(names, typmods);
    } catch (err) {
      expect(err).toBeInstanceOf(SqlError);
      expect((err as SqlError).code).toBe('INVALID_SQL');
    }
  });
});
