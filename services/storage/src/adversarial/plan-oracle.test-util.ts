// The second oracle of the adversarial test: every function in the plan PostgreSQL would run
// is on the allow-list, and every type a value is cast to in it is an allowed one. Read from
// `EXPLAIN (VERBOSE, FORMAT JSON)`: each plan node's expressions (Output, Filter, Join Filter,
// Hash Cond, Sort Key, Function Call…) are PostgreSQL's own deparsed text, where a function
// call is `name(` (possibly quoted or schema-qualified), a cast is `::type`, and SQL-syntax
// forms print in upper case (COALESCE(…), EXTRACT(…)). Operators print as infix symbols; the
// functions behind them are judged by the operator allow-list of the rewrite, not here.
//
// Unknown keys of a plan node are read as expressions (default-deny here too); only the keys
// below are known to hold names or numbers.
import { ALLOWED_FUNCTIONS } from '@seqline/sql';

const NOT_EXPRESSIONS = new Set([
  'Node Type', 'Parent Relationship', 'Relation Name', 'Schema', 'Alias', 'Startup Cost', 'Total Cost', 'Plan Rows', 'Plan Width', 'Strategy',
  'Partial Mode', 'Parallel Aware', 'Async Capable', 'Join Type', 'Inner Unique', 'Subplan Name', 'CTE Name', 'Index Name', 'Scan Direction',
  'Operation', 'Command', 'Conflict Resolution', 'Conflict Arbiter Indexes', 'Single Copy', 'Workers Planned', 'Sampling Method', 'Tuplestore Name',
  'Subplans Removed', 'Setop', 'Disabled', 'Result Cache', 'Cache Mode', 'Hash Buckets', 'Original Hash Buckets', 'Hash Batches', 'Peak Memory Usage',
  'Sort Method', 'Sort Space Used', 'Sort Space Type', 'Presorted Groups', 'Full-sort Groups', 'Replicated', 'Rows Removed by Filter', 'Group Size',
]);

/** Words that precede `(` in deparsed expressions without being function calls. */
const SYNTAX = new Set([
  'any', 'all', 'array', 'row', 'exists', 'in', 'not', 'and', 'or', 'filter', 'over', 'where', 'values', 'when', 'then', 'else', 'case', 'end',
  'as', 'is', 'distinct', 'from', 'by', 'on', 'using', 'partition', 'order', 'rows', 'range', 'groups', 'returns', 'hashed',
]);

/** Function names PostgreSQL prints for the forms the allow-list admits. */
const PRINTED_FORMS = new Set(['coalesce', 'nullif', 'greatest', 'least']);

/**
 * Types (as PostgreSQL prints them) a plan may cast to: the rewrite's ALLOWED_CAST_TYPES, and
 * cstring, which the planner prints for an I/O conversion of a constant ('x'::cstring)::date.
 */
const ALLOWED_PRINTED_TYPES = new Set([
  'text', 'bigint', 'integer', 'smallint', 'boolean', 'real', 'double precision', 'numeric', 'character varying', 'character', 'bpchar', 'bytea',
  'json', 'jsonb', 'timestamp without time zone', 'timestamp with time zone', 'date', 'time without time zone', 'time with time zone', 'interval',
  'uuid', 'cstring',
]);

const MULTIWORD_TYPES = [
  'timestamp without time zone', 'timestamp with time zone', 'time without time zone', 'time with time zone', 'double precision', 'character varying',
  'bit varying',
];

export interface PlanFindings {
  readonly functions: readonly string[];
  readonly types: readonly string[];
}

/** Functions and cast types of one `EXPLAIN (VERBOSE, FORMAT JSON)` result. */
export function planFindings(explain: unknown): PlanFindings {
  const functions = new Set<string>();
  const types = new Set<string>();
  const visit = (value: unknown, key: string): void => {
    if (Array.isArray(value)) {
      for (const v of value) visit(v, key);
      return;
    }
    if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) visit(v, k);
      return;
    }
    if (typeof value !== 'string' || NOT_EXPRESSIONS.has(key)) return;
    if (key === 'Function Name') functions.add(value.toLowerCase());
    else scanExpression(value, functions, types);
  };
  visit(explain, '');
  return { functions: [...functions].sort(), types: [...types].sort() };
}

/** What in the findings the allow-list does not admit; `extra` are functions the plan itself adds (a write's unnest). */
export function violations(findings: PlanFindings, extra: readonly string[] = []): string[] {
  const bad: string[] = [];
  for (const f of findings.functions) {
    const bare = f.startsWith('pg_catalog.') ? f.slice('pg_catalog.'.length) : f;
    if (!ALLOWED_FUNCTIONS.has(bare) && !PRINTED_FORMS.has(bare) && !extra.includes(bare)) bad.push(`function ${f}`);
  }
  for (const t of findings.types) if (!ALLOWED_PRINTED_TYPES.has(t)) bad.push(`cast to ${t}`);
  return bad;
}

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const CALL = new RegExp(String.raw`(${IDENT}(?:\.${IDENT})*)\s*\(`, 'g');
const CAST = new RegExp(String.raw`::(${MULTIWORD_TYPES.map((t) => t.replaceAll(' ', String.raw`\s+`)).join('|')}|${IDENT}(?:\.${IDENT})*)(\s*\(\d+(?:\s*,\s*\d+)?\))?((?:\s+with(?:out)?\s+time\s+zone)?)((?:\[\])*)`, 'gi');

function scanExpression(text: string, functions: Set<string>, types: Set<string>): void {
  // String literals first: their contents are data, not calls ('a(b)'::text).
  const code = text.replace(/'(?:[^']|'')*'/g, "''");
  for (const m of code.matchAll(CAST)) {
    const base = unquote(m[1] ?? '').toLowerCase().replace(/\s+/g, ' ');
    const zone = (m[3] ?? '').trim().toLowerCase().replace(/\s+/g, ' ');
    types.add(zone === '' ? base : `${base} ${zone}`);
  }
  const withoutCasts = code.replace(CAST, '');
  for (const m of withoutCasts.matchAll(CALL)) {
    const name = (m[1] ?? '').split('.').map(unquote).join('.');
    const lower = name.toLowerCase();
    if (!SYNTAX.has(lower)) functions.add(lower);
  }
}

function unquote(ident: string): string {
  return ident.startsWith('"') ? ident.slice(1, -1).replaceAll('""', '"') : ident;
}
