// The LISTEN/NOTIFY + re-query baseline's server, run as its own process by notify.ts (so its
// memory and CPU are its own): what a team builds on PostgreSQL alone. An AFTER INSERT trigger
// on public.messages runs pg_notify('messages', '<owner>:<id>'); this server LISTENs on one
// connection and re-queries, for each of the owner's sockets, the rows whose notifications it has
// not sent yet (`… WHERE owner = $1 AND id = ANY($2) ORDER BY id`, from a pool of 20 connections)
// and sends them. One re-query per socket at a time: notifications during one wait for the next.
// Re-querying `id > <last id sent>` instead loses rows: ids are taken at insert and commits can
// land out of that order, so a row whose id is below one already sent can commit after it (the
// smoke test caught it: 98 of 100). Notifications arrive in commit order, one per committed row.
// A socket (`/?user=<owner>`, unauthenticated: a benchmark on loopback) first gets all its rows,
// then {type:'ready'}; a notification of a row that initial read already sent is dropped.
// GET / answers 200 once listening.
// Env: NOTIFY_BENCH_PG (a PostgreSQL URL), NOTIFY_BENCH_PORT.
import { createServer } from 'node:http';
import postgres from 'postgres';
import { WebSocketServer, type WebSocket } from 'ws';

const BATCH = 5000;

interface Listener {
  readonly ws: WebSocket;
  readonly owner: string;
  /** Ids notified and not re-queried yet. */
  pending: string[];
  /** The ids the initial read sent (a notification of one of them is dropped). */
  initial: Set<string> | undefined;
  running: boolean;
}

type Row = { id: string; body: string; n: number };
const sql = postgres(process.env['NOTIFY_BENCH_PG'] ?? '', { max: 20, onnotice: () => {} });
const byOwner = new Map<string, Set<Listener>>();

function send(l: Listener, rows: readonly Row[]): void {
  for (let i = 0; i < rows.length; i += BATCH) l.ws.send(JSON.stringify({ type: 'rows', rows: rows.slice(i, i + BATCH) }));
}

async function refresh(l: Listener): Promise<void> {
  l.running = true;
  try {
    if (l.initial === undefined) {
      const rows = await sql<Row[]>`SELECT id, body, n FROM messages WHERE owner = ${l.owner} ORDER BY id`;
      if (l.ws.readyState !== l.ws.OPEN) return;
      l.initial = new Set(rows.map((r) => r.id));
      send(l, rows);
      l.ws.send('{"type":"ready"}');
    }
    while (l.pending.length > 0) {
      const initial = l.initial;
      const ids = l.pending.splice(0).filter((id) => !initial.has(id));
      if (ids.length === 0) continue;
      const rows = await sql<Row[]>`SELECT id, body, n FROM messages WHERE owner = ${l.owner} AND id = ANY(${ids}::bigint[]) ORDER BY id`;
      if (l.ws.readyState !== l.ws.OPEN) return;
      send(l, rows);
    }
  } catch (error) {
    if (l.ws.readyState === l.ws.OPEN) l.ws.send(JSON.stringify({ type: 'error', message: error instanceof Error ? error.message : String(error) }));
  } finally {
    l.running = false;
  }
}

function notified(payload: string): void {
  const at = payload.lastIndexOf(':');
  const owner = payload.slice(0, at);
  const id = payload.slice(at + 1);
  for (const l of byOwner.get(owner) ?? []) {
    l.pending.push(id);
    if (!l.running) void refresh(l);
  }
}

await sql.listen('messages', notified);
const http = createServer((_, res) => res.writeHead(200).end('OK'));
const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
wss.on('connection', (ws, req) => {
  const owner = new URL(req.url ?? '/', 'http://x').searchParams.get('user') ?? '';
  const l: Listener = { ws, owner, pending: [], initial: undefined, running: false };
  let set = byOwner.get(owner);
  if (set === undefined) byOwner.set(owner, (set = new Set()));
  set.add(l);
  ws.on('close', () => set.delete(l));
  void refresh(l);
});
http.listen(Number(process.env['NOTIFY_BENCH_PORT']), '127.0.0.1');
process.once('SIGTERM', () => {
  wss.close();
  http.close();
  void sql.end().then(() => process.exit(0));
});
