// A real NATS JetStream cluster for tests: N nats-server processes on 127.0.0.1, joined by
// cluster routes on loopback ports.
//
// Each node gets its own store directory holding its config file (nats.conf: server_name,
// client port, monitoring port, JetStream store, cluster name, route port and the routes to every node) and its
// JetStream data. A node is a NatsServer: kill() (SIGKILL), stop() (SIGTERM) and restart() (same
// ports, same store directory, so it rejoins and catches up from its peers).
//
// startNatsCluster() resolves only once the cluster is usable: a JetStream meta leader is
// elected and a stream with one replica per node can be created with every replica current.
// waitReady() checks the same again, e.g. after a node was restarted. Disposing stops every node
// and removes the store directories it made (not those under a given storeDir).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { LocalNatsServer, resolveNatsBinary, type NatsServer } from './nats-server.js';
import { freePort, uniqueName, waitFor } from './support.js';
import { natsConnection } from './test-env.js';

export interface NatsClusterNode extends NatsServer {
  /** server_name, also the name JetStream reports for this node's replicas: n1, n2, … */
  readonly name: string;
  /** Port of the cluster route listener. */
  readonly clusterPort: number;
  /** http://127.0.0.1:<port> of the node's monitoring endpoint (/connz, /jsz, …). */
  readonly monitorUrl: string;
  /** Names of the client connections the node holds now, from /connz (a node that is down holds none). */
  connectionNames(): Promise<string[]>;
}

export interface NatsCluster extends AsyncDisposable {
  /** The cluster name (cluster.name in every node's config). */
  readonly name: string;
  readonly nodes: readonly NatsClusterNode[];
  /** Every node's client URL, in node order. */
  readonly urls: readonly string[];
  /** Resolves once a meta leader is elected and an R<nodes> stream has every replica current. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** SIGTERM every node (in parallel) and wait. Idempotent. */
  stop(): Promise<void>;
}

export interface StartNatsClusterOptions {
  /** Number of nodes (default 3). */
  readonly nodes?: number;
  /** Path to nats-server; default as for startNats. */
  readonly binary?: string;
  /** Deadline for the cluster to become ready (default 30 s). */
  readonly readyTimeoutMs?: number;
  /** Client port of each node (default: free ports). */
  readonly ports?: readonly number[];
  /** Route port of each node (default: free ports). */
  readonly clusterPorts?: readonly number[];
  /** Parent of the nodes' store directories (<storeDir>/n1, …), kept on dispose; default: fresh temporary ones, removed on dispose. */
  readonly storeDir?: string;
  /** Cluster name (default: a unique one); keep it fixed when a storeDir is reused. */
  readonly name?: string;
}

const READY_TIMEOUT_MS = 30_000;

export async function startNatsCluster(options: StartNatsClusterOptions = {}): Promise<NatsCluster> {
  const count = options.nodes ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > 5) throw new Error(`a test cluster has 1 to 5 nodes, not ${count}`);
  for (const list of [options.ports, options.clusterPorts]) {
    if (list !== undefined && list.length !== count) throw new Error(`a ${count}-node cluster needs ${count} ports, got ${list.length}`);
  }
  const binary = await resolveNatsBinary(options.binary);
  const name = options.name ?? uniqueName('seqline').replace(/[^A-Za-z0-9_-]/g, '_');
  const specs = [];
  for (let i = 1; i <= count; i++) {
    const storeDir = options.storeDir === undefined ? await mkdtemp(join(tmpdir(), `seqline-nats-n${i}-`)) : join(options.storeDir, `n${i}`);
    await mkdir(storeDir, { recursive: true });
    specs.push({ name: `n${i}`, port: options.ports?.[i - 1] ?? (await freePort()), clusterPort: options.clusterPorts?.[i - 1] ?? (await freePort()), monitorPort: await freePort(), storeDir });
  }
  const routes = specs.map((s) => `nats-route://127.0.0.1:${s.clusterPort}`);
  const nodes = await Promise.all(
    specs.map(async (s) => {
      const file = join(s.storeDir, 'nats.conf');
      await writeFile(file, nodeConfig({ ...s, cluster: name, routes }));
      const monitorUrl = `http://127.0.0.1:${s.monitorPort}`;
      return Object.assign(new LocalNatsServer(binary, s.port, s.storeDir, ['-c', file]), { name: s.name, clusterPort: s.clusterPort, monitorUrl, connectionNames: () => connectionNames(monitorUrl) });
    }),
  );
  const cluster = new LocalNatsCluster(name, nodes, options.storeDir === undefined);
  try {
    await Promise.all(nodes.map((n) => n.restart()));
    await cluster.waitReady(options.readyTimeoutMs ?? READY_TIMEOUT_MS);
    return cluster;
  } catch (error) {
    await cluster[Symbol.asyncDispose]();
    throw error;
  }
}

interface NodeSpec {
  readonly name: string;
  readonly port: number;
  readonly clusterPort: number;
  readonly monitorPort: number;
  readonly storeDir: string;
  readonly cluster: string;
  readonly routes: readonly string[];
}

/** nats-server's configuration for one node (a route to itself is recognised and ignored). */
function nodeConfig(s: NodeSpec): string {
  return [
    `server_name: ${s.name}`,
    `listen: "127.0.0.1:${s.port}"`,
    `http: "127.0.0.1:${s.monitorPort}"`,
    `jetstream { store_dir: ${JSON.stringify(s.storeDir)} }`,
    'cluster {',
    `  name: ${s.cluster}`,
    `  listen: "127.0.0.1:${s.clusterPort}"`,
    `  routes: [${s.routes.map((r) => JSON.stringify(r)).join(', ')}]`,
    '}',
    '',
  ].join('\n');
}

async function connectionNames(monitorUrl: string): Promise<string[]> {
  const res = await fetch(`${monitorUrl}/connz?limit=10000`).catch(() => undefined);
  if (res === undefined) return [];
  const body = (await res.json()) as { connections?: { name?: string }[] };
  return (body.connections ?? []).map((c) => c.name ?? '');
}

class LocalNatsCluster implements NatsCluster {
  readonly urls: readonly string[];

  constructor(
    readonly name: string,
    readonly nodes: readonly NatsClusterNode[],
    private readonly removeStores: boolean,
  ) {
    this.urls = nodes.map((n) => n.url);
  }

  async waitReady(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    await using nc = await waitFor(() => natsConnection(this.urls, { reconnect: true, maxReconnectAttempts: -1 }), { timeoutMs, message: `no node of NATS cluster ${this.name} accepts connections` });
    const probe = uniqueName('cluster_probe');
    await waitFor(
      async () => {
        const jsm = await jetstreamManager(nc);
        const info = await jsm.streams.add({ name: probe, subjects: [`${probe}.>`], num_replicas: this.nodes.length });
        const replicas = info.cluster?.replicas ?? [];
        const ready = info.cluster?.leader !== undefined && replicas.length === this.nodes.length - 1 && replicas.every((r) => r.current);
        if (ready) await jsm.streams.delete(probe);
        return ready;
      },
      { timeoutMs, intervalMs: 100, message: `NATS cluster ${this.name}: no JetStream meta leader, or an R${this.nodes.length} stream without every replica current` },
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    if (this.removeStores) await Promise.all(this.nodes.map((n) => rm(n.storeDir, { recursive: true, force: true })));
  }
}
