// startNatsCluster: three nodes form one JetStream cluster; an R3 stream keeps taking writes with
// one node SIGKILLed, and the node, restarted on its ports and store, catches up: with another
// node killed afterwards, the stream still holds every message.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { natsConnection, startNatsCluster, uniqueName, waitFor } from './index.js';

describe('startNatsCluster', () => {
  it('runs R3 streams through a node kill and restart, and the restarted node catches up', async () => {
    await using cluster = await startNatsCluster({ nodes: 3 });
    expect(cluster.nodes.map((n) => n.name)).toEqual(['n1', 'n2', 'n3']);
    expect(cluster.urls).toEqual(cluster.nodes.map((n) => `nats://127.0.0.1:${n.port}`));
    expect(new Set([...cluster.nodes.map((n) => n.port), ...cluster.nodes.map((n) => n.clusterPort)]).size).toBe(6);
    const config = readFileSync(join(cluster.nodes[0]!.storeDir, 'nats.conf'), 'utf8');
    expect(config).toContain(`name: ${cluster.name}`);
    expect(config).toContain(`routes: [${cluster.nodes.map((n) => `"nats-route://127.0.0.1:${n.clusterPort}"`).join(', ')}]`);
    expect(config).not.toContain('advertise');
    // Without partitionable there are no route proxies, and nothing to partition.
    expect(cluster.links).toEqual([]);
    expect(cluster.partitioned()).toEqual([]);
    await expect(cluster.nodes[2]!.partition()).rejects.toThrow(`NATS cluster ${cluster.name} was started without partitionable: true`);
    await expect(cluster.nodes[2]!.heal()).rejects.toThrow('without partitionable: true');

    const name = uniqueName('tk_r3');
    await using nc = await natsConnection(cluster.urls, { maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const created = await jsm.streams.add({ name, subjects: [`${name}.>`], num_replicas: 3 });
    expect(created.config.num_replicas).toBe(3);
    // Our one connection is on exactly one node, as /connz of the nodes tells.
    const ours = async (): Promise<number> => (await Promise.all(cluster.nodes.map(async (n) => (await n.connectionNames()).filter((c) => c === 'seqline-testkit').length))).reduce((a, b) => a + b, 0);
    await expect.poll(ours, { timeout: 10_000 }).toBe(1);
    const publish = (body: string): Promise<unknown> => waitFor(() => js.publish(`${name}.m`, body, { msgID: body, timeout: 1000 }), { timeoutMs: 30_000, intervalMs: 100 });
    for (const i of [1, 2, 3]) await publish(`m${i}`);

    const victim = cluster.nodes[2]!;
    await victim.kill();
    for (const i of [4, 5, 6]) await publish(`m${i}`);
    await victim.restart();
    await waitFor(async () => {
      const info = await jsm.streams.info(name);
      if (info.cluster?.leader === victim.name) return info.state.messages === 6;
      const replica = info.cluster?.replicas?.find((r) => r.name === victim.name);
      return info.state.messages === 6 && replica?.current === true && (replica.lag ?? 0) === 0;
    }, { timeoutMs: 30_000, intervalMs: 100, message: 'the restarted node did not catch up' });

    // Only the restarted node and one other are left: they must still hold all six.
    await cluster.nodes[0]!.kill();
    const bodies = await waitFor(async () => Promise.all([1, 2, 3, 4, 5, 6].map(async (seq) => (await jsm.streams.getMessage(name, { seq }))?.string())), { timeoutMs: 30_000, intervalMs: 100 });
    expect(bodies).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    await cluster.nodes[0]!.restart();
    await cluster.waitReady();
    await jsm.streams.delete(name);

    await cluster.stop();
    await cluster[Symbol.asyncDispose]();
    expect(cluster.nodes.map((n) => existsSync(n.storeDir))).toEqual([false, false, false]);
  });
});
