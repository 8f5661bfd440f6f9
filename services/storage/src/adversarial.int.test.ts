// The generative adversarial test of isolation (issue 10): random hostile SQL from
// adversarial/sql-gen.test-util.ts, run as the user `alice` exactly as the system runs it —
// reads through storage's runQuery (the rewrite, then the read-only transaction as
// seqline_reader), writes through the write service's check (validateWrite) and storage's
// applyOp (planDml and its statements) inside a transaction that is rolled back. Another
// user's rows, a SHARED PRIVATE table, seqline.users and a database setting hold CANARY values.
//
// Oracles, per statement:
//   (a) no CANARY in an answer, a RETURNING row, an error message, or alice's own rows after
//       a write (the write path runs as the table owner, so the rewrite is its only wall);
//   (b) every function and cast type in the plan of each statement that runs (EXPLAIN
//       (VERBOSE, FORMAT JSON) of the rewritten SQL and of each write plan statement) is on
//       the allow-list (adversarial/plan-oracle.test-util.ts).
// Refusals by the rewrite are fine; the test also asserts that a healthy share of statements
// is admitted, so it cannot pass by refusing everything.
//
// SEQLINE_ADVERSARIAL_RUNS (statements, default 10000) and SEQLINE_ADVERSARIAL_SEED (default
// 20261202) choose a longer or different run.
import { asSeqId } from '@seqline/seq';
import type { SequencerClient } from '@seqline/sequencer-client';
import type { Actor } from '@seqline/domain';
import { initSql, parseStatements, rewriteSelect, SqlError, validateWrite, type Statement } from '@seqline/sql';
import { createTestDatabase } from '@seqline/testkit';
import fc from 'fast-check';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdmin } from './admin.js';
import { planFindings, violations } from './adversarial/plan-oracle.test-util.js';
import { statement, type GeneratedStatement } from './adversarial/sql-gen.test-util.js';
import { applyOp, type Exec } from './apply/apply-op.js';
import { CatalogCache } from './catalog.js';
import { connectPostgres } from './db.js';
import { IdPool } from './ids.js';
import { migrate } from './migrations.js';
import { bootstrapPrivileges } from './privileges.js';
import { runQuery, type QueryContext } from './query.js';

const RUNS = Number(process.env['SEQLINE_ADVERSARIAL_RUNS'] ?? 10_000);
const SEED = Number(process.env['SEQLINE_ADVERSARIAL_SEED'] ?? 20261202);
const BATCH = 100;
const ALICE: Actor = { userId: 'alice', role: 'user' };
const CANARY = /canary/i;

const DDL = [
  'CREATE NAMESPACE app',
  "CREATE TABLE app.t (id BIGINT PRIMARY KEY, title TEXT, n INT, doc JSON) WITH (TYPE='USER')",
  "CREATE TABLE app.pub (id INT PRIMARY KEY, title TEXT) WITH (TYPE='SHARED', ACCESS_LEVEL='PUBLIC')",
  "CREATE TABLE app.priv (id INT PRIMARY KEY, secret TEXT) WITH (TYPE='SHARED', ACCESS_LEVEL='PRIVATE')",
];

// alice's rows hold texts that make a dangerous call interesting: a setting's name, a file, a
// query over bob's rows.
const DATA = [
  `INSERT INTO app.t (_user_id, id, title, n, doc, _seq, _deleted) VALUES
     ('alice', 1, 'port', 1, '{"k": "a"}', 1, false), ('alice', 2, 'postgresql.auto.conf', 2, NULL, 2, false),
     ('alice', 3, 'SELECT title::tsvector FROM app.t', 3, NULL, 3, false), ('alice', 4, 'seqline.hidden', 4, NULL, 4, false),
     ('alice', 5, 'alice-gone', 5, NULL, 5, true),
     ('bob', 1, 'CANARY-bob-1', 1, '{"k": "CANARY-bob-doc"}', 6, false), ('bob', 7, 'CANARY-bob-7', 7, NULL, 7, false),
     ('bob', 8, 'CANARY-bob-deleted', 8, NULL, 8, true)`,
  `INSERT INTO app.pub (id, title, _seq, _deleted) VALUES (1, 'port', 9, false), (2, 'pub-gone', 10, true)`,
  `INSERT INTO app.priv (id, secret, _seq, _deleted) VALUES (1, 'CANARY-priv', 11, false)`,
  `INSERT INTO seqline.users (user_id, password_hash, role, email) VALUES ('bob', 'CANARY-hash', 'user', 'CANARY-mail@example.com')`,
];

interface Stats {
  statements: number;
  reads: number;
  writes: number;
  refused: number;
  ran: number;
  failed: number;
  readonly refusals: Map<string, number>;
}

const stats: Stats = { statements: 0, reads: 0, writes: 0, refused: 0, ran: 0, failed: 0, refusals: new Map() };
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let sql: postgres.Sql;
let runtime: postgres.Sql;
let catalog: CatalogCache;
let ids: IdPool;

beforeAll(async () => {
  await initSql();
  db = await createTestDatabase();
  // A setting only the server knows: current_setting('seqline.hidden') must never answer.
  const admin = postgres(db.url, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`ALTER DATABASE "${(await admin<{ d: string }[]>`SELECT current_database() AS d`)[0]!.d}" SET seqline.hidden = 'CANARY-setting'`);
  await admin.end();
  // As in production: the roles and grants made with the admin URL, the meta schema and the
  // tables owned by storage's runtime role, reads run on its connection (as seqline_reader).
  // Writes and the data set-up use the superuser's, so a write's only wall is the rewrite.
  await bootstrapPrivileges(db.url, db.runtimeUrl);
  sql = connectPostgres(db.url, { max: 8 });
  runtime = connectPostgres(db.runtimeUrl, { max: 8 });
  await migrate(runtime);
  catalog = new CatalogCache(runtime);
  await catalog.reload();
  for (const text of DDL) await runAdmin({ sql: runtime, catalog, hashPartitions: 4 }, parseStatements(text)[0] as never, { userId: 'root', role: 'dba' });
  for (const text of DATA) await sql.unsafe(text);
  ids = new IdPool(fakeSequencer(), 1000);
});

afterAll(async () => {
  await sql.end();
  await runtime.end();
  await db[Symbol.asyncDispose]();
});

function fakeSequencer(): SequencerClient {
  let next = 1_000_000n;
  return {
    allocate: async (count) => {
      const first = next;
      next += BigInt(count);
      return { ranges: [{ first: asSeqId(first), count }], workerId: 0 };
    },
    close: () => undefined,
  };
}

/** Thrown to roll a write's transaction back after it has been checked. */
class Rollback extends Error {}

/** Everything attacker-visible about an error: its message, details and its causes'. */
function errorText(err: unknown): string {
  const parts: string[] = [];
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    const rec = e as { message?: unknown; detail?: unknown; hint?: unknown; where?: unknown; cause?: unknown };
    parts.push(text(rec.message), text(rec.detail), text(rec.hint), text(rec.where));
    e = rec.cause;
  }
  return typeof err === 'object' && err !== null ? parts.join(' | ') : String(err);
}

function refusal(err: unknown): string | undefined {
  return err instanceof SqlError ? err.code : undefined;
}

type Run = (text: string, params: readonly unknown[]) => Promise<readonly Record<string, unknown>[]>;

/**
 * EXPLAIN of what is about to run; the plan's functions and types against the allow-list. A
 * statement that does not plan cannot run either: its error is rethrown (with `rethrow`) as
 * the statement's own.
 */
async function checkPlan(run: Run, text: string, params: readonly unknown[], extra: readonly string[], rethrow: boolean): Promise<string[]> {
  let rows: readonly Record<string, unknown>[];
  try {
    rows = await run(`EXPLAIN (VERBOSE, FORMAT JSON) ${text}`, params);
  } catch (err) {
    if (rethrow) throw err;
    return [];
  }
  const plan = rows[0]?.['QUERY PLAN'];
  return violations(planFindings(typeof plan === 'string' ? JSON.parse(plan) : plan), extra).map((v) => `${v} in plan of: ${text}`);
}

async function runRead(text: string): Promise<string[]> {
  const problems: string[] = [];
  let stmt: Statement | undefined;
  try {
    const stmts = parseStatements(text, { defaultNamespace: 'app' });
    stmt = stmts.length === 1 ? stmts[0] : undefined;
  } catch (err) {
    return refused(err, text);
  }
  const select = stmt?.kind === 'select' ? stmt : stmt?.kind === 'execute_as' && stmt.inner.kind === 'select' ? stmt.inner : undefined;
  if (select === undefined) return refused(new SqlError('UNSUPPORTED', 'not one SELECT'), text);
  const ctx: QueryContext = { sql: runtime, catalog, defaultLimit: 100, maxRows: 1000, timeoutMs: 2000 };
  let rewritten: string;
  try {
    rewritten = rewriteSelect(select, { catalog, actor: ALICE, defaultNamespace: 'app', defaultLimit: 100, maxRows: 1000 }).sql;
  } catch (err) {
    return refused(err, text);
  }
  const run = async (): Promise<void> => {
    try {
      const result = await runQuery(ctx, select, ALICE, [], 'app');
      stats.ran++;
      if (CANARY.test(JSON.stringify(result))) problems.push(`canary in the answer to: ${text}`);
    } catch (err) {
      stats.failed++;
      if (CANARY.test(errorText(err))) problems.push(`canary in the error of: ${text}: ${errorText(err)}`);
    }
  };
  // The plan (as the superuser, so that layer 2 hides nothing from it) and the run, at once.
  const [plan] = await Promise.all([checkPlan((t, p) => sql.unsafe(t, p as never[]), rewritten, [], [], false), run()]);
  return [...plan, ...problems];
}

async function runWrite(text: string): Promise<string[]> {
  let stmt: Statement | undefined;
  try {
    const stmts = parseStatements(text, { defaultNamespace: 'app' });
    stmt = stmts.length === 1 ? stmts[0] : undefined;
    if (stmt?.kind !== 'insert' && stmt?.kind !== 'update' && stmt?.kind !== 'delete') throw new SqlError('UNSUPPORTED', 'not one write');
    validateWrite(stmt, catalog, ALICE);
  } catch (err) {
    return refused(err, text);
  }
  const problems: string[] = [];
  const op = { opId: 'adv', actor: 'alice', actorRole: 'user', owner: 'alice', namespace: 'app', table: 't', statement: text, paramsJson: '', issuedAtUs: 1_795_482_123_456_789n, replyTo: '', traceparent: '', statements: [] };
  try {
    await sql.begin(async (tx) => {
      const run = async (t: string, p: readonly unknown[]): Promise<Record<string, unknown>[]> => (await tx.unsafe(t, p as never[])).map((r) => ({ ...r }));
      const exec: Exec = async (t, p) => {
        problems.push(...(await checkPlan(run, t, p, ['unnest'], true)));
        return run(t, p);
      };
      const applied = await applyOp(exec, op, { catalog, ids, seqFloor: { value: 0n } });
      const mine = await run(`SELECT * FROM app.t WHERE _user_id = 'alice'`, []);
      if (CANARY.test(JSON.stringify(applied, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))) problems.push(`canary in the result of: ${text}`);
      if (CANARY.test(JSON.stringify(mine))) problems.push(`canary written into alice's rows by: ${text}`);
      throw new Rollback();
    });
  } catch (err) {
    if (err instanceof Rollback) {
      stats.ran++;
      return problems;
    }
    if (refusal(err) !== undefined) return refused(err, text);
    stats.failed++;
    if (CANARY.test(errorText(err))) problems.push(`canary in the error of: ${text}: ${errorText(err)}`);
  }
  return problems;
}

function refused(err: unknown, text: string): string[] {
  const code = refusal(err);
  if (code === undefined) return [`not a refusal (${errorText(err)}) for: ${text}`];
  stats.refused++;
  stats.refusals.set(code, (stats.refusals.get(code) ?? 0) + 1);
  return [];
}

async function check(s: GeneratedStatement): Promise<string[]> {
  stats.statements++;
  if (s.kind === 'read') stats.reads++;
  else stats.writes++;
  return s.kind === 'read' ? runRead(s.sql) : runWrite(s.sql);
}

function summary(started: number): string {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  return `${stats.statements} statements (${stats.reads} reads, ${stats.writes} writes) in ${seconds} s, seed ${SEED}: ` +
    `${stats.refused} refused ${JSON.stringify(Object.fromEntries(stats.refusals))}, ${stats.ran} ran, ${stats.failed} failed in PostgreSQL, 0 violations`;
}

describe('adversarial SQL as a user', () => {
  it(`${RUNS} random hostile statements: no canary anywhere, only allowed functions in every plan`, async () => {
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.array(statement, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const problems = (await Promise.all(batch.map(check))).flat();
        if (problems.length > 0) throw new Error(problems.slice(0, 5).join('\n'));
        if (stats.statements % 10_000 === 0) process.stdout.write(`adversarial: ${summary(started)}\n`);
      }),
      { seed: SEED, numRuns: Math.ceil(RUNS / BATCH) },
    );
    // The figures of the README (and progress above, every 10,000 statements).
    process.stdout.write(`adversarial: ${summary(started)}\n`);
    expect(stats.statements).toBeGreaterThanOrEqual(RUNS);
    // Admitted by the rewrite (then run, or failed in PostgreSQL on types and the like).
    expect((stats.ran + stats.failed) / stats.statements).toBeGreaterThan(0.3);
    expect(stats.ran / stats.statements).toBeGreaterThan(0.15);
  }, 600_000 + RUNS * 20);
});
