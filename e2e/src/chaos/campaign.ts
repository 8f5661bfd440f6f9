// One fault campaign, start to finish: start the chaos cluster, create the workload's tables and
// accounts, run writers and subscribers while the nemesis injects faults, then let the cluster
// settle (writers stop, every subscriber comes back and catches up), record the final state
// (each client's rows, each query's rows and every table read straight from PostgreSQL, the
// change log from JetStream) and run the checker over the history file.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { busNames } from '@seqline/bus';
import { busPb } from '@seqline/proto';
import { SHARED_OWNER } from '@seqline/domain';
import { pause, readSubject } from '@seqline/testkit';
import postgres from 'postgres';
import { check, type CheckResult } from './checker.js';
import { startChaosCluster, type ChaosCluster } from './cluster.js';
import { HistoryWriter, readHistory } from './history.js';
import { Nemesis, type FaultKind, type FaultRecord } from './nemesis.js';
import { seeded } from './random.js';
import { BOARD, NOTES, normalRow, setupWorkload, type Workload } from './workload.js';

export interface CampaignOptions {
  readonly dir: string;
  readonly seed: number;
  readonly faults: number;
  /** Stop injecting after this long even if fewer faults ran (ms). */
  readonly maxMs?: number;
  /** How long after the last fault every subscriber has to converge (ms); the checker's bound. */
  readonly boundMs?: number;
  readonly log?: (line: string) => void;
  /** Workload size. */
  readonly users?: number;
  readonly writers?: number;
  readonly subscribers?: number;
  readonly durationMs?: readonly [number, number];
  readonly gapMs?: readonly [number, number];
  readonly kinds?: readonly FaultKind[];
}

export interface CampaignResult {
  readonly historyPath: string;
  readonly result: CheckResult;
  readonly faults: readonly FaultRecord[];
  /** Services that exited by themselves (and were restarted), by name. */
  readonly unplannedExits: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
}

export async function runCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const bound = options.boundMs ?? 30_000;
  await mkdir(options.dir, { recursive: true });
  const historyPath = join(options.dir, 'history.jsonl');
  const history = new HistoryWriter(historyPath);
  const random = seeded(options.seed);
  const clientLog = createWriteStream(join(options.dir, 'clients.log'), { flags: 'a' });
  log(`cluster starting in ${options.dir}`);
  await using cluster = await startChaosCluster({ dir: join(options.dir, 'cluster'), log });
  log('cluster up; workload starting');
  const workload = await setupWorkload({
    gateways: cluster.gateways,
    admin: cluster.admin,
    history,
    random: seeded(options.seed + 1),
    trace: (line) => clientLog.write(`${new Date().toISOString()} ${line}\n`),
    ...(options.users === undefined ? {} : { users: options.users }),
    ...(options.writers === undefined ? {} : { writers: options.writers }),
    ...(options.subscribers === undefined ? {} : { subscribers: options.subscribers }),
  });
  const nemesis = new Nemesis({ cluster, history, random, log, ...(options.durationMs ? { durationMs: options.durationMs } : {}), ...(options.gapMs ? { gapMs: options.gapMs } : {}), ...(options.kinds ? { kinds: options.kinds } : {}) });
  try {
    workload.start();
    await nemesis.run(options.faults, started + (options.maxMs ?? Infinity));
    log(`${nemesis.faults.length} faults done; settling`);
    await workload.stop();
    await settle(workload, bound);
    await recordFinal(cluster, workload, history);
  } finally {
    await workload.close();
    await history.close();
    clientLog.end();
  }
  const unplannedExits = Object.fromEntries([...cluster.services].filter(([, s]) => s.unplannedExits > 0).map(([name, s]) => [name, s.unplannedExits]));
  const result = check(await readHistory(historyPath), { bound });
  return { historyPath, result, faults: nemesis.faults, unplannedExits, elapsedMs: Date.now() - started };
}

/** Waits (up to `bound` ms) until every subscriber is back, subscribed, and quiet for a moment. */
async function settle(workload: Workload, bound: number): Promise<void> {
  const deadline = Date.now() + bound;
  while (Date.now() < deadline && !workload.subscribers.every((s) => s.connected)) await pause(100);
  // No event for a second: what is in flight has arrived (the checker judges whether it is all).
  let last = -1;
  while (Date.now() < deadline) {
    const seen = workload.subscribers.reduce((n, s) => n + s.rows.size + Number(s.lastSeq ?? 0n), 0);
    if (seen === last) break;
    last = seen;
    await pause(1000);
  }
}

async function recordFinal(cluster: ChaosCluster, workload: Workload, history: HistoryWriter): Promise<void> {
  const t = Date.now();
  const sql = postgres(cluster.postgresUrl, { max: 1, onnotice: () => undefined });
  try {
    for (const s of workload.subscribers) {
      history.append({ type: 'final-client', t, client: s.name, subId: s.subId, rows: [...s.rows.values()] });
      const rows =
        s.kind === 'board'
          ? await sql.unsafe(`SELECT id, body, n FROM ${BOARD} WHERE NOT _deleted AND ${s.where}`)
          : await sql.unsafe(`SELECT id, body, n FROM ${NOTES} WHERE _user_id = $1 AND NOT _deleted AND ${s.where}`, [s.owner]);
      history.append({ type: 'final-query', t, client: s.name, subId: s.subId, rows: rows.map((r) => normalRow(r)) });
    }
    const notes = await sql.unsafe(`SELECT _user_id AS owner, id, body, n FROM ${NOTES} WHERE NOT _deleted`);
    history.append({ type: 'final-table', t, table: NOTES, rows: notes.map((r) => ({ ...normalRow(r), owner: String(r['owner']) })) });
    const board = await sql.unsafe(`SELECT id, body, n FROM ${BOARD} WHERE NOT _deleted`);
    history.append({ type: 'final-table', t, table: BOARD, rows: board.map((r) => ({ ...normalRow(r), owner: '*' })) });
  } finally {
    await sql.end();
  }
  // The change log of every partition the workload wrote.
  const names = busNames(cluster.prefix);
  const partitions = [...workload.accounts.filter((a) => a.name !== 'board_svc').map((a) => [NOTES, a.name] as const), [BOARD, '*'] as const];
  for (const [table, owner] of partitions) {
    const [ns, tbl] = table.split('.') as [string, string];
    const subject = names.changes(owner === '*' ? SHARED_OWNER : owner, ns, tbl);
    for (const m of await readSubject(names.changesStream, subject, cluster.nats.urls)) {
      const change = busPb.Change.decode(m.data);
      for (const row of change.rows) {
        const image = JSON.parse(row.kind === 'delete' ? row.oldJson : row.newJson) as Record<string, unknown>;
        history.append({ type: 'final-log', t, partition: `${table}/${owner}`, rowId: String(image['id']), seq: change.seq.toString(), prevSeq: change.prevSeq.toString() });
      }
    }
  }
}
