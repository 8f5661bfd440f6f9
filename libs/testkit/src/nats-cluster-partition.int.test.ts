// startNatsCluster({ partitionable: true }): every route between the three nodes runs through a
// route proxy; partition() of n3 cuts its routes on both sides and keeps them cut (the nodes'
// reconnects are refused) while n3 still serves its own clients and an R3 stream keeps taking
// writes through n1 with n1 and n2 as quorum; after heal() the routes come back, through the
// proxies again, and every replica is current. A partition outlasts a restart of the node.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { natsConnection, startNatsCluster, uniqueName, waitFor, type NatsCluster, type NatsClusterNode } from './index.js';

const POLL = { timeoutMs: 30_000, intervalMs: 100 } as const;

/** The peers `node` has routes to, sorted, or undefined while a route does not pass a proxy. */
async function proxiedPeers(cluster: NatsCluster, node: NatsClusterNode): Promise<string[] | undefined> {
  const routes = await node.routes();
  // The remote port is the proxy's (the node dialled it) or one the proxy dialled the node from.
  const throughProxy = routes.every((r) =>
    cluster.links.some((l) => (l.from === node.name && l.to === r.peer && l.proxy.port === r.port) || (l.from === r.peer && l.to === node.name && l.proxy.upstreamPorts().includes(r.port))),
  );
  return throughProxy ? routes.map((r) => r.peer).sort() : undefined;
}

/** Polls until each node has exactly one route to each peer in `expected`, all through proxies. */
async function waitForRoutes(cluster: NatsCluster, expected: Record<string, string[]>, message: string): Promise<void> {
  await waitFor(async () => {
    const peers = await Promise.all(cluster.nodes.map((n) => proxiedPeers(cluster, n)));
    return JSON.stringify(peers) === JSON.stringify(cluster.nodes.map((n) => expected[n.name]));
  }, { ...POLL, message });
}

const FULL_MESH = { n1: ['n2', 'n3'], n2: ['n1', 'n3'], n3: ['n1', 'n2'] };
const N3_CUT = { n1: ['n2'], n2: ['n1'], n3: [] };

describe('startNatsCluster({ partitionable: true })', () => {
  it('partitions n3 from n1 and n2 while it serves its clients, and heals it', async () => {
    await using cluster = await startNatsCluster({ nodes: 3, partitionable: true, readyTimeoutMs: 60_000 });
    const [n1, n2, n3] = cluster.nodes as [NatsClusterNode, NatsClusterNode, NatsClusterNode];
    expect(cluster.links.map((l) => `${l.from}>${l.to}`)).toEqual(['n1>n2', 'n1>n3', 'n2>n1', 'n2>n3', 'n3>n1', 'n3>n2']);
    const config = readFileSync(join(n1.storeDir, 'nats.conf'), 'utf8');
    for (const link of cluster.links.filter((l) => l.from === 'n1')) expect(config).toContain(`nats-route://127.0.0.1:${link.proxy.port}`);
    expect(config).not.toContain(`:${n2.clusterPort}"`);
    const varz = (await (await fetch(`${n1.monitorUrl}/varz`)).json()) as { ping_interval: number; ping_max: number };
    expect([varz.ping_interval, varz.ping_max]).toEqual([1_000_000_000, 3]);
    await waitForRoutes(cluster, FULL_MESH, 'routes of the started cluster not all through proxies');

    const name = uniqueName('tk_part');
    await using nc1 = await natsConnection([n1.url], { maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    await using nc3 = await natsConnection([n3.url], { maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const jsm = await jetstreamManager(nc1);
    const js = jetstream(nc1);
    await jsm.streams.add({ name, subjects: [`${name}.>`], num_replicas: 3 });
    const publish = (body: string): Promise<unknown> => waitFor(() => js.publish(`${name}.m`, body, { msgID: body, timeout: 2000 }), { ...POLL, message: `publish ${body}` });
    for (const body of ['m1', 'm2', 'm3']) await publish(body);

    await n3.partition();
    expect(cluster.partitioned()).toEqual(['n3']);
    await waitForRoutes(cluster, N3_CUT, 'n3 still has routes after partition()');
    // Every node retries its routes; each retry through a link of n3 is refused, and the cut holds.
    const n3Links = cluster.links.filter((l) => l.from === 'n3' || l.to === 'n3');
    expect(n3Links.every((l) => l.proxy.blocked)).toBe(true);
    await waitFor(() => n3Links.every((l) => l.proxy.counts.refused > 0), { ...POLL, message: 'no reconnect through a blocked link' });
    await waitForRoutes(cluster, N3_CUT, 'a route of n3 came back while partitioned');

    // n3 still serves its own client: a round trip on n3, but no message from n1's side reaches it.
    const sub = nc3.subscribe(`${name}_core`, { max: 1 });
    await nc3.flush();
    nc1.publish(`${name}_core`, 'from n1');
    await nc1.flush();
    nc3.publish(`${name}_core`, 'from n3');
    const received: string[] = [];
    for await (const m of sub) received.push(m.string());
    expect(received).toEqual(['from n3']);
    expect(await n3.connectionNames()).toContain('seqline-testkit');

    // n1 and n2 are a quorum of the R3 stream.
    for (const body of ['m4', 'm5', 'm6']) await publish(body);
    expect((await jsm.streams.info(name)).state.messages).toBe(6);

    await n3.heal();
    expect(cluster.partitioned()).toEqual([]);
    expect(n3Links.every((l) => !l.proxy.blocked)).toBe(true);
    await waitForRoutes(cluster, FULL_MESH, 'routes of n3 did not come back after heal()');
    await cluster.waitReady(60_000);
    await waitFor(async () => {
      const info = await jsm.streams.info(name);
      const replicas = info.cluster?.replicas ?? [];
      return info.state.messages === 6 && replicas.length === 2 && replicas.every((r) => r.current && (r.lag ?? 0) === 0);
    }, { ...POLL, message: 'a replica is not current after heal()' });
    await jsm.streams.delete(name);
  });

  it('keeps a killed and restarted node partitioned until heal(), and closes its proxies on dispose', async () => {
    const cluster = await startNatsCluster({ nodes: 2, partitionable: true, readyTimeoutMs: 60_000 });
    const [n1] = cluster.nodes as [NatsClusterNode, NatsClusterNode];
    await waitForRoutes(cluster, { n1: ['n2'], n2: ['n1'] }, 'routes of the started cluster not all through proxies');
    await n1.partition();
    expect(cluster.partitioned()).toEqual(['n1']);
    await n1.kill();
    const refusedBefore = cluster.links.map((l) => l.proxy.counts.refused);
    await n1.restart();
    // Both nodes dial again through their blocked links and are refused: still no route.
    await waitFor(() => cluster.links.every((l, i) => l.proxy.counts.refused > refusedBefore[i]!), { ...POLL, message: 'no reconnect after the restart' });
    await waitForRoutes(cluster, { n1: [], n2: [] }, 'a route came back while n1 was partitioned');
    await n1.heal();
    await waitForRoutes(cluster, { n1: ['n2'], n2: ['n1'] }, 'routes did not come back after heal()');

    await cluster[Symbol.asyncDispose]();
    expect(cluster.links).toHaveLength(2);
    expect(cluster.links.every((l) => l.proxy.blocked && l.proxy.counts.open === 0)).toBe(true);
    for (const link of cluster.links) {
      const server = createServer();
      server.listen({ port: link.proxy.port, host: '127.0.0.1', exclusive: true });
      await once(server, 'listening');
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
