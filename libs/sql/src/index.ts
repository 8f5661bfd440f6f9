// @seqline/sql: parse (PostgreSQL's own grammar + a thin KalamDB layer), classify, validate,
// rewrite reads into the caller's partitions, plan writes, and the physical DDL.
export * from './types.js';
export { SqlError, SQL_ERROR_CODES } from './errors.js';
export type { SqlErrorCode } from './errors.js';
export { assertSqlReady, initSql } from './init.js';
export { parseBatch, parseStatements } from './parse.js';
export type { ParseOptions, ParsedStatement } from './parse.js';
export { classify } from './classify.js';
export { DEFAULT_DECIMAL, dataTypeName, parseDataType, pgType } from './types-map.js';
export { DEFAULT_HASH_PARTITIONS, ddlSql, OWNER_POLICY, ownerSettingSql, partitionName, PURGE_POLICIES, quoteIdent, quoteLiteral, seqIndexName, tableAccessSql, writerAccessSql, WRITER_POLICIES } from './ddl.js';
export type { DdlOptions, DdlStatement } from './ddl.js';
export { ALLOWED_FUNCTIONS, assertFunctionAllowed } from './functions.js';
export { actAs, checkExecuteAs, checkReadAccess, checkWriteAccess, mayRead, resolveOwner, validateWrite } from './validate.js';
export { rewriteSelect } from './rewrite.js';
export { expiresRows, expiryFloor, isExpired } from './stream-ttl.js';
export type { RewriteContext, RewrittenSelect } from './rewrite.js';
export { planDml } from './dml.js';
export type { DeletePlan, DmlContext, InsertPlan, InsertText, SqlText, UpdatePlan } from './dml.js';
export { compileLiveQuery, liveChange } from './live-filter.js';
export type { LiveCell, LiveFilter, LiveQuery, LiveQueryContext, LiveRow } from './live-filter.js';
export type { LiveOrder, OrderKey } from './live-order.js';
export { FilterBudgetExceeded, meter } from './filter-budget.js';
export type { Meter } from './filter-budget.js';
export { systemColumn, systemTable } from './system-tables.js';
