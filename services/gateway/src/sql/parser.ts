// The SqlParser of production: @seqline/sql's own parseBatch and classify (PostgreSQL's
// scanner and grammar plus the KalamDB layer). Needs `initSql()` once before the first parse.
import { classify, parseBatch } from '@seqline/sql';
import type { SqlParser } from './dispatch.js';

export const pgSqlParser: SqlParser = {
  parse: (sql, defaultNamespace) => parseBatch(sql, { defaultNamespace }),
  classify,
};
