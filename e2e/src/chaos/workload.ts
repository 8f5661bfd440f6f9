// The fault campaign's workload: writers over HTTP and WebSocket subscribers, recording every
// request, answer and delivery in the history (./history.ts) as it happens.
//
// Tables: `chaos.notes` (USER: one partition per user) and `chaos.board` (SHARED, PUBLIC, written
// by a service account). Writers each own one user (several users per shard) or the board; they
// insert rows with globally unique ids, update and delete rows they know to exist, send an
// Idempotency-Key with every write and retry an unanswered write with the same key on the other
// gateway until it gets a definite answer (or the retry budget runs out: then it stays
// indeterminate and the writer forgets the row).
//
// Subscribers each read one user's notes (all of them, or a filtered WHERE) or the board, over a
// WebSocket to a random gateway; at random they drop the socket and resume from the last `_seq`
// they processed (some after staying offline for seconds), some pace their snapshot with
// `next_batch`. A socket the server closes, a gateway that is down, an `error` for the
// subscription: all end in the same resume, as a real client would.
import { parseJsonLossless } from '@seqline/seq';
import { pause } from '@seqline/testkit';
import WebSocket from 'ws';
import { login, ok, post } from '../client.js';
import type { DeliveryKind, HistoryWriter, Row, WriteOp } from './history.js';

export const NOTES = 'chaos.notes';
export const BOARD = 'chaos.board';
const WRITE_TIMEOUT_MS = 10_000;
const RETRY_BUDGET_MS = 60_000;

export interface WorkloadOptions {
  readonly gateways: readonly string[];
  readonly admin: { readonly user: string; readonly password: string };
  readonly history: HistoryWriter;
  readonly random: () => number;
  readonly users?: number;
  /** Writers on users' notes; one more writes the board. */
  readonly writers?: number;
  readonly subscribers?: number;
  /** Where the clients note what the history does not hold (close codes, error messages). */
  readonly trace?: (line: string) => void;
  /** Pause between one writer's writes (ms). */
  readonly writeIntervalMs?: number;
}

interface Account {
  readonly name: string;
  readonly password: string;
  token: string;
}

/** Creates the tables and accounts; returns a workload ready to start. */
export async function setupWorkload(options: WorkloadOptions): Promise<Workload> {
  const base = options.gateways[0]!;
  const admin = await login(base, options.admin.user, options.admin.password);
  await ok(base, admin, 'CREATE NAMESPACE IF NOT EXISTS chaos');
  await ok(base, admin, `CREATE TABLE IF NOT EXISTS ${NOTES} (id BIGINT PRIMARY KEY, body TEXT, n INT) WITH (TYPE='USER')`);
  await ok(base, admin, `CREATE TABLE IF NOT EXISTS ${BOARD} (id BIGINT PRIMARY KEY, body TEXT, n INT) WITH (TYPE='SHARED', ACCESS_LEVEL='PUBLIC')`);
  const accounts: Account[] = [];
  const create = async (name: string, role: string): Promise<Account> => {
    const password = `pw-${name}-${Math.floor(options.random() * 1e9)}`;
    await ok(base, admin, `CREATE USER ${name} WITH PASSWORD '${password}' ROLE ${role}`);
    return { name, password, token: await login(base, name, password) };
  };
  for (let u = 0; u < (options.users ?? 6); u++) accounts.push(await create(`u${u}`, 'user'));
  const service = await create('board_svc', 'service');
  return new Workload(options, accounts, service);
}

export class Workload {
  readonly #options: WorkloadOptions;
  readonly #accounts: readonly Account[];
  readonly #service: Account;
  readonly #writers: Writer[] = [];
  readonly subscribers: Subscriber[] = [];
  #running = false;
  #loops: Promise<void>[] = [];

  constructor(options: WorkloadOptions, accounts: readonly Account[], service: Account) {
    this.#options = options;
    this.#accounts = accounts;
    this.#service = service;
    const writers = options.writers ?? 6;
    let nextId = 1;
    const ids = (): string => String(nextId++);
    for (let w = 0; w < writers; w++) this.#writers.push(new Writer(`w${w}`, accounts[w % accounts.length]!, NOTES, this, ids));
    this.#writers.push(new Writer(`w${writers}`, service, BOARD, this, ids));
    const subscribers = options.subscribers ?? 12;
    for (let s = 0; s < subscribers; s++) {
      const account = accounts[s % accounts.length]!;
      const kind = s % 4 === 3 ? 'board' : s % 4 === 2 ? 'filtered' : 'all';
      this.subscribers.push(new Subscriber(`c${s}`, account, kind, this, options.random() < 0.3));
    }
  }

  get options(): WorkloadOptions {
    return this.#options;
  }

  get running(): boolean {
    return this.#running;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#options.random() * items.length)]!;
  }

  /** Starts every writer and subscriber loop. */
  start(): void {
    this.#running = true;
    this.#loops = [...this.#writers.map((w) => w.run()), ...this.subscribers.map((s) => s.run())];
  }

  /** Stops writing (in-flight writes are retried to a definite answer) and the random drops. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#writers.map((w) => w.done()));
  }

  /** Closes every socket and waits for the loops. */
  async close(): Promise<void> {
    this.#running = false;
    for (const s of this.subscribers) s.close();
    await Promise.allSettled(this.#loops);
  }

  get accounts(): readonly Account[] {
    return [...this.#accounts, this.#service];
  }

  /** Logs in again (access tokens expire during a long run; a gateway may have been down). */
  async relogin(account: Account): Promise<void> {
    for (const base of this.#options.gateways) {
      try {
        account.token = await login(base, account.name, account.password);
        return;
      } catch {
        // that gateway is down: try the next
      }
    }
  }
}

class Writer {
  /** Ids of the rows this writer knows exist (inserted and acknowledged, not deleted, no unknown outcome since). */
  readonly #live: string[] = [];
  #count = 0;
  #loop: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly account: Account,
    readonly table: string,
    readonly workload: Workload,
    readonly nextId: () => string,
  ) {}

  get owner(): string {
    return this.table === BOARD ? '*' : this.account.name;
  }

  run(): Promise<void> {
    this.#loop = (async () => {
      const { random, writeIntervalMs = 100 } = this.workload.options;
      while (this.workload.running) {
        await this.#writeOnce(random());
        await pause(writeIntervalMs * (0.5 + random()));
      }
    })();
    return this.#loop;
  }

  done(): Promise<void> {
    return this.#loop;
  }

  async #writeOnce(r: number): Promise<void> {
    const n = Math.floor(this.workload.options.random() * 1000);
    const body = `b${this.#count}`;
    if (this.#live.length === 0 || r < 0.5) {
      const id = this.nextId();
      const outcome = await this.#send('insert', id, { id, body, n }, `INSERT INTO ${this.table} (id, body, n) VALUES ($1, $2, $3)`, [id, body, n]);
      if (outcome === 'ok') this.#live.push(id);
    } else if (r < 0.8) {
      const id = this.workload.pick(this.#live);
      const outcome = await this.#send('update', id, { body, n }, `UPDATE ${this.table} SET body = $1, n = $2 WHERE id = $3`, [body, n, id]);
      if (outcome !== 'ok' && outcome !== 'failed') this.#forget(id);
    } else {
      const id = this.workload.pick(this.#live);
      this.#forget(id);
      await this.#send('delete', id, undefined, `DELETE FROM ${this.table} WHERE id = $1`, [id]);
    }
  }

  #forget(id: string): void {
    const i = this.#live.indexOf(id);
    if (i >= 0) this.#live.splice(i, 1);
  }

  /** Sends one write until it has a definite answer or the retry budget is spent. */
  async #send(op: WriteOp, rowId: string, values: Row | undefined, text: string, params: unknown[]): Promise<'ok' | 'failed' | 'indeterminate'> {
    const { history, gateways } = this.workload.options;
    const key = `${this.name}-${this.#count++}`;
    const deadline = Date.now() + RETRY_BUDGET_MS;
    let gateway = this.workload.pick(gateways);
    for (let attempt = 0; ; attempt++) {
      history.append({ type: 'write-invoked', t: Date.now(), client: this.name, key, op, table: this.table, owner: this.owner, rowId, ...(values === undefined ? {} : { values }) });
      const answer = await this.#post(gateway, text, params, key);
      const t = Date.now();
      if (answer.kind === 'ok') {
        history.append({ type: 'write-ok', t, client: this.name, key, ...(answer.seq === undefined ? {} : { seq: answer.seq }) });
        return 'ok';
      }
      if (answer.kind === 'failed' && answer.code === 'TOKEN_EXPIRED') {
        await this.workload.relogin(this.account);
        continue;
      }
      if (answer.kind === 'failed') {
        history.append({ type: 'write-failed', t, client: this.name, key, code: answer.code });
        return 'failed';
      }
      history.append({ type: 'write-indeterminate', t, client: this.name, key, reason: answer.reason });
      if (Date.now() > deadline) return 'indeterminate';
      gateway = gateways[(gateways.indexOf(gateway) + 1) % gateways.length]!;
      await pause(Math.min(2000, 100 * 2 ** attempt));
    }
  }

  async #post(gateway: string, text: string, params: unknown[], key: string): Promise<Answer> {
    try {
      const r = await post<{ status: string; results?: { seq?: string }[]; error?: { code: string } }>(
        `${gateway}/v1/api/sql`,
        { sql: text, params },
        { authorization: `Bearer ${this.account.token}`, 'idempotency-key': key },
        AbortSignal.timeout(WRITE_TIMEOUT_MS),
      );
      if (r.status === 200 && r.body.status === 'success') {
        const seq = r.body.results?.[0]?.seq;
        return { kind: 'ok', ...(seq === undefined ? {} : { seq: String(seq) }) };
      }
      const code = r.body.error?.code ?? `HTTP_${r.status}`;
      // 5xx (UNAVAILABLE, INTERNAL_ERROR) and rate limits say nothing about whether the op applied.
      if (r.status >= 500 || r.status === 429) return { kind: 'unknown', reason: 'timeout' };
      return { kind: 'failed', code };
    } catch (error) {
      const timeout = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      return { kind: 'unknown', reason: timeout ? 'timeout' : 'connection-lost' };
    }
  }
}

type Answer = { kind: 'ok'; seq?: string } | { kind: 'failed'; code: string } | { kind: 'unknown'; reason: 'timeout' | 'connection-lost' };

type SubscriberKind = 'all' | 'filtered' | 'board';

/** A subscriber's row as the checker compares it: id as a string, body and n as read. */
export function normalRow(row: Record<string, unknown>): Row {
  return { id: String(row['id']), body: row['body'] ?? null, n: row['n'] === null || row['n'] === undefined ? null : Number(row['n']) };
}

export class Subscriber {
  readonly rows = new Map<string, Row>();
  readonly subId: string;
  readonly query: string;
  readonly watches: readonly string[];
  lastSeq: bigint | undefined;
  #ws: WebSocket | undefined;
  #closed = false;
  #subscribed = false;

  constructor(
    readonly name: string,
    readonly account: Account,
    readonly kind: SubscriberKind,
    readonly workload: Workload,
    readonly clientPaced: boolean,
  ) {
    this.subId = `s_${name}`;
    this.query =
      kind === 'board' ? `SELECT id, body, n FROM ${BOARD}` : kind === 'filtered' ? `SELECT id, body, n FROM ${NOTES} WHERE n >= 500` : `SELECT id, body, n FROM ${NOTES}`;
    this.watches = kind === 'board' ? [`${BOARD}/*`] : kind === 'all' ? [`${NOTES}/${account.name}`] : [];
  }

  get owner(): string {
    return this.account.name;
  }

  /** The predicate of the query, for the final SELECT read directly from PostgreSQL. */
  get where(): string {
    return this.kind === 'filtered' ? 'n >= 500' : 'TRUE';
  }

  async run(): Promise<void> {
    const { random } = this.workload.options;
    while (!this.#closed) {
      const ws = this.#open();
      const ended = new Promise<void>((done) => ws.once('close', () => done()));
      try {
        await this.#subscribe(ws);
      } catch {
        ws.terminate();
        await ended;
        await pause(200 + random() * 500);
        continue;
      }
      // Live until the socket ends, or until a random drop while the workload runs.
      const drop = this.workload.running ? pause(2000 + random() * 8000).then(() => 'drop' as const) : new Promise<never>(() => undefined);
      const why = await Promise.race([ended.then(() => 'ended' as const), drop]);
      if (why === 'drop' && this.workload.running) {
        ws.terminate();
        await ended;
        // Some stay offline for a while.
        await pause(random() < 0.2 ? 5000 + random() * 10_000 : 100 + random() * 500);
      } else if (why === 'drop') {
        await ended;
      } else {
        await pause(200 + random() * 500);
      }
    }
  }

  close(): void {
    this.#closed = true;
    this.#ws?.terminate();
  }

  /** Open, subscribed and live (the settle phase waits for every subscriber to be). */
  get connected(): boolean {
    return this.#ws !== undefined && this.#ws.readyState === WebSocket.OPEN && this.#subscribed;
  }

  /** A socket to a random gateway; only the current socket's messages count. */
  #open(): WebSocket {
    const base = this.workload.pick(this.workload.options.gateways);
    const ws = new WebSocket(`${base.replace('http', 'ws')}/v1/ws?compress=false`, { headers: { authorization: `Bearer ${this.account.token}` } });
    this.#ws = ws;
    this.#subscribed = false;
    ws.on('message', (data: Buffer) => {
      if (this.#ws === ws) this.#on(ws, parseJsonLossless(data.toString()) as Msg);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (this.#ws === ws) this.#ws = undefined;
      this.workload.options.trace?.(`${this.name} ${base} closed ${code} ${reason.toString()}`);
    });
    ws.on('error', () => undefined);
    return ws;
  }

  async #subscribe(ws: WebSocket): Promise<void> {
    const { history } = this.workload.options;
    await new Promise<void>((open, fail) => {
      ws.once('open', open);
      ws.once('close', () => fail(new Error('closed before open')));
      ws.once('unexpected-response', () => fail(new Error('upgrade refused')));
    });
    const options: Record<string, unknown> = this.lastSeq === undefined ? { batch_size: 50 } : { from: this.lastSeq.toString() };
    if (this.clientPaced) options['flow'] = 'client';
    // No cursor yet (the first time, or a snapshot cut short): a full snapshot replaces the rows.
    if (this.lastSeq === undefined) this.rows.clear();
    if (this.lastSeq === undefined) history.append({ type: 'subscribed', t: Date.now(), client: this.name, subId: this.subId, query: this.query, watches: this.watches });
    else history.append({ type: 'resumed', t: Date.now(), client: this.name, subId: this.subId, fromSeq: this.lastSeq.toString() });
    ws.send(JSON.stringify({ type: 'subscribe', subscription: { id: this.subId, sql: this.query, options } }));
  }

  #deliver(kind: DeliveryKind, raw: Record<string, unknown> | undefined): void {
    const t = Date.now();
    if (raw === undefined) {
      this.workload.options.history.append({ type: 'delivery', t, client: this.name, subId: this.subId, kind });
      return;
    }
    const row = normalRow(raw);
    const seq = BigInt(String(raw['_seq']));
    this.workload.options.history.append({ type: 'delivery', t, client: this.name, subId: this.subId, kind, rowId: String(row['id']), row, seq: seq.toString() });
    if (kind === 'delete') this.rows.delete(String(row['id']));
    else this.rows.set(String(row['id']), row);
    if (kind !== 'snapshot' && (this.lastSeq === undefined || seq > this.lastSeq)) this.lastSeq = seq;
  }

  #on(ws: WebSocket, m: Msg): void {
    switch (m['type']) {
      case 'subscription_ack': {
        const control = m['batch_control'] as { status?: string; last_seq_id?: unknown } | undefined;
        if (m['reset'] === true) {
          this.#deliver('reset', undefined);
          this.rows.clear();
          this.lastSeq = undefined;
        }
        if (control?.status === 'ready' && control.last_seq_id !== undefined && m['reset'] !== true) this.#ready(control.last_seq_id);
        return;
      }
      case 'initial_data_batch': {
        for (const r of m['rows'] as Record<string, unknown>[]) this.#deliver('snapshot', r);
        const control = m['batch_control'] as { status: string; last_seq_id?: unknown };
        if (control.status === 'ready') {
          if (control.last_seq_id !== undefined) this.#ready(control.last_seq_id);
        } else if (this.clientPaced) ws.send(JSON.stringify({ type: 'next_batch', subscription_id: this.subId }));
        return;
      }
      case 'change': {
        const type = m['change_type'] as 'insert' | 'update' | 'delete';
        const row = type === 'delete' ? (m['old_values'] as Record<string, unknown>[])[0] : (m['rows'] as Record<string, unknown>[])[0];
        this.#deliver(type, row);
        return;
      }
      case 'error':
        this.workload.options.trace?.(`${this.name} error ${JSON.stringify(m)}`);
        // The subscription failed (UNAVAILABLE, a slow consumer, …): start over from lastSeq.
        ws.terminate();
        return;
      default:
    }
  }

  #ready(lastSeqId: unknown): void {
    this.#subscribed = true;
    const boundary = BigInt(String(lastSeqId));
    if (this.lastSeq === undefined || boundary > this.lastSeq) this.lastSeq = boundary;
    this.workload.options.history.append({ type: 'ready', t: Date.now(), client: this.name, subId: this.subId, seq: this.lastSeq.toString() });
  }
}

type Msg = Record<string, unknown>;
