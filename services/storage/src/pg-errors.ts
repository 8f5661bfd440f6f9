// PostgreSQL errors as protocol errors: what a client did wrong gets a code and PostgreSQL's
// own message (which names columns and values, never server internals); anything else stays
// an internal error for the caller to log.
import { ProtocolError } from '@seqline/protocol';
import { pgError } from './db.js';

export function pgToProtocolError(err: unknown): ProtocolError | undefined {
  const pg = pgError(err);
  if (pg === undefined) return undefined;
  const message = pg.detail === undefined ? pg.message : `${pg.message}: ${pg.detail}`;
  const cls = pg.code.slice(0, 2);
  if (pg.code === '42501') return new ProtocolError('PERMISSION_DENIED', 'permission denied', { cause: err });
  if (pg.code === '57014') return new ProtocolError('SQL_EXECUTION_ERROR', 'the statement exceeded its time limit', { cause: err });
  if (pg.code === '55P03') return new ProtocolError('SQL_EXECUTION_ERROR', 'the statement waited too long for a lock', { cause: err });
  if (pg.code === '21000') return new ProtocolError('SQL_EXECUTION_ERROR', 'duplicate primary key: the statement inserts the same key twice', { cause: err });
  if (pg.code === '42P01') return new ProtocolError('TABLE_NOT_FOUND', message, { cause: err });
  if (cls === '42') return new ProtocolError('INVALID_SQL', message, { cause: err });
  if (cls === '22') return new ProtocolError('INVALID_PARAMETER', message, { cause: err });
  if (cls === '23' || cls === '21' || cls === '2B' || cls === '25') return new ProtocolError('SQL_EXECUTION_ERROR', message, { cause: err });
  return undefined;
}
