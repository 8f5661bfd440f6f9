// Random hostile SQL for the adversarial test (adversarial.int.test.ts): statements built from
// the constructs the rewrite admits (joins, subqueries, CTEs, set operations, aggregates,
// windows, CASE, casts, arrays, rows, grouping sets…), with PostgreSQL's dangerous functions
// called in every form the grammar offers: plain and schema-qualified calls, field notation
// `(x).f` and `a.b.f`, casts to types whose input functions read state, operators backed by
// such functions, calls in FROM, LATERAL, subqueries, CTEs and set operations, and INSERT
// VALUES / UPDATE SET / WHERE / RETURNING for writes. The attacker is `alice`; the data she
// must never see is marked CANARY (adversarial.int.test.ts), a word no generated text contains.
import fc from 'fast-check';

export type GeneratedStatement = { readonly kind: 'read' | 'write'; readonly sql: string };

/** A dangerous built-in and argument lists for it (SQL text). */
interface Danger {
  readonly name: string;
  readonly args: readonly (readonly string[])[];
}

// Arguments point at what an attacker wants: settings, files, other tenants' rows, the users
// table. alice's own rows hold such texts too, so `(title).f` has something to work on.
const QUERY_BOB = "'SELECT title::tsvector FROM app.t'";
const QUERY_USERS = "'SELECT (password_hash || email)::tsvector FROM seqline.users'";
const DANGERS: readonly Danger[] = [
  { name: 'current_setting', args: [["'port'"], ["'data_directory'"], ["'seqline.hidden'"], ["'seqline.user_id'"]] },
  { name: 'set_config', args: [["'seqline.user_id'", "'bob'", 'true'], ["'seqline.role'", "'dba'", 'false']] },
  { name: 'pg_read_file', args: [["'postgresql.auto.conf'"], ["'/etc/passwd'"], ["'PG_VERSION'"]] },
  { name: 'pg_read_binary_file', args: [["'PG_VERSION'"]] },
  { name: 'pg_ls_dir', args: [["'.'"]] },
  { name: 'pg_stat_file', args: [["'PG_VERSION'"]] },
  { name: 'ts_stat', args: [[QUERY_BOB], [QUERY_USERS], ["'SELECT secret::tsvector FROM app.priv'"]] },
  { name: 'query_to_xml', args: [["'SELECT title FROM app.t'", 'true', 'true', "''"], ["'SELECT * FROM seqline.users'", 'true', 'true', "''"]] },
  { name: 'table_to_xml', args: [["'seqline.users'", 'true', 'true', "''"]] },
  { name: 'query_to_xml_and_xmlschema', args: [["'SELECT title FROM app.t'", 'true', 'true', "''"]] },
  { name: 'pg_sleep', args: [['0']] },
  { name: 'lo_import', args: [["'/etc/hostname'"]] },
  { name: 'lo_get', args: [['1']] },
  { name: 'pg_advisory_lock', args: [['1']] },
  { name: 'pg_try_advisory_xact_lock', args: [['1']] },
  { name: 'pg_terminate_backend', args: [['0']] },
  { name: 'pg_notify', args: [["'c'", "'x'"]] },
  { name: 'pg_reload_conf', args: [[]] },
  { name: 'pg_backend_pid', args: [[]] },
  { name: 'version', args: [[]] },
  { name: 'current_database', args: [[]] },
  { name: 'inet_server_addr', args: [[]] },
  { name: 'txid_current', args: [[]] },
  { name: 'to_regclass', args: [["'seqline.users'"]] },
  { name: 'has_table_privilege', args: [["'seqline.users'", "'select'"]] },
  { name: 'nextval', args: [["'seqline.outbox_id_seq'"]] },
  { name: 'pg_get_userbyid', args: [['10']] },
  { name: 'format', args: [["'%s'", "'x'"]] },
  { name: 'to_tsvector', args: [["'x'"]] },
  { name: 'xpath', args: [["'/a'", "'<a/>'"]] },
  { name: 'dblink', args: [["'dbname=postgres'", "'SELECT 1'"]] },
  { name: 'pg_column_size', args: [["'x'"]] },
  { name: 'row_to_json', args: [['ROW(1)']] },
  { name: 'string_to_array', args: [["'a,b'", "','"]] },
];

/** Single-argument dangers, for field notation `(arg).name`. */
const FIELD_DANGERS = DANGERS.flatMap((d) => d.args.filter((a) => a.length === 1).map((a) => ({ name: d.name, arg: a[0]! })));

/** Types whose input functions look things up or read state: casts to them must be refused. */
const STATE_TYPES = [
  'regclass', 'regproc', 'regprocedure', 'regoper', 'regoperator', 'regtype', 'regrole', 'regnamespace', 'regconfig', 'regdictionary', 'regcollation',
  'xml', 'tsvector', 'tsquery', 'pg_lsn', 'txid_snapshot', 'pg_snapshot', 'name', 'oid', '"char"', 'pg_catalog.regclass', 'regclass[]',
];
/** Allowed types, for casts the rewrite admits. */
const SAFE_TYPES = ['text', 'varchar(20)', 'int', 'bigint', 'numeric(10,2)', 'float8', 'boolean', 'jsonb', 'json', 'date', 'timestamptz', 'interval', 'text[]', 'int[]', 'uuid', 'bytea', 'char(3)'];

/** alice's own columns (she may read them): texts that make dangerous calls interesting. */
const COLUMNS = ['title', 't.title', 'n', 'id', 'doc', 't._seq', '_deleted'];
const TEXT_COLUMNS = ['title', 't.title', 'doc::text'];
const LITERALS = ["'port'", "'data_directory'", "'x'", "'SELECT 1'", '1', '2.5', 'NULL', 'true', "'{a,b}'", "'{\"k\": 1}'"];
const SAFE_CALLS = ['upper', 'lower', 'length', 'md5', 'btrim', 'reverse', 'initcap', 'concat', 'to_jsonb', 'abs', 'coalesce', 'count', 'max', 'string_agg'];

const pick = <T>(items: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...items);

/** A dangerous function called in one of the forms PostgreSQL accepts. */
const dangerCall: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(pick(DANGERS), fc.nat(), pick(['', 'pg_catalog.', '"'])).map(([d, i, how]) => {
    const args = d.args[i % d.args.length]!.join(', ');
    return how === '"' ? `"${d.name}"(${args})` : `${how}${d.name}(${args})`;
  }),
  fc.tuple(pick(FIELD_DANGERS), pick(['(%a).%f', '(%a)."%f"', '(%a::text).%f', '((%a)).%f', '(ROW(%a)).f1', '(ARRAY[%a])[1]', '((ARRAY[(%a)]::text[])[1]).%f'])).map(([d, form]) =>
    form.replaceAll('%a', d.arg).replaceAll('%f', d.name),
  ),
  // Field notation on alice's own columns, whose values are 'port', 'postgresql.auto.conf', a query…
  fc.tuple(pick(FIELD_DANGERS), pick(['(title).%f', '(t.title).%f', 't.title.%f', 'app.t.title.%f', 'title.%f', '(doc::text).%f', '(t).%f', 't.%f', '(t.*).%f'])).map(([d, form]) =>
    form.replaceAll('%f', d.name),
  ),
  fc.tuple(pick([...LITERALS, ...TEXT_COLUMNS]), pick(STATE_TYPES), pick(['(%a)::%t', 'CAST(%a AS %t)', '%t %a', '(%a)::%t::text', '(%a::text)::%t'])).map(([a, t, form]) =>
    form === '%t %a' && !a.startsWith("'") ? `(${a})::${t}` : form.replaceAll('%a', a).replaceAll('%t', t),
  ),
  fc.tuple(pick([...LITERALS, ...TEXT_COLUMNS]), pick(['@@', 'OPERATOR(pg_catalog.||)', 'OPERATOR(pg_catalog.=)', '<->', '##', '&&', '@>', '||', '~', '='])).map(([a, op]) => `(${a} ${op} ${a})`),
  pick([
    'COLLATION FOR (title)', 'NORMALIZE(title)', 'title IS NORMALIZED', 'SYSTEM_USER', 'CURRENT_ROLE', 'SESSION_USER', 'CURRENT_SCHEMA', 'CURRENT_CATALOG',
    'XMLELEMENT(NAME x, title)', "XMLPARSE(DOCUMENT '<a/>')", "JSON_VALUE(doc, '$.k')", "JSON_OBJECT('k': title)", 'title IS JSON', "JSON_QUERY(doc, '$')",
    "title LIKE 'p%' ESCAPE '!'", "title SIMILAR TO 'p%' ESCAPE '!'", 'title COLLATE "C"', 'title COLLATE pg_catalog."default"', "(title, n) OVERLAPS (title, n)",
    'pg_catalog.upper(title)', 'public.upper(title)', 'upper(title) OVER ()', "upper(VARIADIC ARRAY['x'])", 'current_user()', 'CURRENT_USER',
  ]),
);

/** Where an expression goes: a read, an UPDATE/DELETE (no subqueries or aggregates), an INSERT (no columns either). */
type Mode = 'read' | 'update' | 'insert';

/** A safe expression (the rewrite should admit it), built from the node types it allows. */
function safeExpr(mode: Mode, depth: number): fc.Arbitrary<string> {
  const columns = mode === 'insert' ? [] : COLUMNS.filter((c) => mode === 'read' || !c.includes('_'));
  const clock = ['CURRENT_USER', 'CURRENT_TIMESTAMP', 'CURRENT_DATE', 'now()', ...(mode === 'read' ? ['random()'] : [])];
  const leaf = fc.oneof(pick([...columns, ...LITERALS]), pick(clock));
  if (depth <= 1) return leaf;
  const sub = safeExpr(mode, depth - 1);
  const calls = mode === 'read' ? SAFE_CALLS : SAFE_CALLS.filter((f) => !['count', 'max', 'string_agg'].includes(f));
  const forms: fc.Arbitrary<string>[] = [
    fc.tuple(pick(calls), sub).map(([f, a]) => `${f}((${a})::text)`),
    fc.tuple(sub, pick(SAFE_TYPES)).map(([a, t]) => `(${a})::${t}`),
    fc.tuple(sub, pick(SAFE_TYPES)).map(([a, t]) => `CAST(${a} AS ${t})`),
    fc.tuple(sub, sub, pick(['||', '=', '<>', '<', '+', '-', '*', 'IS DISTINCT FROM', 'LIKE', 'ILIKE', '~', '->>'])).map(([a, b, op]) => `((${a})::text ${op} (${b})::text)`),
    fc.tuple(sub, sub).map(([a, b]) => `CASE WHEN (${a}) IS NULL THEN (${b})::text ELSE (${a})::text END`),
    fc.tuple(sub, sub).map(([a, b]) => `COALESCE((${a})::text, (${b})::text, NULLIF('a', 'b'))`),
    fc.tuple(sub, sub).map(([a, b]) => `GREATEST((${a})::text, (${b})::text)`),
    sub.map((a) => `(CAST(ARRAY[(${a})::text, 'b'] AS text[]))[1]`),
    sub.map((a) => `('{"k": 1}'::jsonb)[(${a})::text]`),
    sub.map((a) => `(${a}) IS NOT NULL AND NOT ((${a}) IS NULL) OR ((${a}) IS NULL) IS TRUE`),
    sub.map((a) => `(${a})::text IN ('port', 'x')`),
    sub.map((a) => `1 BETWEEN 0 AND length((${a})::text)`),
    sub.map((a) => `(${a})::text COLLATE "C"`),
  ];
  if (mode === 'read') {
    forms.push(
      sub.map((a) => `((${a})::text, 1) = ('x', 1)`),
      sub.map((a) => `(SELECT max((${a})::text) FROM app.t)`),
      sub.map((a) => `EXISTS (SELECT 1 FROM app.t WHERE (${a})::text = title)`),
      sub.map((a) => `(${a})::text = ANY (ARRAY(SELECT title FROM app.pub))`),
      sub.map((a) => `count(*) FILTER (WHERE (${a}) IS NOT NULL) OVER (PARTITION BY n ORDER BY id)`),
    );
  }
  return fc.oneof({ weight: 3, arbitrary: leaf }, ...forms);
}

/** An expression that calls something dangerous somewhere inside safe wrappers. */
function hostileExpr(mode: Mode): fc.Arbitrary<string> {
  const forms = ['%d', 'upper((%d)::text)', 'coalesce((%d)::text, %s::text)', 'CASE WHEN %s IS NULL THEN 1 ELSE length((%d)::text) END', '(%d)::text || (%s)::text', 'concat(%d)'];
  const subqueries = ['(SELECT (%d)::text)', 'EXISTS (SELECT %d)', '(SELECT (%d)::text FROM app.t LIMIT 1)', 'ARRAY[(%d)::text]', '(%d)::text IN (SELECT title FROM app.t)'];
  return fc.tuple(dangerCall, safeExpr(mode, 2), pick([...forms, ...subqueries])).map(([d, s, form]) => form.replaceAll('%d', d).replaceAll('%s', `(${s})`));
}

/** Hostile or safe, the safe ones in the majority so that a good share is admitted and runs. */
const anyExpr = (mode: Mode): fc.Arbitrary<string> => fc.oneof({ weight: 2, arbitrary: hostileExpr(mode) }, { weight: 3, arbitrary: safeExpr(mode, 3) });
const readExpr = anyExpr('read');
const updateExpr = anyExpr('update');
const insertExpr = anyExpr('insert');

const FROMS = ['app.t', 'app.t AS t', 't', 'app.t t JOIN app.pub p ON p.id = t.id', 'app.t t LEFT JOIN app.t u ON u.id = t.n', 'app.t t, app.pub', 'app.t t CROSS JOIN (SELECT 1 AS one) o'];

/** A function called in FROM, in its forms (plain, LATERAL, ROWS FROM, WITH ORDINALITY). */
const fromCall: fc.Arbitrary<string> = fc.tuple(pick(DANGERS), fc.nat(), pick(['SELECT * FROM %c AS r', 'SELECT r.* FROM app.t t, LATERAL %c AS r', 'SELECT * FROM ROWS FROM (%c) AS r', 'SELECT * FROM %c WITH ORDINALITY AS r', 'SELECT title FROM app.t WHERE EXISTS (SELECT 1 FROM %c AS r)'])).map(
  ([d, i, form]) => form.replace('%c', `${d.name}(${d.args[i % d.args.length]!.join(', ')})`),
);

const read: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(readExpr, pick(FROMS), safeExpr('read', 2), pick(['', ' ORDER BY 1', ' LIMIT 3', ' ORDER BY 1 DESC LIMIT 2 OFFSET 1'])).map(([e, f, w, tail]) => `SELECT ${e} AS v FROM ${f} WHERE (${w}) IS NOT NULL${tail}`),
  fc.tuple(readExpr, pick(FROMS)).map(([e, f]) => `SELECT title FROM ${f} WHERE (${e}) IS NOT NULL`),
  fc.tuple(readExpr, readExpr).map(([a, b]) => `SELECT (${a})::text AS v FROM app.t UNION ALL SELECT (${b})::text FROM app.t`),
  fc.tuple(readExpr, readExpr).map(([a, b]) => `SELECT (${a})::text FROM app.t INTERSECT SELECT (${b})::text FROM app.t EXCEPT SELECT title FROM app.pub`),
  readExpr.map((e) => `WITH c AS (SELECT ${e} AS v, t.* FROM app.t t) SELECT v, title FROM c`),
  readExpr.map((e) => `WITH RECURSIVE r(x) AS (SELECT (${e})::text UNION ALL SELECT x FROM r WHERE false) SELECT x FROM r`),
  readExpr.map((e) => `SELECT s.v FROM (SELECT ${e} AS v, title FROM app.t) s WHERE s.title IS NOT NULL`),
  readExpr.map((e) => `SELECT s.title, l.v FROM app.t s, LATERAL (SELECT (${e})::text AS v) l`),
  readExpr.map((e) => `SELECT title, count(*) FROM app.t t GROUP BY GROUPING SETS ((title), ()) HAVING (${e}) IS NOT NULL`),
  readExpr.map((e) => `SELECT n, max(title) FROM app.t GROUP BY ROLLUP (n) ORDER BY (${e})::text`),
  readExpr.map((e) => `SELECT DISTINCT ON (n) n, (${e})::text FROM app.t ORDER BY n`),
  readExpr.map((e) => `SELECT string_agg((${e})::text, ',' ORDER BY id) FROM app.t`),
  readExpr.map((e) => `SELECT row_number() OVER w, (${e})::text FROM app.t WINDOW w AS (ORDER BY id)`),
  readExpr.map((e) => `VALUES ((${e})::text), ('x')`),
  readExpr.map((e) => `SELECT * FROM (VALUES ((${e})::text)) AS v(x)`),
  readExpr.map((e) => `SELECT title FROM app.t WHERE id IN (SELECT id FROM app.t WHERE (${e}) IS NOT NULL)`),
  readExpr.map((e) => `SELECT (${e})::text FROM app.t FOR UPDATE`),
  readExpr.map((e) => `SELECT (${e})::text FROM app.t TABLESAMPLE SYSTEM (50)`),
  readExpr.map((e) => `EXECUTE AS USER 'alice' (SELECT (${e})::text FROM app.t)`),
  fromCall,
);

const id = fc.integer({ min: 100, max: 1_000_000 });
const write: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(id, insertExpr, pick(['', ' RETURNING *', ' RETURNING title'])).map(([i, e, r]) => `INSERT INTO app.t (id, title) VALUES (${i}, (${e})::text)${r}`) },
  { weight: 2, arbitrary: fc.tuple(id, insertExpr, insertExpr).map(([i, a, b]) => `INSERT INTO app.t (id, title, n) VALUES (${i}, (${a})::text, length((${b})::text)), (${i + 1}, 'y', 1)`) },
  { weight: 3, arbitrary: fc.tuple(updateExpr, safeExpr('update', 2), pick(['', ' RETURNING title'])).map(([e, w, r]) => `UPDATE app.t SET title = (${e})::text WHERE (${w}) IS NOT NULL${r}`) },
  { weight: 2, arbitrary: updateExpr.map((e) => `UPDATE app.t AS x SET n = length((${e})::text) RETURNING *`) },
  { weight: 2, arbitrary: fc.tuple(updateExpr, pick(['', ' RETURNING *'])).map(([e, r]) => `DELETE FROM app.t WHERE (${e}) IS NOT NULL${r}`) },
  { weight: 2, arbitrary: updateExpr.map((e) => `UPDATE app.t SET doc = to_jsonb((${e})::text) WHERE id = 1`) },
  { weight: 1, arbitrary: fc.tuple(id, insertExpr).map(([i, e]) => `INSERT INTO app.t (id, title) VALUES (${i}, (${e})::text) ON CONFLICT DO NOTHING`) },
  { weight: 1, arbitrary: fc.tuple(id, insertExpr).map(([i, e]) => `WITH c AS (SELECT 1) INSERT INTO app.t (id, title) VALUES (${i}, (${e})::text)`) },
);

/** One statement: reads and writes in equal parts. */
export const statement: fc.Arbitrary<GeneratedStatement> = fc.oneof(
  read.map((sql) => ({ kind: 'read' as const, sql })),
  write.map((sql) => ({ kind: 'write' as const, sql })),
);

/** The names the generator calls, for the test to report what it covered. */
export const DANGEROUS_FUNCTIONS: readonly string[] = DANGERS.map((d) => d.name);
