// Cell encoding (docs/protocol.md §1): how a PostgreSQL value becomes a JSON cell.
// Storage reads with postgres.js configured by `POSTGRES_TYPES` below, so every value arrives
// in a known raw form: 64-bit integers, numerics, timestamps, dates, times and JSON as the
// server's text (never through a JS number or Date, which would lose digits or microseconds).
//   BIGINT → string; SMALLINT/INT/FLOAT/DOUBLE → number; DECIMAL → string; UUID/TEXT/JSON →
//   string; BYTES → array of byte values; BOOLEAN → boolean; TIMESTAMP/DATETIME → µs since the
//   epoch; DATE → days since the epoch; TIME → µs since midnight; NULL → null.
import type { DataType } from '@seqline/domain';

export type Cell = string | number | boolean | null | readonly number[];

/** PostgreSQL type OIDs we read as raw text (postgres.js `types` option; see storage). */
export const RAW_TEXT_OIDS = { int8: 20, numeric: 1700, timestamp: 1114, timestamptz: 1184, date: 1082, time: 1083, json: 114, jsonb: 3802 } as const;

export function encodeCell(raw: unknown, type: DataType): Cell {
  if (raw === null || raw === undefined) return null;
  const text = typeof raw === 'string' ? raw : typeof raw === 'number' || typeof raw === 'bigint' || typeof raw === 'boolean' ? String(raw) : undefined;
  if (typeof type === 'object') return text ?? JSON.stringify(raw);
  switch (type) {
    case 'Boolean':
      return typeof raw === 'boolean' ? raw : text === 't' || text === 'true';
    case 'SmallInt':
    case 'Int':
    case 'Float':
    case 'Double':
      return typeof raw === 'number' ? raw : Number(text);
    case 'BigInt':
    case 'Text':
    case 'Json':
    case 'Uuid':
      return text ?? JSON.stringify(raw);
    case 'Bytes':
      return raw instanceof Uint8Array ? Array.from(raw) : Array.from(Buffer.from(text ?? ''));
    case 'Timestamp':
    case 'DateTime':
      return timestampMicros(text ?? '');
    case 'Date':
      return dateDays(text ?? '');
    case 'Time':
      return timeMicros(text ?? '');
  }
}

const TS = /^(\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)?( BC)?$/;

/** PostgreSQL timestamp text (UTC offset or none = UTC) → µs since the Unix epoch, exactly. */
export function timestampMicros(text: string): number {
  if (text === 'infinity' || text === '-infinity') throw new RangeError(`timestamp ${text} has no microsecond value`);
  const m = TS.exec(text);
  if (m === null) throw new RangeError(`not a timestamp: ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s, frac = '', sign, oh = '0', om = '0', os = '0'] = m;
  const ms = utcMs(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const offsetSec = (Number(oh) * 3600 + Number(om) * 60 + Number(os)) * (sign === '-' ? -1 : 1);
  return (ms / 1000 - offsetSec) * 1_000_000 + Number(frac.padEnd(6, '0'));
}

/** PostgreSQL date text → days since 1970-01-01. */
export function dateDays(text: string): number {
  const m = /^(\d{4,})-(\d{2})-(\d{2})$/.exec(text);
  if (m === null) throw new RangeError(`not a date: ${JSON.stringify(text)}`);
  return utcMs(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 86_400_000;
}

/** Date.UTC without its reading of years 0–99 as 1900–1999. */
function utcMs(year: number, month: number, day: number, h = 0, mi = 0, s = 0): number {
  const t = new Date(0);
  t.setUTCFullYear(year, month, day);
  t.setUTCHours(h, mi, s, 0);
  return t.getTime();
}

/** PostgreSQL time text → µs since midnight. */
export function timeMicros(text: string): number {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(text);
  if (m === null) throw new RangeError(`not a time: ${JSON.stringify(text)}`);
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1_000_000 + Number((m[4] ?? '').padEnd(6, '0'));
}

/** µs since the epoch → a PostgreSQL timestamptz literal body ('2026-11-24 01:02:03.456789+00'). */
export function microsToTimestampText(us: bigint): string {
  const ms = Number(us / 1000n);
  const micro = Number(((us % 1_000_000n) + 1_000_000n) % 1_000_000n);
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString(); // 2026-11-24T01:02:03.000Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(micro).padStart(6, '0')}+00`;
}

/** The data type of a computed result column, from its PostgreSQL type OID. */
export function dataTypeForOid(oid: number): DataType {
  switch (oid) {
    case 16:
      return 'Boolean';
    case 21:
      return 'SmallInt';
    case 23:
    case 26:
      return 'Int';
    case 20:
      return 'BigInt';
    case 700:
      return 'Float';
    case 701:
      return 'Double';
    case 1700:
      return { Decimal: { precision: 38, scale: 10 } };
    case 17:
      return 'Bytes';
    case 114:
    case 3802:
      return 'Json';
    case 1114:
    case 1184:
      return 'Timestamp';
    case 1082:
      return 'Date';
    case 1083:
      return 'Time';
    case 2950:
      return 'Uuid';
    default:
      return 'Text';
  }
}
