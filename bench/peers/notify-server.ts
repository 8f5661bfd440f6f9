// The LISTEN/NOTIFY + re-query baseline's server, run as its own process by notify.ts (so its
// memory and CPU are its own): what a team builds on PostgreSQL alone. An AFTER INSERT trigger
// on public.messages runs pg_notify('messages', owner); this server LISTENs on one connection and,
// for each notification, re-queries the new rows of each of the owner's sockets
// (`… WHERE owner = $1 AND id > <last id sent> ORDER BY id`, from a pool of 20 connections) and
// sends them. One re-query per socket at a time: a notification during one marks it to run again.
// A socket (`/?user=<owner>`, unauthenticated: a benchmark on loopback) first gets all its rows,
// then {type:'ready'}. GET / answers 200 once listening.
// Env: NOTIFY_BENCH_PG (a PostgreSQL URL), NOTIFY_BENCH_PORT.
import { createServer } from 'node:http';
import postgres from 'postgres';
import { WebSocketServer, type WebSocket } from 'ws';

const BATCH = 5000;

interface Listener {
  readonly ws: WebSocket;
  readonly owner: string;
  lastId: string;
  running: boolean;
  dirty: boolean;
  ready: boolean;
}

const sql = postgres(process.env['NOTIFY_BENCH_PG'] ?? '', { max: 20, onnotice: () => {} });
const byOwner = new Map<string, Set<Listener>>();

async function refresh(l: Listener): Promise<void> {
  l.running = true;
  try {
    do {
      l.dirty = false;
      const rows = await sql<{ id: string; body: string; n: number }[]>`SELECT id, body, n FROM messages WHERE owner = ${l.owner} AND id > ${l.lastId} ORDER BY id`;
      if (l.ws.readyState !== l.ws.OPEN) return;
      for (let i = 0; i < rows.length; i += BATCH) l.ws.send(JSON.stringify({ type: 'rows', rows: rows.slice(i, i + BATCH) }));
      if (rows.length > 0) l.lastId = rows.at(-1)!.id;
      if (!l.ready) {
        l.ready = true;
        l.ws.send('{"type":"ready"}');
      }
    } while (l.dirty);
  } catch (error) {
    if (l.ws.readyState === l.ws.OPEN) l.ws.send(JSON.stringify({ type: 'error', message: error instanceof Error ? error.message : String(error) }));
  } finally {
    l.running = false;
  }
}

function notified(owner: string): void {
  for (const l of byOwner.get(owner) ?? []) {
    if (l.running) l.dirty = true;
    else void refresh(l);
  }
}

await sql.listen('messages', notified);
const http = createServer((_, res) => res.writeHead(200).end('OK'));
const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
wss.on('connection', (ws, req) => {
  const owner = new URL(req.url ?? '/', 'http://x').searchParams.get('user') ?? '';
  const l: Listener = { ws, owner, lastId: '0', running: false, dirty: false, ready: false };
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
