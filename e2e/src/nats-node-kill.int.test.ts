// A NATS node SIGKILLed under load (issue 11). The stack runs on a 3-node JetStream cluster with
// every stream and bucket on 3 replicas; several users write steadily over HTTP (each write
// retried with its Idempotency-Key until acknowledged) while each keeps a WebSocket subscription
// open. First the node no service is attached to is killed and restarted, then the node most
// services are attached to. Afterwards, exactly: every write is in PostgreSQL once; each
// change subject's prev_seq chain is whole; each subscriber's rows are PostgreSQL's, and the
// _seq values it received are PostgreSQL's, each once, in increasing order.
import { startNatsCluster, type NatsClusterNode } from '@seqline/testkit';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { expectChain, readChanges } from './changes.js';
import { sql } from './client.js';
import { eventsFixture } from './events.js';
import { startStack, type Stack } from './stack.js';
import { openSocket, rowOf, type Msg, type WsClient } from './ws-client.js';

const USERS = ['u1', 'u2', 'u3'] as const;
const LANES = 6;
/** Acknowledged writes before the first fault, during each fault, between and after them. */
const STEP = 40;
const SERVICES = /^(sequencer|storage|write|gateway)\b/;
/**
 * How long one write may take to be acknowledged across a fault. This test is about what is
 * lost or repeated, not how fast the cluster heals: electing new JetStream leaders (meta,
 * streams, consumers) and re-pulling takes seconds on a quiet machine, and more than 30 s was
 * seen on a CI machine running the other suites beside three nats-servers.
 */
const WRITE_DEADLINE_MS = 90_000;

interface Subscriber {
  readonly client: WsClient;
  /** Rows of the snapshot and the changes, in the order received. */
  readonly received: Msg[];
}

async function subscribe(stack: Stack, token: string): Promise<Subscriber> {
  const received: Msg[] = [];
  const client = await openSocket(stack.url, {
    token,
    pingMs: 1000,
    onMessage: (m) => {
      if (m['type'] === 'initial_data_batch') received.push(...(m['rows'] as Msg[]));
      if (m['type'] === 'change') received.push(rowOf(m));
    },
  });
  client.send({ type: 'subscribe', subscription: { id: 'events', sql: 'SELECT id, body FROM app.events' } });
  await expect.poll(() => client.messages.some((m) => m['type'] === 'subscription_ack'), { timeout: 10_000 }).toBe(true);
  return { client, received };
}

/** Writes inserts on LANES lanes until stopped; every write is retried with its key until acknowledged. */
function writeLoad(stack: Stack, tokens: Record<string, string>) {
  const acked = new Map<string, Set<number>>(USERS.map((u) => [u, new Set<number>()]));
  let next = 0;
  let count = 0;
  let stopped = false;
  const errors: string[] = [];
  const write = async (i: number): Promise<void> => {
    const user = USERS[i % USERS.length]!;
    const deadline = Date.now() + WRITE_DEADLINE_MS;
    for (;;) {
      const r = await sql(stack.url, tokens[user]!, 'INSERT INTO app.events (id, body) VALUES ($1, $2)', [i, `event ${i}`], { 'idempotency-key': `w-${i}` }).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
      if (!(r instanceof Error) && r.status === 200) break;
      // A client's rule: a write refused as unavailable (or cut off) is sent again with the same key.
      const why = r instanceof Error ? r.message : `${r.status} ${JSON.stringify(r.body)}`;
      if (!(r instanceof Error) && r.status !== 503 && r.status !== 504) throw new Error(`write ${i}: ${why}`);
      if (Date.now() > deadline) throw new Error(`write ${i} not acknowledged within ${WRITE_DEADLINE_MS} ms: ${why}`);
      errors.push(why);
      await new Promise((done) => setTimeout(done, 50));
    }
    acked.get(user)!.add(i);
    count++;
  };
  let failure: Error | undefined;
  const lanes = Promise.all(
    Array.from({ length: LANES }, async () => {
      while (!stopped && failure === undefined) await write(next++);
    }),
  ).catch((err: unknown) => {
    failure = err instanceof Error ? err : new Error(String(err));
  });
  return {
    acked,
    errors,
    count: () => count,
    /** Resolves once `n` more writes than now were acknowledged. */
    more: async (n: number): Promise<void> => {
      const target = count + n;
      await expect
        .poll(
          () => {
            if (failure !== undefined) throw failure;
            return count;
          },
          { timeout: WRITE_DEADLINE_MS + 10_000, interval: 20 },
        )
        .toBeGreaterThanOrEqual(target);
    },
    stop: async (): Promise<void> => {
      stopped = true;
      await lanes;
      if (failure !== undefined) throw failure;
    },
  };
}

async function serviceConnections(node: NatsClusterNode): Promise<number> {
  return (await node.connectionNames()).filter((n) => SERVICES.test(n)).length;
}

async function verify(stack: Stack, acked: Map<string, Set<number>>, subscribers: Map<string, Subscriber>): Promise<void> {
  const db = postgres(stack.postgresUrl, { max: 1 });
  try {
    for (const [user, ids] of acked) {
      const rows = await db<{ id: number; body: string; seq: string }[]>`SELECT id, body, _seq::text AS seq FROM app.events WHERE _user_id = ${user} AND NOT _deleted ORDER BY _seq`;
      expect(rows.map((r) => r.id).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
      expect(rows.every((r) => r.body === `event ${r.id}`)).toBe(true);
      expectChain(await readChanges(stack.names.changesStream, stack.names.changes(user, 'app', 'events'), stack.natsUrls));
      const sub = subscribers.get(user)!;
      // A subscription repairing a gap retries its reads while the cluster heals (up to 20 s per
      // try): what matters is that every row arrives, once and in order, not how soon.
      await expect.poll(() => sub.received.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(rows.length);
      // Insert-only load: what a subscriber received is PostgreSQL's rows in _seq order, each once.
      expect(sub.received.map((r) => [r['id'], r['body'], String(r['_seq'])])).toEqual(rows.map((r) => [r.id, r.body, r.seq]));
    }
  } finally {
    await db.end();
  }
}

describe('a NATS node killed under load', () => {
  it('loses and repeats nothing when the unattached node, then an attached one, is SIGKILLed and restarted', { timeout: 300_000 }, async () => {
    await using cluster = await startNatsCluster({ nodes: 3 });
    const [n1, n2, n3] = cluster.nodes as [NatsClusterNode, NatsClusterNode, NatsClusterNode];
    // The services are given two of the three URLs: none starts on n3.
    await using stack = await startStack({ natsUrl: [n1.url, n2.url], natsReplicas: 3 });
    const tokens = await eventsFixture(stack, USERS);
    const subscribers = new Map<string, Subscriber>();
    for (const u of USERS) subscribers.set(u, await subscribe(stack, tokens[u]!));
    const load = writeLoad(stack, tokens);
    try {
      /** SIGKILL `node`, write on, restart it, wait until the cluster is whole, write on. */
      const fault = async (node: NatsClusterNode): Promise<void> => {
        await node.kill();
        await load.more(STEP);
        await node.restart();
        await cluster.waitReady();
        await load.more(STEP);
      };
      await load.more(STEP);
      expect(await serviceConnections(n3)).toBe(0);
      await fault(n3);
      const counts = await Promise.all(cluster.nodes.map(serviceConnections));
      const attached = cluster.nodes[counts.indexOf(Math.max(...counts))]!;
      expect(await serviceConnections(attached)).toBeGreaterThan(0);
      await fault(attached);
    } finally {
      await load.stop();
    }
    expect(load.count()).toBeGreaterThanOrEqual(5 * STEP);
    await verify(stack, load.acked, subscribers);
    for (const s of subscribers.values()) {
      expect(s.client.messages.filter((m) => m['type'] === 'error' || m['type'] === 'subscription_error')).toEqual([]);
      s.client.ws.close();
    }
  });
});
