// The live benchmark's resume case (issue 15, docs/architecture.md §4 step 5): what a client that
// missed changes pays to catch up, against starting over, on partitions of several sizes.
//   Per partition (one user's rows of bench.messages): a snapshot gives the cursor, then 10
//   changes are written (8 inserts, an update and a delete of older rows). Then, in turns, on a
//   new socket each time (open + authenticate + subscribe, as a reconnecting client does), after
//   an unmeasured live-only subscribe (so the previous turn's snapshot's GC is not charged):
//   - resume: `from` = the cursor, until the 10 missed changes are received;
//   - live only (the baseline): the subscription's ack;
//   - snapshot: the whole partition, until its last batch.
//   Day-old cursor: the CHANGES stream is first filled with a million other owners' changes
//   (published straight to JetStream, the way storage publishes them), a partition gets 5 changes
//   before and 5 after them, and a client resumes from a cursor one day old (older than anything
//   in the log, inside its 7-day retention): it must get all 10.
// Each figure is the median of its turns, and every turn must deliver exactly what it should.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { busPb } from '@seqline/proto';
import { seqIdFloorForTime } from '@seqline/seq';
import WebSocket from 'ws';
import type { SqlClient } from '../lib/http.ts';

export interface ResumeConfig {
  /** Rows per partition, one partition per size. */
  readonly partitions: readonly number[];
  /** Turns of each of the three per partition. */
  readonly turns: number;
  /** Other owners' changes in the log before the day-old resume. */
  readonly otherChanges: number;
}

export const MISSED = 10;
/** The SDK's default ping interval and frame. */
const PING_MS = 4000;
const PING = JSON.stringify({ type: 'ping' });
const SQL = 'SELECT id, body, n FROM bench.messages';

export interface Timed {
  readonly ms: number;
  /** Bytes of the frames received (the auth answer included). */
  readonly bytes: number;
  /** Change events (resume) or rows (snapshot) received. */
  readonly count: number;
}

export interface ResumeRow {
  readonly name: string;
  readonly rows: number;
  readonly resume: Timed;
  readonly liveOnly: Timed;
  readonly snapshot: Timed;
  /** Which path the gateway took: the catch-up counters' increase over the resume turns. */
  readonly paths: Readonly<Record<string, number>>;
}

export interface ResumeResult {
  readonly rows: readonly ResumeRow[];
  readonly errors: readonly string[];
}

/** A server message as JSON.parse reads it (sequence ids lose precision: `text` has them exact). */
type Frame = { text: string; type: string; change_type?: string; rows?: { n?: unknown }[]; old_values?: unknown[]; batch_control?: { status?: string; has_more?: boolean }; code?: string; message?: string };

/**
 * One socket: opened with `token`, one subscription with `options` (none: live only), closed once
 * `done` says so; the time from opening the socket.
 */
async function timedSubscribe(url: string, token: string, options: Record<string, unknown> | undefined, done: (frames: readonly Frame[]) => boolean, deadlineMs = 120_000): Promise<Timed & { readonly frames: readonly Frame[] }> {
  const start = performance.now();
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/ws?compress=false`, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  const frames: Frame[] = [];
  let bytes = 0;
  // The SDK's ping: the gateway closes a socket silent for SEQLINE_WS_IDLE_MS (a large snapshot
  // on a loaded machine takes longer than that).
  const pinger = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(PING), PING_MS);
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${deadlineMs} ms; ${frames.length} frames`)), deadlineMs);
      ws.once('open', () => ws.send(JSON.stringify({ type: 'subscribe', subscription: { id: 'r', sql: SQL, ...(options === undefined ? {} : { options }) } })));
      ws.on('message', (data: Buffer) => {
        const text = data.toString('utf8');
        const frame = { ...(JSON.parse(text) as Omit<Frame, 'text'>), text };
        if (frame.type === 'pong') return;
        bytes += data.length;
        if (frame.type === 'error') reject(new Error(`${frame.code ?? ''} ${frame.message ?? ''}`));
        frames.push(frame);
        if (done(frames)) {
          clearTimeout(timer);
          const ms = performance.now() - start;
          resolve({ ms, bytes, count: frames.filter((f) => f.type === 'change').length + frames.reduce((n, f) => n + (f.type === 'initial_data_batch' ? (f.rows?.length ?? 0) : 0), 0), frames });
        }
      });
      ws.once('error', reject);
      ws.once('close', (code, reason) => reject(new Error(`closed with ${code} (${reason.toString()}) after ${frames.length} frames: ${frames.map((f) => f.text.slice(0, 160)).join(' | ').slice(-1500)}`)));
    });
  } finally {
    clearInterval(pinger);
    ws.removeAllListeners('close');
    ws.close(1000);
  }
}

const acked = (frames: readonly Frame[]): boolean => frames.some((f) => f.type === 'subscription_ack');
/** The missed changes end with a delete (the newest change of each case), in history and in the compacted view. */
const deleted = (frames: readonly Frame[]): boolean => frames.some((f) => f.type === 'change' && f.change_type === 'delete');
/** The snapshot's last batch (the ack of a one-batch snapshot says `ready` too, before its rows). */
const snapshotDone = (frames: readonly Frame[]): boolean => frames.some((f) => f.type === 'initial_data_batch' && f.batch_control?.status === 'ready');

function median(values: readonly Timed[]): Timed {
  const by = (k: keyof Timed): number => [...values.map((v) => v[k])].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  return { ms: by('ms'), bytes: by('bytes'), count: by('count') };
}

/** Inserts rows n = first … first + count − 1 into the token holder's partition, 500 per statement (as the window case seeds). */
async function fill(http: SqlClient, token: string, first: number, count: number): Promise<void> {
  for (let from = 0; from < count; from += 500) {
    const values = Array.from({ length: Math.min(500, count - from) }, (_, k) => `('resume row ${first + from + k}', ${first + from + k})`).join(', ');
    const r = await http.sql(token, `INSERT INTO bench.messages (body, n) VALUES ${values}`);
    if (r.status !== 200) throw new Error(`filling a partition failed: ${r.status} ${r.text.slice(0, 200)}`);
  }
}

async function write(http: SqlClient, token: string, sql: string, params: readonly unknown[]): Promise<void> {
  const r = await http.sql(token, sql, params);
  if (r.status !== 200) throw new Error(`${sql}: ${r.status} ${r.text.slice(0, 200)}`);
}

/** The 10 missed changes: 8 inserts (n from `first`), an update of row n = 0 and a delete of row n = 1 (of the partition's first rows). */
async function missChanges(http: SqlClient, token: string, first: number): Promise<void> {
  for (let k = 0; k < MISSED - 2; k++) await write(http, token, 'INSERT INTO bench.messages (body, n) VALUES ($1, $2)', [`missed ${first + k}`, first + k]);
  await write(http, token, 'UPDATE bench.messages SET body = $1 WHERE n = $2', ['updated', 0]);
  await write(http, token, 'DELETE FROM bench.messages WHERE n = $1', [1]);
}

export interface ResumeStack {
  readonly url: string;
  readonly natsUrl: string;
  /** The gateway's counters of resume paths (seqline_gateway_catchups_total by path). */
  readonly catchUps: () => Promise<Record<string, number>>;
}

/** Users resume0… (one partition each), created as the admin; resolves with their tokens. */
export async function resumeUsers(http: SqlClient, adminToken: string, count: number): Promise<string[]> {
  await http.setup(adminToken, Array.from({ length: count }, (_, i) => `CREATE USER resume${i} WITH PASSWORD 'password-r${i}' ROLE user`));
  return Promise.all(Array.from({ length: count }, (_, i) => http.login(`resume${i}`, `password-r${i}`)));
}

/** The gateway's catch-ups by path, from its Prometheus text. */
export async function catchUpsFrom(metricsUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  return Object.fromEntries([...text.matchAll(/^seqline_gateway_catchups_total\{path="(\w+)"\} (\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
}

/** The partition's head now: a snapshot's last `_seq`. */
async function cursorOf(url: string, token: string): Promise<bigint> {
  const s = await timedSubscribe(url, token, {}, snapshotDone);
  const last = s.frames.map((f) => /"last_seq_id":"?(\d+)/.exec(f.text)?.[1]).findLast((seq) => seq !== undefined);
  if (last === undefined) throw new Error('a snapshot without last_seq_id');
  return BigInt(last);
}

/** Change events a resume must bring, by the path the gateway took. */
interface Expected {
  readonly rows: number;
  readonly history: number;
  readonly compacted: number;
}

async function measure(stack: ResumeStack, token: string, from: bigint, name: string, expected: Expected, turns: number, errors: string[]): Promise<ResumeRow> {
  const resumes: Timed[] = [];
  const lives: Timed[] = [];
  const snapshots: Timed[] = [];
  const before = await stack.catchUps();
  for (let t = 0; t < turns; t++) {
    // Unmeasured: the previous turn's snapshot (up to 9 MB through the gateway) leaves garbage
    // and a GC behind, which the resume measured next would pay alone.
    await timedSubscribe(stack.url, token, undefined, acked);
    const counted = await stack.catchUps();
    const resumed = await timedSubscribe(stack.url, token, { from: String(from) }, deleted);
    resumes.push(resumed);
    const path = Object.entries(await stack.catchUps()).find(([k, v]) => v > (counted[k] ?? 0))?.[0];
    const want = path === 'history' ? expected.history : path === 'compacted' ? expected.compacted : undefined;
    if (resumed.count !== want) errors.push(`${name}: a resume (${path ?? 'no path counted'}) got ${resumed.count} changes, not ${want ?? '?'}`);
    lives.push(await timedSubscribe(stack.url, token, undefined, acked));
    const snapshot = await timedSubscribe(stack.url, token, {}, snapshotDone);
    if (snapshot.count !== expected.rows) errors.push(`${name}: snapshot of ${snapshot.count} rows, not ${expected.rows}`);
    snapshots.push(snapshot);
  }
  const after = await stack.catchUps();
  const paths: Record<string, number> = Object.fromEntries(Object.entries(after).flatMap(([k, v]) => (v === (before[k] ?? 0) ? [] : [[k, v - (before[k] ?? 0)] as const])));
  return { name, rows: expected.rows, resume: median(resumes), liveOnly: median(lives), snapshot: median(snapshots), paths };
}

/** Publishes `count` changes of other owners' partitions into the CHANGES stream, 500 in flight. */
async function fillLog(nc: NatsConnection, count: number): Promise<void> {
  const now = Date.now();
  const body = (k: number): Uint8Array =>
    busPb.Change.encode({
      owner: `other${k % 1000}`,
      namespace: 'bench',
      table: 'messages',
      seq: seqIdFloorForTime(now) + BigInt(k),
      prevSeq: 0n,
      opId: `fill-${k}`,
      committedAtUs: BigInt(now) * 1000n,
      rows: [{ kind: 'insert', seq: seqIdFloorForTime(now) + BigInt(k), oldJson: '', newJson: `{"id":"${k}","body":"another owner's row ${k}","n":${k}}` }],
    }).finish();
  for (let from = 0; from < count; from += 500) {
    await Promise.all(Array.from({ length: Math.min(500, count - from) }, (_, i) => nc.request(`seqline.changes.other${(from + i) % 1000}.bench.messages`, body(from + i), { timeout: 30_000 })));
  }
}

/**
 * The resume case. `tokens[i]` holds partition i (sizes in order), then the day-old partition's
 * token; change numbers `n` of the partitions start at `firstN` (rows 0 and 1 of each partition
 * are its first two rows, so each partition gets its own user).
 */
export async function runResumeCase(stack: ResumeStack, http: SqlClient, tokens: readonly string[], config: ResumeConfig): Promise<ResumeResult> {
  const errors: string[] = [];
  const rows: ResumeRow[] = [];
  for (const [i, size] of config.partitions.entries()) {
    const token = tokens[i]!;
    await fill(http, token, 0, size);
    const from = await cursorOf(stack.url, token);
    await missChanges(http, token, size);
    // The partition after the changes: the rows, plus 8 inserted, minus 1 deleted.
    rows.push(await measure(stack, token, from, `${size.toLocaleString('en-US')} rows`, { rows: size + MISSED - 3, history: MISSED, compacted: MISSED }, config.turns, errors));
  }
  const dayToken = tokens[config.partitions.length]!;
  const insert = (n: number, body: string): Promise<void> => write(http, dayToken, 'INSERT INTO bench.messages (body, n) VALUES ($1, $2)', [body, n]);
  // 5 changes before the other owners' million, 5 after: a resume from a day ago gets all 10
  // (from history: 7 inserts, 2 updates, a delete; compacted: the 6 rows left and the delete).
  for (let n = 0; n < 4; n++) await insert(n, 'before the others');
  await write(http, dayToken, 'UPDATE bench.messages SET body = $1 WHERE n = $2', ['before the others', 0]);
  const nc = await connect({ servers: stack.natsUrl });
  try {
    await fillLog(nc, config.otherChanges);
  } finally {
    await nc.close();
  }
  for (let n = 4; n < 7; n++) await insert(n, 'after the others');
  await write(http, dayToken, 'UPDATE bench.messages SET body = $1 WHERE n = $2', ['after the others', 2]);
  await write(http, dayToken, 'DELETE FROM bench.messages WHERE n = $1', [1]);
  const dayOld = seqIdFloorForTime(Date.now() - 24 * 3600_000);
  rows.push(await measure(stack, dayToken, dayOld, `day-old cursor, ${config.otherChanges.toLocaleString('en-US')} other changes in the log`, { rows: 6, history: 10, compacted: 7 }, config.turns, errors));
  return { rows, errors };
}
