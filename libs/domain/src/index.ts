// @seqline/domain: the shared data model (roles, data types, table definitions, naming rules),
// depended on by both the wire contract (@seqline/protocol) and the SQL layer (@seqline/sql).
export * from './types.js';
