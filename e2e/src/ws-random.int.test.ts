// The randomized concurrency test of issue 4: 20 WebSocket clients over 5 users subscribe,
// drop and resume at random while writers insert, update and delete. At the end every
// client's materialized rows equal its user's SELECT, no `_seq` reached a subscription twice,
// and `_seq` strictly increased within each (snapshot rows, then changes, across resumes).
// Randomness is seeded, so a failure replays.
import { parseJsonLossless } from '@seqline/seq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { login, ok, sql } from './client.js';
import { startStack, type Stack } from './stack.js';

const USERS = 5;
const CLIENTS = 20;
const WRITES = 150;

let stack: Stack;
const tokens: string[] = [];

beforeAll(async () => {
  stack = await startStack();
  const admin = await login(stack.url, stack.admin.user, stack.admin.password);
  await ok(stack.url, admin, 'CREATE NAMESPACE app');
  await ok(stack.url, admin, "CREATE TABLE app.items (id INT PRIMARY KEY, title TEXT, n INT) WITH (TYPE='USER')");
  for (let u = 0; u < USERS; u++) {
    await ok(stack.url, admin, `CREATE USER u${u} WITH PASSWORD 'password-${u}' ROLE user`);
    tokens.push(await login(stack.url, `u${u}`, `password-${u}`));
  }
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

/** mulberry32: a small seeded PRNG. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Msg = Record<string, unknown>;
type Row = Record<string, unknown>;

class Client {
  readonly rows = new Map<number, Row>();
  readonly seqs: bigint[] = [];
  lastSeq: bigint | undefined;
  #ws: WebSocket | undefined;
  errors: Msg[] = [];

  constructor(
    readonly user: number,
    readonly name: string,
  ) {}

  async connect(): Promise<void> {
    const ws = new WebSocket(`${stack.url.replace('http', 'ws')}/v1/ws?compress=false`, { headers: { authorization: `Bearer ${tokens[this.user]!}` } });
    this.#ws = ws;
    ws.on('message', (data: Buffer) => this.#on(parseJsonLossless(data.toString()) as Msg));
    // A client keeps its socket alive as the SDK does (the gateway closes one silent for
    // SEQLINE_WS_IDLE_MS; under load the writes below outlast it), and a close it did not ask
    // for is an error of the test, not a silent stop of its subscription.
    const keepAlive = setInterval(() => ws.readyState === WebSocket.OPEN && ws.ping(), 1000);
    ws.on('close', (code: number, reason: Buffer) => {
      clearInterval(keepAlive);
      if (this.#ws === ws) this.errors.push({ type: 'closed', code, reason: reason.toString() });
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    if (this.lastSeq !== undefined) this.resumes++;
    const options = this.lastSeq === undefined ? { batch_size: 3 } : { from: this.lastSeq.toString() };
    ws.send(JSON.stringify({ type: 'subscribe', subscription: { id: this.name, sql: 'SELECT id, title, n FROM app.items', options } }));
  }

  drops = 0;
  resumes = 0;

  drop(): void {
    if (this.#ws !== undefined) this.drops++;
    this.#ws?.terminate();
    this.#ws = undefined;
  }

  get connected(): boolean {
    return this.#ws !== undefined;
  }

  #see(row: Row): void {
    const seq = BigInt(String(row['_seq']));
    this.seqs.push(seq);
    this.lastSeq = seq;
  }

  #on(m: Msg): void {
    if (m['type'] === 'initial_data_batch') {
      for (const r of m['rows'] as Row[]) {
        this.rows.set(r['id'] as number, r);
        this.#see(r);
      }
      const control = m['batch_control'] as { status: string; last_seq_id?: bigint | number };
      if (control.status === 'ready' && control.last_seq_id !== undefined) this.lastSeq = BigInt(control.last_seq_id);
    } else if (m['type'] === 'subscription_ack') {
      const control = m['batch_control'] as { last_seq_id?: bigint | number };
      if (this.lastSeq === undefined && control.last_seq_id !== undefined && (m['total_rows'] as number) === 0) this.lastSeq = BigInt(control.last_seq_id);
    } else if (m['type'] === 'change') {
      if (m['change_type'] === 'delete') {
        const old = (m['old_values'] as Row[])[0]!;
        this.rows.delete(old['id'] as number);
        this.#see(old);
      } else {
        const row = (m['rows'] as Row[])[0]!;
        this.rows.set(row['id'] as number, row);
        this.#see(row);
      }
    } else if (m['type'] === 'error') {
      this.errors.push(m);
    }
  }
}

describe('20 clients over 5 users, dropping and resuming at random under writes', () => {
  it('end with exactly their user’s rows, each _seq once and in increasing order', async () => {
    const rnd = random(20261124);
    const clients = Array.from({ length: CLIENTS }, (_, i) => new Client(i % USERS, `c${i}`));
    await Promise.all(clients.map((c) => c.connect()));
    const head = new Array<bigint>(USERS).fill(0n);
    const ids: number[][] = Array.from({ length: USERS }, () => []);
    let nextId = 1;
    for (let w = 0; w < WRITES; w++) {
      const u = Math.floor(rnd() * USERS);
      const own = ids[u]!;
      const r = rnd();
      let text: string;
      let params: unknown[];
      if (own.length === 0 || r < 0.5) {
        const id = nextId++;
        own.push(id);
        [text, params] = ['INSERT INTO app.items (id, title, n) VALUES ($1, $2, $3)', [id, `t${id}`, w]];
      } else if (r < 0.8) {
        [text, params] = ['UPDATE app.items SET n = $1, title = $2 WHERE id = $3', [w, `t${w}`, own[Math.floor(rnd() * own.length)]]];
      } else {
        const id = own.splice(Math.floor(rnd() * own.length), 1)[0]!;
        [text, params] = ['DELETE FROM app.items WHERE id = $1', [id]];
      }
      const reply = await sql(stack.url, tokens[u]!, text, params);
      expect(reply.status).toBe(200);
      const seq = (reply.body['results'] as { seq?: string }[] | undefined)?.[0]?.seq;
      if (seq !== undefined) head[u] = BigInt(seq);
      // Now and then a client drops; a dropped one comes back.
      const c = clients[Math.floor(rnd() * CLIENTS)]!;
      if (c.connected && rnd() < 0.3) c.drop();
      else if (!c.connected) await c.connect();
    }
    for (const c of clients) if (!c.connected) await c.connect();
    // The scenario really dropped and resumed many times.
    expect(clients.reduce((n, c) => n + c.resumes, 0)).toBeGreaterThanOrEqual(20);
    // Every client reaches its user's last write (a laggard shows where it stopped and why).
    const behind = () => clients.filter((c) => head[c.user]! > 0n && (c.lastSeq ?? 0n) < head[c.user]!).map((c) => ({ client: c.name, at: String(c.lastSeq), head: String(head[c.user]), received: c.seqs.length, errors: c.errors }));
    await expect.poll(behind, { timeout: 30_000 }).toEqual([]);
    for (let u = 0; u < USERS; u++) {
      const [result] = await ok(stack.url, tokens[u]!, 'SELECT id, title, n, _seq FROM app.items ORDER BY id');
      const expected = (result!['rows'] as unknown[][]).map(([id, title, n, seq]) => ({ id, title, n, _seq: seq }));
      for (const c of clients.filter((x) => x.user === u)) {
        expect({ client: c.name, rows: [...c.rows.values()].sort((a, b) => (a['id'] as number) - (b['id'] as number)) }).toEqual({ client: c.name, rows: expected });
        expect({ client: c.name, increasing: c.seqs.every((s, i) => i === 0 || s > c.seqs[i - 1]!) }).toEqual({ client: c.name, increasing: true });
        expect(c.errors).toEqual([]);
      }
    }
    for (const c of clients) c.drop();
  }, 120_000);
});
