// Write benchmark (issue 3): single-row INSERTs through POST /v1/api/sql from 50 concurrent
// clients across 100 users, against the real local stack (every service its own process, NATS
// and a durable PostgreSQL on this machine). Baseline, in the same run: postgres.js inserting
// the same rows straight into the same PostgreSQL, 50 at a time. Then an open-loop run at half
// the acknowledged rate the closed loop reached, for the latency target (issue 15). Then
// 10-statement transactions (BEGIN; 10 INSERTs; COMMIT, issue 16) from the same 50 clients:
// statements/s against the single-statement writes of the same run.
import postgres from 'postgres';
import { measureCpu } from '../lib/cpu.ts';
import { setUpMessages, SqlClient } from '../lib/http.ts';
import { runLocalStack } from '../lib/local-stack.ts';
import { closedLoop, openLoop, type LoadResult } from '../lib/stats.ts';

const USERS = 100;
const CLIENTS = 50;
/** Statements per transaction in the transaction case. */
const TX_STATEMENTS = 10;

export interface WriteBenchResult {
  readonly http: LoadResult;
  readonly direct: LoadResult;
  readonly paced: LoadResult;
  /** Writes/s offered in the paced run: half the closed loop's acknowledged rate. */
  readonly pacedRate: number;
  /** CPU ms per acknowledged write during the closed loop, by process (the bench client included). */
  readonly cpuPerWrite: Map<string, number>;
  /** The closed loop of TX_STATEMENTS-statement transactions (one `ok` = one committed transaction). */
  readonly transactions: LoadResult;
}

export async function runWriteBench({ smoke }: { smoke: boolean }): Promise<WriteBenchResult> {
  const ms = smoke ? 1500 : 10_000;
  const users = smoke ? 4 : USERS;
  await using stack = await runLocalStack();
  const client = new SqlClient(stack.url, CLIENTS * 2);
  const tokens = await setUpMessages(client, stack, users);

  let firstFailure: string | undefined;
  const send = async (token: string, sql: string, params?: readonly unknown[]): Promise<boolean> => {
    const r = await client.sql(token, sql, params).catch((err: unknown) => err as Error);
    if (r instanceof Error) {
      firstFailure ??= `${r.message} (${String((r.cause as Error | undefined)?.message ?? '')})`;
      return false;
    }
    if (r.status !== 200) firstFailure ??= `${r.status} ${r.text.slice(0, 300)}`;
    return r.status === 200;
  };
  const insert = (i: number): Promise<boolean> => send(tokens[i % users]!, 'INSERT INTO bench.messages (body, n) VALUES ($1, $2)', [`message ${i}`, i]);
  // Every transaction has the same text (as the single insert has one text with parameters): a
  // transaction takes no parameters, so its values are literals.
  const transactionSql = `BEGIN; ${Array.from({ length: TX_STATEMENTS }, (_, k) => `INSERT INTO bench.messages (body, n) VALUES ('transaction', ${k})`).join('; ')}; COMMIT`;
  const transaction = (i: number): Promise<boolean> => send(tokens[i % users]!, transactionSql);
  await closedLoop(insert, CLIENTS, Math.min(2000, ms / 4)); // warm-up
  const measuring = await measureCpu(stack.pid);
  const http = await closedLoop(insert, CLIENTS, ms);
  const cpu = await measuring.stop();
  const cpuPerWrite = new Map([...cpu].filter(([, v]) => v > 0).map(([k, v]) => [k, v / Math.max(1, http.ok)]));

  const db = postgres(stack.postgresUrl, { max: CLIENTS, onnotice: () => {} });
  await db`CREATE TABLE public.bench_direct (_user_id text NOT NULL, id bigint NOT NULL, body text NOT NULL, n int, PRIMARY KEY (_user_id, id))`;
  let id = 0n;
  const direct = await closedLoop(async (i) => {
    await db`INSERT INTO public.bench_direct (_user_id, id, body, n) VALUES (${`user${i % users}`}, ${String(++id)}, ${`message ${i}`}, ${i})`;
    return true;
  }, CLIENTS, ms);
  await db.end();

  // The latency target is taken at half the acknowledged rate the closed loop reached (issue 15).
  const pacedRate = smoke ? 100 : Math.max(100, Math.round(http.ok / http.seconds / 2));
  const paced = await openLoop(insert, pacedRate, ms);
  const transactions = await closedLoop(transaction, CLIENTS, ms);
  client.close();
  const result = { http, direct, paced, pacedRate, cpuPerWrite, transactions };
  report(result, smoke);
  if (firstFailure !== undefined) console.log(`first failed request: ${firstFailure}`);
  return result;
}

function report(r: WriteBenchResult, smoke: boolean): void {
  const rate = (x: LoadResult): number => x.ok / x.seconds;
  const f = (n: number): string => Math.round(n).toLocaleString('en-US');
  const ms = (n: number): string => `${n.toFixed(1)} ms`;
  console.log(`\nwrite benchmark${smoke ? ' (smoke run)' : ''}: single-row INSERT, ${CLIENTS} concurrent clients, ${r.http.seconds.toFixed(0)} s per case\n`);
  console.log(`${'case'.padEnd(44)}${'writes/s'.padStart(10)}${'p50'.padStart(10)}${'p99'.padStart(10)}${'failed'.padStart(8)}`);
  const row = (name: string, x: LoadResult): void => console.log(`${name.padEnd(44)}${f(rate(x)).padStart(10)}${ms(x.p50).padStart(10)}${ms(x.p99).padStart(10)}${String(x.failed).padStart(8)}`);
  row('POST /v1/api/sql (acknowledged)', r.http);
  row('postgres.js direct INSERT (baseline)', r.direct);
  row(`POST /v1/api/sql paced at ${f(r.pacedRate)}/s`, r.paced);
  const statements = (rate(r.transactions) * TX_STATEMENTS) / rate(r.http);
  console.log(`\n${TX_STATEMENTS}-statement transactions (BEGIN; ${TX_STATEMENTS} INSERTs; COMMIT), ${CLIENTS} concurrent clients:`);
  console.log(`${'case'.padEnd(44)}${'stmts/s'.padStart(10)}${'p50'.padStart(10)}${'p99'.padStart(10)}${'failed'.padStart(8)}`);
  const txRow = (name: string, x: LoadResult, perRequest: number): void => console.log(`${name.padEnd(44)}${f(rate(x) * perRequest).padStart(10)}${ms(x.p50).padStart(10)}${ms(x.p99).padStart(10)}${String(x.failed).padStart(8)}`);
  txRow('single-statement INSERTs (closed loop above)', r.http, 1);
  txRow(`${TX_STATEMENTS}-statement transactions (${f(rate(r.transactions))}/s)`, r.transactions, TX_STATEMENTS);
  console.log(`statements/s in transactions / single statements: ${statements.toFixed(1)}x`);
  const cpuRows = [...r.cpuPerWrite].sort((a, b) => b[1] - a[1]);
  const total = cpuRows.reduce((sum, [, v]) => sum + v, 0);
  console.log(`\nCPU per acknowledged write (closed loop): ${total.toFixed(2)} ms in all; ${cpuRows.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
  const ratio = rate(r.http) / rate(r.direct);
  console.log(`ratio acknowledged / direct: ${(ratio * 100).toFixed(0)}%`);
  console.log(`target: >= 35% of direct inserts: ${(ratio * 100).toFixed(0)}% ${ratio >= 0.35 ? 'MET' : 'MISSED'}`);
  const p99Ratio = r.paced.p99 / r.direct.p99;
  console.log(`target: p99 at half the acknowledged rate < 4x the direct insert's p99: ${ms(r.paced.p99)} = ${p99Ratio.toFixed(1)}x ${p99Ratio < 4 ? 'MET' : 'MISSED'}`);
}
