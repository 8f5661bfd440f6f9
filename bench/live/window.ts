// The live benchmark's window case (issue 14): the same clients (`socketsPerUser` per user) on
// the same partitions (each user's rows of the USER table bench.board, `rowsPerUser` rows),
// first subscribed live-only to the plain query, then to a window of it
// (`… ORDER BY score DESC LIMIT 20`, docs/protocol.md §4.7), each during the same open loop of
// changes spread over the users. The changes are a mix that makes rows enter and leave every
// window: a row updated to the top (the highest score so far), a row inserted at the top, a row
// of the window updated to the bottom, a row of the window deleted (both need a row pulled in from
// below: the gateway refills from its slack, or reads the partition when the slack is gone).
// Change n is written by user n % users and sets the row's `n` to n, so a client tells which
// change an event carries (a delete by the row it removed).
// Each user's writes are sent one after another (the open loop's rate is over all users), so
// they commit in the order the writer's model of the partition moves.
//
// Exact outcomes: the plain subscription gets every acknowledged change once on each of its
// user's clients; the window gets every change that enters at the top once on each of them (an
// insert, or an update when the row was in the window already), and every client ends with
// exactly its user's final window (`SELECT … ORDER BY score DESC, id ASC LIMIT 20`, the
// primary key breaking ties). Deliveries are every event a client receives; latency runs from a
// write's acknowledgement to the event that carries it (for the window, over the changes that
// enter at the top, which reach every client); refill reads come from the gateway's counters.
import type { SqlClient } from '../lib/http.ts';
import { openLoop } from '../lib/stats.ts';
import WebSocket from 'ws';
import { waitFor } from '@seqline/testkit';
import { measureCpu } from '../lib/cpu.ts';
import { closeSockets, openSockets } from './clients.ts';
import { PhaseLog, type Latency } from './deliveries.ts';

export interface WindowConfig {
  readonly users: number;
  readonly socketsPerUser: number;
  readonly rowsPerUser: number;
  readonly limit: number;
  readonly rate: number;
  readonly ms: number;
}

export interface WindowPhase {
  readonly name: string;
  readonly offered: number;
  readonly acked: number;
  readonly failedWrites: number;
  /** Acknowledged writes per second, first request to last acknowledgement, and their own latency. */
  readonly writesPerSecond: number;
  readonly writes: Latency;
  /** Events (inserts, updates, deletes) received by all clients, and per second (first write to last event). */
  readonly events: number;
  readonly eventsPerSecond: number;
  /** Changes each client must receive (plain: all; window: those entering at the top), received once, repeated, of another user. */
  readonly expected: number;
  readonly delivered: number;
  readonly duplicates: number;
  readonly foreign: number;
  readonly fromAck: Latency;
  /** Clients whose rows at the end were not exactly their user's final window (the window only). */
  readonly wrongWindows: number;
  /** Gateway counters over the phase (the window only): row changes applied to windows, and reads that refilled one. */
  readonly windowChanges: number;
  readonly refills: number;
  /** CPU milliseconds per process of the stack over the phase (writes and the wait for the last event). */
  readonly cpuMs: Map<string, number>;
}

export interface WindowResult {
  readonly plain: WindowPhase;
  readonly window: WindowPhase;
  /** The change number after the last this case wrote. */
  readonly nextChange: number;
  readonly errors: readonly string[];
}

interface Row {
  readonly id: number;
  readonly score: number;
  readonly n: number;
}

type Kind = 'top' | 'insert' | 'out' | 'delete';
/**
 * The mix, per 10 changes: 3 enter every window at the top (each pushes a row into the slack
 * below it), 7 take a row out of it (each pulls one from the slack): the slack drains, so the
 * gateway must read to refill it now and then.
 */
const MIX: readonly Kind[] = ['top', 'top', 'insert', 'out', 'out', 'out', 'delete', 'delete', 'delete', 'delete'];
/** Ids and scores: user u's k-th row is u × ID_SPAN + k; seed scores 0…rows-1, the top above TOP, the bottom below 0. */
const ID_SPAN = 10_000_000;
const TOP = 1_000_000_000;
const SEED_ROWS = 500;

/**
 * What the writer knows of one user's partition: its ids in window order (score DESC; every
 * score is distinct). The user's writes commit one after another, in the order they move it.
 */
class Partition {
  readonly order: number[] = [];
  nextId: number;

  constructor(user: number, rows: number) {
    for (let k = rows - 1; k >= 0; k--) this.order.push(user * ID_SPAN + k);
    this.nextId = user * ID_SPAN + rows;
  }

  /** A row from the first `within` rows in order, or from all (undefined: none left). */
  pick(random: () => number, within = this.order.length): number | undefined {
    const span = Math.min(within, this.order.length);
    return span === 0 ? undefined : this.order[Math.floor(random() * span)];
  }

  remove(id: number): void {
    this.order.splice(this.order.indexOf(id), 1);
  }
}

/**
 * Runs both phases; `admin` is a DBA's token (it creates the table), `tokens` the users' in order,
 * change numbers start at `firstChange` or the next multiple of the user count.
 */
export async function runWindowCase(url: string, stackPid: number, metricsUrl: string, admin: string, tokens: readonly string[], http: SqlClient, c: WindowConfig, firstChange: number): Promise<WindowResult> {
  const parts = tokens.map((_, u) => new Partition(u, c.rowsPerUser));
  await http.setup(admin, ["CREATE TABLE bench.board (id BIGINT PRIMARY KEY, score BIGINT NOT NULL, n INT NOT NULL) WITH (TYPE='USER')"]);
  await seed(http, tokens, c.rowsPerUser);
  const clients = c.users * c.socketsPerUser;
  const fleet = await WindowFleet.open(url, tokens, clients);
  const errors: string[] = [];
  const random = Math.random;
  let next = firstChange;
  const phase = async (name: string, sql: string, window: boolean): Promise<WindowPhase> => {
    const base = Math.ceil(next / c.users) * c.users;
    const log = new PhaseLog(base, Math.round((c.rate * c.ms) / 1000), c.users, clients, (g) => g % c.users);
    next = log.end;
    const kinds: Kind[] = [];
    /** The change that deletes each row (a delete event carries the removed row, not the change). */
    const deletedBy = new Map<number, number>();
    const counted = new Set<Kind>(window ? ['top', 'insert'] : MIX);
    fleet.onEvent = (g, type, row, at) => {
      const n = type === 'delete' ? deletedBy.get(row.id) : row.n;
      if (n === undefined || !log.holds(n)) return;
      // A refill repeats a row a client had before: only the first event of a change is counted then.
      if (counted.has(kinds[n - base]!) && (type !== 'delete' || !window)) log.record(g, n, at, window);
    };
    await fleet.subscribe(window ? 'window' : 'plain', sql, window);
    const before = window ? await windowCounters(metricsUrl) : { changes: 0, refills: 0 };
    const eventsBefore = fleet.events;
    const measuring = await measureCpu(stackPid);
    const start = performance.now();
    // One user's writes go one after another (each is sent when the one before it is
    // acknowledged), so they commit in the order the model moves: a row set to the highest score
    // so far is at the top when it commits. Concurrent writes of one user could commit in another
    // order, and a row sent to the top could commit below `limit` rows written after it.
    const lanes = tokens.map((): Promise<boolean> => Promise.resolve(true));
    const write = async (i: number): Promise<boolean> => {
      const n = base + i;
      const user = n % c.users;
      const p = parts[user]!;
      let kind = MIX[Math.floor(random() * MIX.length)]!;
      let id = kind === 'insert' ? p.nextId++ : p.pick(random, kind === 'top' ? undefined : c.limit);
      if (id === undefined) [kind, id] = ['insert', p.nextId++];
      kinds[i] = kind;
      if (kind !== 'insert') p.remove(id);
      if (kind === 'top' || kind === 'insert') p.order.unshift(id);
      if (kind === 'out') p.order.push(id);
      if (kind === 'delete') deletedBy.set(id, n);
      log.sentAt[i] = performance.now();
      const statement: [string, unknown[]] =
        kind === 'insert'
          ? ['INSERT INTO bench.board (id, score, n) VALUES ($1, $2, $3)', [id, TOP + n, n]]
          : kind === 'delete'
            ? ['DELETE FROM bench.board WHERE id = $1', [id]]
            : ['UPDATE bench.board SET score = $1, n = $2 WHERE id = $3', [kind === 'top' ? TOP + n : -n, n, id]];
      const r = await http.sql(tokens[user]!, ...statement).catch((err: unknown) => ({ status: 0, text: String(err) }));
      if (r.status !== 200) {
        errors.push(`${name}: ${kind} failed: ${r.status} ${r.text.slice(0, 200)}`);
        return false;
      }
      log.ackedAt[i] = performance.now();
      return true;
    };
    const writes = await openLoop((i) => {
      const user = (base + i) % c.users;
      const turn = lanes[user]!.then(() => write(i));
      lanes[user] = turn;
      return turn;
    }, c.rate, c.ms);
    const expectedOf = (): number => {
      let owed = 0;
      for (let i = 0; i < log.total; i++) if (!Number.isNaN(log.ackedAt[i]!) && counted.has(kinds[i]!)) owed += c.socketsPerUser;
      return owed;
    };
    const expected = expectedOf();
    let wrongWindows = 0;
    if (window) {
      const finals = await Promise.all(tokens.map((token) => finalWindow(http, token, c.limit)));
      // Deadline: past it the phase is measured as it stands (wrong windows count against it).
      await waitFor(() => (wrongWindows = fleet.wrongWindows(finals, c.users)) === 0 && log.delivered >= expected, { timeoutMs: Math.max(20_000, c.ms), intervalMs: 50 }).catch(() => false);
    } else {
      await waitFor(() => log.delivered >= expected, { timeoutMs: Math.max(20_000, c.ms), intervalMs: 20 }).catch(() => false);
    }
    const cpuMs = await measuring.stop();
    const after = window ? await windowCounters(metricsUrl) : before;
    const events = fleet.events - eventsBefore;
    fleet.unsubscribe();
    return {
      name,
      offered: log.total,
      acked: log.acked,
      failedWrites: writes.failed,
      writesPerSecond: log.acked / ((log.lastAckedAt - start) / 1000),
      writes: log.writeLatency(),
      events,
      eventsPerSecond: events / ((fleet.lastEventAt - start) / 1000),
      expected,
      delivered: log.delivered,
      duplicates: log.duplicates,
      foreign: log.foreign,
      fromAck: log.latency('ack'),
      wrongWindows,
      windowChanges: after.changes - before.changes,
      refills: after.refills - before.refills,
      cpuMs,
    };
  };
  try {
    const plain = await phase('plain subscription (baseline)', 'SELECT id, score, n FROM bench.board', false);
    const window = await phase(`window, LIMIT ${c.limit}`, `SELECT id, score, n FROM bench.board ORDER BY score DESC LIMIT ${c.limit}`, true);
    return { plain, window, nextChange: next, errors: [...errors, ...fleet.errors] };
  } finally {
    await fleet.close();
  }
}

/**
 * Each user's partition: `rows` rows (ids u × ID_SPAN + k, score k), 500 per INSERT, four
 * statements at a time (more at once outrun storage: a write not confirmed within 10 s fails).
 */
async function seed(http: SqlClient, tokens: readonly string[], rows: number): Promise<void> {
  const statements = tokens.flatMap((token, u) =>
    Array.from({ length: Math.ceil(rows / SEED_ROWS) }, (_, j) => {
      const from = j * SEED_ROWS;
      const values = Array.from({ length: Math.min(SEED_ROWS, rows - from) }, (_, i) => `(${u * ID_SPAN + from + i}, ${from + i}, -1)`).join(', ');
      return [token, `INSERT INTO bench.board (id, score, n) VALUES ${values}`] as const;
    }),
  );
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < statements.length; i = next++) {
      const [token, sql] = statements[i]!;
      const r = await http.sql(token, sql);
      if (r.status !== 200) throw new Error(`seeding bench.board failed: ${r.status} ${r.text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, lane));
}

async function finalWindow(http: SqlClient, token: string, limit: number): Promise<Row[]> {
  const r = await http.sql(token, `SELECT id, score, n FROM bench.board ORDER BY score DESC, id ASC LIMIT ${limit}`);
  if (r.status !== 200) throw new Error(`reading the final window failed: ${r.status} ${r.text.slice(0, 200)}`);
  return (JSON.parse(r.text) as { results: [{ rows: unknown[][] }] }).results[0].rows.map(([id, score, n]) => ({ id: Number(id), score: Number(score), n: Number(n) }));
}

/** The gateway's window counters (Prometheus text from its /metrics). */
async function windowCounters(metricsUrl: string): Promise<{ changes: number; refills: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const value = (name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { changes: value('seqline_gateway_window_changes_total'), refills: value('seqline_gateway_window_refills_total') };
}

type ServerMessage =
  | { type: 'subscription_ack'; subscription_id: string }
  | { type: 'initial_data_batch'; subscription_id: string; rows: Record<string, unknown>[]; batch_control: { status: string } }
  | { type: 'change'; subscription_id: string; change_type: 'insert' | 'update' | 'delete'; rows?: Record<string, unknown>[]; old_values?: Record<string, unknown>[] }
  | { type: 'error'; subscription_id: string; code: string; message: string };

const rowOf = (cells: Record<string, unknown>): Row => ({ id: Number(cells['id']), score: Number(cells['score']), n: Number(cells['n']) });

/**
 * Client g is socket g (user g % users), with one subscription at a time, keeping the
 * rows it holds by id. Cheap as the live bench's Fleet: no permessage-deflate, text frames.
 */
class WindowFleet {
  readonly errors: string[] = [];
  onEvent: (g: number, type: 'insert' | 'update' | 'delete', row: Row, at: number) => void = () => undefined;
  events = 0;
  lastEventAt = Number.NaN;
  readonly #sockets: WebSocket[];
  /** Per socket, the rows it holds by id (filled as sockets open). */
  readonly #rows: Map<number, Row>[];
  #ready = 0;
  /** The current subscription's id ('' between subscriptions), and whether it is a window. */
  #id = '';
  #window = false;
  #closing = false;
  readonly #pinger: NodeJS.Timeout;

  private constructor(sockets: WebSocket[]) {
    this.#sockets = sockets;
    this.#rows = [];
    this.#pinger = setInterval(() => {
      for (const ws of sockets) if (ws.readyState === WebSocket.OPEN) ws.ping();
    }, 4000);
  }

  static async open(baseUrl: string, tokens: readonly string[], count: number): Promise<WindowFleet> {
    const sockets: WebSocket[] = [];
    const fleet = new WindowFleet(sockets);
    fleet.#rows.push(...Array.from({ length: count }, () => new Map<number, Row>()));
    await openSockets(baseUrl, tokens, count, sockets, {
      onMessage: (g, data) => fleet.#onMessage(g, data),
      onClose: (g, code) => {
        if (!fleet.#closing) fleet.errors.push(`socket ${g} closed with ${code}`);
      },
    });
    return fleet;
  }

  /** Subscribes every socket (a window gets its snapshot first); resolves when all are ready. */
  async subscribe(id: string, sql: string, window: boolean): Promise<void> {
    this.#ready = 0;
    this.#id = id;
    this.#window = window;
    for (const rows of this.#rows) rows.clear();
    for (const ws of this.#sockets) ws.send(JSON.stringify({ type: 'subscribe', subscription: { id, sql, ...(window ? { options: {} } : {}) } }));
    await waitFor(() => this.#ready === this.#sockets.length || this.errors.length > 0, { timeoutMs: 120_000, intervalMs: 20 });
    if (this.errors.length > 0) throw new Error(`subscribing: ${this.errors.slice(0, 3).join('; ')}`);
  }

  /** Ends the subscription; its events still in flight are ignored. */
  unsubscribe(): void {
    for (const ws of this.#sockets) ws.send(JSON.stringify({ type: 'unsubscribe', subscription_id: this.#id }));
    this.#id = '';
  }

  /** Clients whose rows, in window order, are not exactly their user's final window. */
  wrongWindows(finals: readonly Row[][], users: number): number {
    let wrong = 0;
    this.#rows.forEach((rows, g) => {
      const held = [...rows.values()].sort((a, b) => b.score - a.score || a.id - b.id);
      if (JSON.stringify(held) !== JSON.stringify(finals[g % users])) wrong++;
    });
    return wrong;
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#pinger);
    await closeSockets(this.#sockets);
  }

  #onMessage(g: number, data: Buffer): void {
    const at = performance.now();
    const m = JSON.parse(data.toString('utf8')) as ServerMessage;
    if (m.type === 'error') {
      this.errors.push(`${m.subscription_id}: ${m.code} ${m.message}`);
      return;
    }
    if (m.subscription_id !== this.#id) return;
    const rows = this.#rows[g]!;
    switch (m.type) {
      case 'subscription_ack':
        // Live only: ready at once; a window's snapshot is ready with its last batch.
        if (!this.#window) this.#ready++;
        return;
      case 'initial_data_batch':
        for (const cells of m.rows) rows.set(Number(cells['id']), rowOf(cells));
        if (m.batch_control.status === 'ready') this.#ready++;
        return;
      case 'change': {
        this.events++;
        this.lastEventAt = at;
        const row = rowOf((m.change_type === 'delete' ? m.old_values?.[0] : m.rows?.[0]) ?? {});
        if (m.change_type === 'delete') rows.delete(row.id);
        else rows.set(row.id, row);
        this.onEvent(g, m.change_type, row, at);
        return;
      }
    }
  }
}
