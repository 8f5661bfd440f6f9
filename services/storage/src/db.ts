// The PostgreSQL client of storage. Values arrive in the raw forms @seqline/protocol's cell
// encoder expects: 64-bit integers, numerics, timestamps, dates, times and JSON as the
// server's text, so no digit or microsecond is lost through a JS number or Date.
import { RAW_TEXT_OIDS } from '@seqline/protocol';
import postgres, { type Sql } from 'postgres';

const raw = (oid: number) => ({ to: oid, from: [oid], serialize: (x: unknown) => (typeof x === 'string' ? x : JSON.stringify(x)), parse: (x: string) => x });

export function connectPostgres(url: string, options: { max?: number; onclose?: () => void } = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    ...(options.onclose === undefined ? {} : { onclose: options.onclose }),
    connection: { TimeZone: 'UTC', application_name: 'seqline-storage' },
    types: {
      rawTimestamp: raw(RAW_TEXT_OIDS.timestamp),
      rawTimestamptz: raw(RAW_TEXT_OIDS.timestamptz),
      rawDate: raw(RAW_TEXT_OIDS.date),
      rawTime: raw(RAW_TEXT_OIDS.time),
      rawJson: raw(RAW_TEXT_OIDS.json),
      rawJsonb: raw(RAW_TEXT_OIDS.jsonb),
    },
  });
}

/** PostgreSQL error details, when `err` is one. */
export function pgError(err: unknown): { code: string; message: string; detail?: string } | undefined {
  const e = err as { name?: string; code?: unknown; message?: unknown; detail?: unknown } | null;
  if (e?.name !== 'PostgresError' || typeof e.code !== 'string') return undefined;
  return { code: e.code, message: String(e.message), ...(typeof e.detail === 'string' ? { detail: e.detail } : {}) };
}

/**
 * Whether `err` means the session is gone (a network error, the server closing the
 * connection, or a FATAL error such as an administrator terminating the backend): nothing
 * more may be sent on that connection, and whether its last COMMIT took effect is unknown.
 */
export function isConnectionLost(err: unknown): boolean {
  const e = err as { code?: unknown; severity?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/^CONNECTION_|^CONNECT_TIMEOUT$|^ECONN|^EPIPE$|^ETIMEDOUT$/.test(code)) return true;
  const pg = pgError(err);
  return pg !== undefined && (pg.code.startsWith('08') || pg.code.startsWith('57P') || e?.severity === 'FATAL' || e?.severity === 'PANIC');
}
