// Seqline as a peer: the real local stack (bench/lib/local-stack.ts, each service its own process,
// NATS, PostgreSQL with fsync on), table bench.messages (a USER table: a user's subscriptions
// get that user's rows), the live benchmark's clients (bench/live/clients.ts: `ws`, no
// compression, one live-only subscription of `SELECT id, body, n FROM bench.messages` each).
// Writes go through POST /v1/api/sql, acknowledged by its response (docs/protocol.md §2).
import WebSocket from 'ws';
import { pidsOfTree, rssKb } from '../lib/cpu.ts';
import { SqlClient, setUpMessages } from '../lib/http.ts';
import { runLocalStack } from '../lib/local-stack.ts';
import { Fleet, LIVE_SQL } from '../live/clients.ts';
import { timeSnapshot } from './fleet.ts';
import type { Peer, PeerConfig } from './peer.ts';

const CHUNK = 1000;

export async function startSeqlinePeer(config: PeerConfig): Promise<Peer> {
  const stack = await runLocalStack();
  const http = new SqlClient(stack.url, 200);
  try {
    const tokens = await setUpMessages(http, stack, config.users);
    const admin = await http.login(stack.user, stack.password);
    await http.setup(admin, ["CREATE USER reader WITH PASSWORD 'reader-pass-1' ROLE user"]);
    const reader = await http.login('reader', 'reader-pass-1');
    for (let start = 0; start < config.snapshotRows; start += CHUNK) {
      const values = Array.from({ length: Math.min(CHUNK, config.snapshotRows - start) }, (_, i) => `('row ${start + i + 1}', -1)`).join(', ');
      const r = await http.sql(reader, `INSERT INTO bench.messages (body, n) VALUES ${values}`);
      if (r.status !== 200) throw new Error(`seeding the snapshot failed: ${r.status} ${r.text.slice(0, 200)}`);
    }
    const [gateway] = await pidsOfTree(stack.pid, 'gateway');
    if (gateway === undefined) throw new Error('no gateway process in the local stack');
    const wsUrl = `${stack.url.replace(/^http/, 'ws')}/v1/ws?compress=false`;
    return {
      name: 'Seqline',
      pid: stack.pid,
      serverRssKb: () => rssKb(gateway),
      async write(user, n) {
        const r = await http.sql(tokens[user]!, 'INSERT INTO bench.messages (body, n) VALUES ($1, $2)', [`message ${n}`, n]).catch(() => undefined);
        return r?.status === 200;
      },
      async openClients(count, onChange) {
        const fleet = await Fleet.open(stack.url, tokens, count, onChange);
        await fleet.subscribe(1, 120_000);
        return fleet;
      },
      snapshot: (rows) =>
        timeSnapshot(rows, (_, events) => {
          const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${reader}` }, perMessageDeflate: false });
          ws.on('message', (data: Buffer) => {
            const at = performance.now();
            const m = JSON.parse(data.toString('utf8')) as { type: string; rows?: { n: number }[]; batch_control?: { status: string }; message?: string };
            if (m.type === 'auth_success') ws.send(JSON.stringify({ type: 'subscribe', subscription: { id: 's', sql: LIVE_SQL, options: { batch_size: 5000 } } }));
            if (m.type === 'initial_data_batch') {
              for (const row of m.rows ?? []) events.onRow(row.n, at);
              if (m.batch_control?.status === 'ready') events.onReady();
            }
            if (m.type === 'error') events.onError(JSON.stringify(m).slice(0, 300));
          });
          ws.on('error', (err) => events.onError(err.message));
          return ws;
        }),
      async [Symbol.asyncDispose]() {
        http.close();
        await stack[Symbol.asyncDispose]();
      },
    };
  } catch (error) {
    http.close();
    await stack[Symbol.asyncDispose]();
    throw error;
  }
}
