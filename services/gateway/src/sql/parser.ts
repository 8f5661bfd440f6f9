// The SqlParser of production: @seqline/sql's own parseStatements and classify (PostgreSQL's
// grammar plus the KalamDB layer). Needs `initSql()` once before the first parse.
import { classify, parseStatements } from '@seqline/sql';
import type { SqlParser } from './dispatch.js';

export const pgSqlParser: SqlParser = {
  parse: (sql, defaultNamespace) => parseStatements(sql, { defaultNamespace }),
  classify,
};
