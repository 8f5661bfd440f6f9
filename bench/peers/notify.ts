// The PostgreSQL LISTEN/NOTIFY + re-query baseline as a peer: a durable PostgreSQL (the testkit's,
// fsync on), table public.messages with a trigger that NOTIFYs the owner, and notify-server.ts in
// its own process holding the clients' sockets. Writes are plain INSERTs, acknowledged by the commit.
import { join } from 'node:path';
import { freePort, startPostgres } from '@seqline/testkit';
import postgres from 'postgres';
import WebSocket from 'ws';
import { rssKb } from '../lib/cpu.ts';
import { type ClientEvents, SocketFleet, timeSnapshot } from './fleet.ts';
import type { Peer, PeerConfig } from './peer.ts';
import { httpOk, startServer } from './process.ts';

const SCHEMA = `
  CREATE TABLE messages (id BIGSERIAL PRIMARY KEY, owner TEXT NOT NULL, body TEXT NOT NULL, n INT NOT NULL);
  CREATE INDEX messages_owner ON messages (owner, id);
  CREATE FUNCTION notify_owner() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_notify('messages', NEW.owner || ':' || NEW.id); RETURN NEW; END $$;
  CREATE TRIGGER messages_notify AFTER INSERT ON messages FOR EACH ROW EXECUTE FUNCTION notify_owner();`;

export async function startNotifyPeer(config: PeerConfig): Promise<Peer> {
  const pg = await startPostgres({ durable: true });
  const sql = postgres(pg.url, { max: 50, onnotice: () => {} });
  try {
    await sql.unsafe(SCHEMA);
    await sql`INSERT INTO messages (owner, body, n) SELECT 'reader', 'row ' || i, -1 FROM generate_series(1, ${config.snapshotRows}) i`;
    const port = await freePort();
    const server = await startServer(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'notify-server.ts')], { NOTIFY_BENCH_PG: pg.url, NOTIFY_BENCH_PORT: String(port) }, () => httpOk(`http://127.0.0.1:${port}/`));
    const url = `ws://127.0.0.1:${port}`;
    return {
      name: 'LISTEN/NOTIFY + re-query',
      pid: server.pid,
      serverRssKb: () => rssKb(server.pid),
      async write(user, n) {
        await sql`INSERT INTO messages (owner, body, n) VALUES (${`user${user}`}, ${`message ${n}`}, ${n})`;
        return true;
      },
      openClients: (count, onChange) => SocketFleet.open(count, (g, events) => connectNotify(url, `user${g % config.users}`, events), onChange),
      snapshot: (rows) => timeSnapshot(rows, (_, events) => connectNotify(url, 'reader', events)),
      async [Symbol.asyncDispose]() {
        await server[Symbol.asyncDispose]();
        await sql.end();
        await pg.stop();
      },
    };
  } catch (error) {
    await sql.end();
    await pg.stop();
    throw error;
  }
}

type Down = { type: 'rows'; rows: { n: number }[] } | { type: 'ready' } | { type: 'error'; message: string };

function connectNotify(url: string, user: string, events: ClientEvents): WebSocket {
  const ws = new WebSocket(`${url}/?user=${user}`, { perMessageDeflate: false });
  ws.on('message', (data: Buffer) => {
    const at = performance.now();
    const m = JSON.parse(data.toString('utf8')) as Down;
    if (m.type === 'rows') for (const row of m.rows) events.onRow(row.n, at);
    else if (m.type === 'ready') events.onReady();
    else events.onError(m.message);
  });
  ws.on('error', (err) => events.onError(err.message));
  return ws;
}
