// What a user's SQL may call and cast to. Default deny: a function or type that is not listed
// here is refused before PostgreSQL sees the query, so nothing that reads files, settings,
// catalogs or other sessions (pg_read_file, set_config, current_setting, dblink, lo_*,
// query_to_xml, pg_sleep…) can run, whatever PostgreSQL's own grants say.
//
// Decisions, by group:
// - Aggregates and window functions: reads only (a write's VALUES/SET/WHERE refuses them).
//   Window functions see only the rows the rewrite lets through, so they are as safe as
//   aggregates.
// - String, math, time and JSON functions: pure functions of their arguments. `trim`,
//   `substring`, `position`, `overlay` and `extract` also arrive as the SQL-syntax forms
//   (TRIM(BOTH … FROM …) becomes btrim/ltrim/rtrim, AT TIME ZONE becomes timezone); the walker
//   checks those under their function name. json_build_array/jsonb_build_array are added to
//   the list in the brief: constructors like json_build_object.
// - coalesce, nullif, greatest and least are expressions (CoalesceExpr, NULLIF, MinMaxExpr),
//   always allowed; they are listed so the set documents everything a query may use.
// - random() and gen_random_uuid(): reads only. A write is resolved once by the write service
//   (docs/architecture.md §3) and must not depend on when or how often storage applies it.
// - now(): allowed everywhere; in a write it becomes the op's issued_at (dml.ts).
//   age(x) with one argument reads the clock, so writes refuse it.
// - Any schema-qualified call (pg_catalog.upper, public.f) is refused: with a qualified name
//   a query could reach functions the allow-list never meant.
// - Operators are functions too (`a @@ b` is ts_match_tt, which parses text search configs;
//   `OPERATOR(schema.op)` reaches any operator): only the operators below, by name, never
//   schema-qualified. Text search (@@, @@@), geometric and range operators are left out.
// - Casts: an allow-list of types (ALLOWED_CAST_TYPES); collations: C, POSIX and default.
// One code for every refusal, UNSUPPORTED: the message names the function, never whether it
// exists in PostgreSQL.
import { SqlError } from './errors.js';

export const AGGREGATE_FUNCTIONS: ReadonlySet<string> = new Set([
  'count', 'sum', 'avg', 'min', 'max', 'string_agg', 'array_agg', 'bool_and', 'bool_or', 'json_agg', 'jsonb_agg',
]);

export const WINDOW_FUNCTIONS: ReadonlySet<string> = new Set([
  'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value',
]);

const STRING_FUNCTIONS = [
  'lower', 'upper', 'length', 'char_length', 'substring', 'substr', 'trim', 'btrim', 'ltrim', 'rtrim', 'concat', 'concat_ws',
  'replace', 'position', 'strpos', 'left', 'right', 'lpad', 'rpad', 'split_part', 'starts_with', 'reverse', 'initcap', 'md5', 'overlay',
];
const MATH_FUNCTIONS = ['abs', 'round', 'floor', 'ceil', 'ceiling', 'trunc', 'mod', 'power', 'sqrt', 'sign', 'greatest', 'least'];
const TIME_FUNCTIONS = ['now', 'date_trunc', 'date_part', 'extract', 'to_timestamp', 'to_char', 'age', 'make_date', 'make_timestamp', 'timezone'];
const JSON_FUNCTIONS = [
  'json_build_object', 'jsonb_build_object', 'json_build_array', 'jsonb_build_array', 'jsonb_extract_path_text', 'json_extract_path_text', 'to_json', 'to_jsonb',
];
const CONDITIONAL_FUNCTIONS = ['coalesce', 'nullif'];

/** Allowed in reads only: their result depends on when or how often they run. */
export const READ_ONLY_FUNCTIONS: ReadonlySet<string> = new Set(['random', 'gen_random_uuid']);

export const ALLOWED_FUNCTIONS: ReadonlySet<string> = new Set([
  ...AGGREGATE_FUNCTIONS,
  ...WINDOW_FUNCTIONS,
  ...STRING_FUNCTIONS,
  ...MATH_FUNCTIONS,
  ...TIME_FUNCTIONS,
  ...JSON_FUNCTIONS,
  ...CONDITIONAL_FUNCTIONS,
  ...READ_ONLY_FUNCTIONS,
]);

/**
 * Throws UNSUPPORTED unless `name` (as the parser left it: unquoted names are lower case) is
 * on the allow-list and the call is not schema-qualified.
 */
export function assertFunctionAllowed(name: string, schema?: string): void {
  if (schema !== undefined) throw new SqlError('UNSUPPORTED', `function ${schema}.${name} is not allowed`);
  if (!ALLOWED_FUNCTIONS.has(name)) throw new SqlError('UNSUPPORTED', `function ${name} is not allowed`);
}

/**
 * Types a CAST / `::` may target: the column types of docs/protocol.md §3 under every name the
 * grammar produces for them, plus interval and timetz for date arithmetic. An allow-list
 * rather than a block-list of reg* / oid / pg_* / internal types: a cast runs the target
 * type's input function, and regclass, regproc, regrole… look names up in the catalogs.
 */
export const ALLOWED_CAST_TYPES: ReadonlySet<string> = new Set([
  'bool', 'boolean', 'int2', 'smallint', 'int4', 'int', 'integer', 'int8', 'bigint', 'float4', 'real', 'float8', 'numeric', 'decimal',
  'text', 'varchar', 'bpchar', 'bytea', 'json', 'jsonb', 'timestamp', 'timestamptz', 'date', 'time', 'timetz', 'interval', 'uuid',
]);

/**
 * Throws UNSUPPORTED unless the type (names as the grammar produced them: `int` arrives as
 * pg_catalog.int4, `text` as text) is allowed. `pg_catalog.` is accepted because the grammar
 * adds it itself; any other qualification is refused.
 */
export function assertCastAllowed(names: readonly string[]): void {
  const shown = names.join('.');
  const bare = names.length === 1 ? names[0] : names.length === 2 && names[0] === 'pg_catalog' ? names[1] : undefined;
  if (bare === undefined || !ALLOWED_CAST_TYPES.has(bare)) throw new SqlError('UNSUPPORTED', `cast to ${shown} is not allowed`);
}

/**
 * Operators a query may use, by name: comparison, arithmetic, string, pattern matching (LIKE
 * arrives as ~~, SIMILAR TO as ~), bit, JSON and array containment. The BETWEEN forms are the
 * names the grammar gives BETWEEN (no operator can be written with those names).
 */
export const ALLOWED_OPERATORS: ReadonlySet<string> = new Set([
  '=', '<>', '<', '>', '<=', '>=',
  '+', '-', '*', '/', '%', '^', '|/', '||/', '@',
  '||', '~~', '!~~', '~~*', '!~~*', '~', '!~', '~*', '!~*',
  '&', '|', '#', '<<', '>>',
  '->', '->>', '#>', '#>>', '@>', '<@', '?', '?|', '?&', '#-', '&&',
  'BETWEEN', 'NOT BETWEEN', 'BETWEEN SYMMETRIC', 'NOT BETWEEN SYMMETRIC',
]);

/** Throws UNSUPPORTED unless the operator (its name list as parsed) is allowed and not schema-qualified. */
export function assertOperatorAllowed(names: readonly string[]): void {
  const shown = names.join('.');
  if (names.length !== 1 || !ALLOWED_OPERATORS.has(names[0] ?? '')) throw new SqlError('UNSUPPORTED', `operator ${shown} is not allowed`);
}

/** Collations a COLLATE clause may name (unqualified): byte order, and the database's default. */
export const ALLOWED_COLLATIONS: ReadonlySet<string> = new Set(['C', 'POSIX', 'default']);

export function assertCollationAllowed(names: readonly string[]): void {
  if (names.length !== 1 || !ALLOWED_COLLATIONS.has(names[0] ?? '')) throw new SqlError('UNSUPPORTED', `collation ${names.join('.')} is not allowed`);
}
