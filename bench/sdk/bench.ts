// SDK benchmark (issue 5): a snapshot of 100,000 rows loaded into the SDK's live() through the
// real local stack (storage's Snapshot stream → gateway → WebSocket → the SDK's materialized
// rows), against the physical limit: postgres.js reading the same rows from the same
// PostgreSQL, in the same run. Figures: rows/s, the time to the first rows on screen (the
// first onRows call), and the ratio to the direct read.
import { cpus, loadavg } from 'node:os';
import { createClient, type LiveInfo } from '@seqline/client/node';
import postgres from 'postgres';
import WebSocket from 'ws';
import { SqlClient } from '../lib/http.ts';
import { runLocalStack } from '../lib/local-stack.ts';

export interface SdkBenchResult {
  readonly rows: number;
  /** Best of the runs: ms from live() to the snapshot's last row in onRows. */
  readonly liveMs: number;
  readonly firstRowsMs: number;
  readonly directMs: number;
  /** The same snapshot over a bare WebSocket, each frame JSON.parse'd and nothing else: the protocol's own cost. */
  readonly rawMs: number;
  readonly runs: number;
}

const CHUNK = 1000;

export async function runSdkBench({ smoke }: { smoke: boolean }): Promise<SdkBenchResult> {
  const rows = smoke ? 5000 : 100_000;
  const runs = smoke ? 1 : 3;
  await using stack = await runLocalStack();
  const http = new SqlClient(stack.url, 8);
  const admin = await http.login(stack.user, stack.password);
  await http.setup(admin, ['CREATE NAMESPACE bench', "CREATE TABLE bench.items (id BIGINT PRIMARY KEY, title TEXT NOT NULL, priority INT, status TEXT, updated_at TIMESTAMP DEFAULT NOW()) WITH (TYPE='USER')", "CREATE USER reader WITH PASSWORD 'reader-pass-1' ROLE user"]);
  const token = await http.login('reader', 'reader-pass-1');
  for (let start = 0; start < rows; start += CHUNK) {
    const values = Array.from({ length: Math.min(CHUNK, rows - start) }, (_, i) => `(${start + i + 1}, 'ticket number ${start + i + 1} about something', ${(start + i) % 5}, '${(start + i) % 3 === 0 ? 'open' : 'closed'}')`).join(', ');
    const r = await http.sql(token, `INSERT INTO bench.items (id, title, priority, status) VALUES ${values}`);
    if (r.status !== 200) throw new Error(`insert failed: ${r.status} ${r.text.slice(0, 200)}`);
  }

  const live: { total: number; first: number }[] = [];
  for (let run = 0; run < runs; run++) {
    const client = createClient({ url: stack.url, auth: { jwt: token } });
    const started = performance.now();
    let first = 0;
    const done = new Promise<number>((resolve, reject) => {
      const stop = client.live(
        'SELECT id, title, priority, status, updated_at FROM bench.items',
        (current, info: LiveInfo) => {
          if (first === 0 && current.length > 0) first = performance.now() - started;
          if (info.status === 'ready') {
            stop();
            if (current.length === rows) resolve(performance.now() - started);
            else reject(new Error(`live() ended with ${current.length} rows, expected ${rows}`));
          }
        },
        { batchSize: 5000, onError: reject },
      );
    });
    live.push({ total: await done, first });
    client.close();
  }

  const raw: number[] = [];
  for (let run = 0; run < runs; run++) raw.push(await rawSnapshot(stack.url, token, rows));

  const db = postgres(stack.postgresUrl, { max: 1, onnotice: () => {} });
  const direct: number[] = [];
  for (let run = 0; run < runs; run++) {
    const t0 = performance.now();
    const got = await db`SELECT id, title, priority, status, updated_at, _seq FROM bench.items WHERE _user_id = 'reader' AND NOT _deleted ORDER BY _seq`;
    direct.push(performance.now() - t0);
    if (got.length !== rows) throw new Error(`direct read got ${got.length} rows`);
  }
  await db.end();

  const best = live.reduce((a, b) => (b.total < a.total ? b : a));
  const result: SdkBenchResult = { rows, liveMs: best.total, firstRowsMs: best.first, directMs: Math.min(...direct), rawMs: Math.min(...raw), runs };
  report(result, live, direct, raw, smoke);
  return result;
}

/** ms from opening a socket to the snapshot's last batch, parsing each frame and nothing more. */
async function rawSnapshot(url: string, token: string, rows: number): Promise<number> {
  const started = performance.now();
  const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/ws?compress=false`, { headers: { authorization: `Bearer ${token}` } });
  let got = 0;
  const done = new Promise<number>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as { type: string; rows?: unknown[]; batch_control?: { status: string } };
      if (m.type === 'auth_success') ws.send(JSON.stringify({ type: 'subscribe', subscription: { id: 's', sql: 'SELECT id, title, priority, status, updated_at FROM bench.items', options: { batch_size: 5000 } } }));
      if (m.type === 'initial_data_batch') got += m.rows!.length;
      if (m.type === 'initial_data_batch' && m.batch_control?.status === 'ready') resolve(performance.now() - started);
      if (m.type === 'error') reject(new Error(JSON.stringify(m)));
    });
    ws.on('error', reject);
  });
  const ms = await done;
  ws.close();
  if (got !== rows) throw new Error(`the raw snapshot had ${got} rows, expected ${rows}`);
  return ms;
}

function report(r: SdkBenchResult, live: readonly { total: number; first: number }[], direct: readonly number[], raw: readonly number[], smoke: boolean): void {
  const rate = (ms: number): number => Math.round((r.rows / ms) * 1000);
  const f = (n: number): string => n.toLocaleString('en-US');
  console.log(`\nsdk benchmark${smoke ? ' (smoke run)' : ''}: a snapshot of ${f(r.rows)} rows into live(), ${r.runs} run(s), best shown\n`);
  console.log(`${'case'.padEnd(52)}${'rows/s'.padStart(12)}${'time'.padStart(12)}`);
  console.log(`${'SDK live(): snapshot to ready (batch_size 5000)'.padEnd(52)}${f(rate(r.liveMs)).padStart(12)}${`${r.liveMs.toFixed(0)} ms`.padStart(12)}`);
  console.log(`${'bare WebSocket, JSON.parse only (the protocol alone)'.padEnd(52)}${f(rate(r.rawMs)).padStart(12)}${`${r.rawMs.toFixed(0)} ms`.padStart(12)}`);
  console.log(`${'postgres.js SELECT of the same rows (baseline)'.padEnd(52)}${f(rate(r.directMs)).padStart(12)}${`${r.directMs.toFixed(0)} ms`.padStart(12)}`);
  console.log(`\nevery run: live() ${live.map((l) => `${l.total.toFixed(0)} ms (first rows ${l.first.toFixed(0)} ms)`).join(', ')}; bare WebSocket ${raw.map((d) => `${d.toFixed(0)} ms`).join(', ')}; direct ${direct.map((d) => `${d.toFixed(0)} ms`).join(', ')}`);
  console.log(`time to the first rows on screen: ${r.firstRowsMs.toFixed(0)} ms (${((r.firstRowsMs / r.liveMs) * 100).toFixed(0)}% of the total); load average ${loadavg()[0]!.toFixed(1)} (${cpus().length} cores)`);
  const ratio = r.directMs / r.liveMs;
  console.log(`ratio live() / direct read: ${(ratio * 100).toFixed(0)}%`);
  const firstShare = r.firstRowsMs / r.liveMs;
  console.log(`target (issue 15): >= 60% of the direct read: ${(ratio * 100).toFixed(0)}% ${ratio >= 0.6 ? 'MET' : 'MISSED'}`);
  console.log(`target (issue 15): first rows < 25% of the total: ${(firstShare * 100).toFixed(0)}% ${firstShare < 0.25 ? 'MET' : 'MISSED'}`);
}
