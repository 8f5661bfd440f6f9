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
//
// With `partitionable`, every route runs through a TCP proxy in this process (nats-route-mesh.ts),
// so node.partition() can cut one node off from the others while it keeps serving its own
// clients (client ports are not proxied), and node.heal() lets the routes reconnect. Nodes then
// also ping every connection each second and drop it after 3 missed pongs, so a route that goes
// silent is noticed within seconds. stop() and dispose close the proxies.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { LocalNatsServer, resolveNatsBinary, type NatsServer } from './nats-server.js';
import { freePort, uniqueName, waitFor } from './support.js';
import { natsConnection } from './test-env.js';
import { RouteMesh, type RouteLink } from './nats-route-mesh.js';

export interface NatsClusterNode extends NatsServer {
  /** server_name, also the name JetStream reports for this node's replicas: n1, n2, … */
  readonly name: string;
  /** Port of the cluster route listener. */
  readonly clusterPort: number;
  /** http://127.0.0.1:<port> of the node's monitoring endpoint (/connz, /jsz, …). */
  readonly monitorUrl: string;
  /** Names of the client connections the node holds now, from /connz (a node that is down holds none). */
  connectionNames(): Promise<string[]>;
  /** The node's route connections now, from /routez (a node that is down has none). */
  routes(): Promise<NatsRoute[]>;
  /**
   * Cuts every route to and from this node until heal(): open route connections are destroyed
   * and new ones refused. The node keeps running and serving its clients. Partitionable
   * clusters only (otherwise it throws); the partition outlasts a restart of the node.
   */
  partition(): Promise<void>;
  /**
   * Lets routes to and from this node through again (except to nodes partitioned themselves);
   * the nodes reconnect within about a second. Existing streams catch up at once, but the meta
   * leader may place new assets on this node only after its next server heartbeat (statsz),
   * which nats-server 2.9 sends up to 30 s apart on a node that has run for a while.
   */
  heal(): Promise<void>;
}

export interface NatsRoute {
  /** server_name of the node at the other end (its server id when no running node has it). */
  readonly peer: string;
  /** The remote TCP port: when partitionable, a route proxy's port or the port a proxy dialled this node from. */
  readonly port: number;
}

export interface NatsCluster extends AsyncDisposable {
  /** The cluster name (cluster.name in every node's config). */
  readonly name: string;
  readonly nodes: readonly NatsClusterNode[];
  /** Every node's client URL, in node order. */
  readonly urls: readonly string[];
  /** Resolves once a meta leader is elected and an R<nodes> stream has every replica current. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** The route proxies, one per ordered pair of nodes; empty unless partitionable. */
  readonly links: readonly RouteLink[];
  /** Names of the nodes partitioned now (always empty unless partitionable). */
  partitioned(): string[];
  /** SIGTERM every node (in parallel) and wait, then close the route proxies. Idempotent. */
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
  /** Route every connection between nodes through a TCP proxy, so that nodes can be partitioned (default false). */
  readonly partitionable?: boolean;
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
  const specs: NodeSpec[] = [];
  for (let i = 1; i <= count; i++) {
    const storeDir = options.storeDir === undefined ? await mkdtemp(join(tmpdir(), `seqline-nats-n${i}-`)) : join(options.storeDir, `n${i}`);
    await mkdir(storeDir, { recursive: true });
    specs.push({ name: `n${i}`, port: options.ports?.[i - 1] ?? (await freePort()), clusterPort: options.clusterPorts?.[i - 1] ?? (await freePort()), monitorPort: await freePort(), storeDir });
  }
  const mesh = options.partitionable === true ? await RouteMesh.start(specs) : undefined;
  const monitorUrls = specs.map((s) => `http://127.0.0.1:${s.monitorPort}`);
  const nodes = await Promise.all(
    specs.map(async (s, i): Promise<NatsClusterNode & LocalNatsServer> => {
      const file = join(s.storeDir, 'nats.conf');
      await writeFile(file, nodeConfig(s, name, routing(specs, s, mesh)));
      const monitorUrl = monitorUrls[i]!;
      const server = new LocalNatsServer(binary, s.port, s.storeDir, ['-c', file]);
      return Object.assign(server, {
        name: s.name,
        clusterPort: s.clusterPort,
        monitorUrl,
        connectionNames: () => connectionNames(monitorUrl),
        routes: () => routes(monitorUrl, monitorUrls),
        partition: async () => requireMesh(mesh, name).partition(s.name),
        heal: async () => requireMesh(mesh, name).heal(s.name),
      });
    }),
  ).catch(async (error: unknown) => {
    await mesh?.close();
    throw error;
  });
  const cluster = new LocalNatsCluster(name, nodes, options.storeDir === undefined, mesh);
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
}

/** What a node's config says about its routes: plain, or through the mesh's proxies. */
interface Routing {
  readonly routes: readonly string[];
  /** cluster.advertise, the address the node's peers gossip about it. */
  readonly advertise?: string;
  /** Top-level lines for the node (ping settings). */
  readonly extra: readonly string[];
}

function routing(specs: readonly NodeSpec[], self: NodeSpec, mesh: RouteMesh | undefined): Routing {
  // Without a mesh every node lists every node (a route to itself is recognised and ignored).
  if (mesh === undefined) return { routes: specs.map((s) => `nats-route://127.0.0.1:${s.clusterPort}`), extra: [] };
  return { routes: mesh.routesFrom(self.name), advertise: `127.0.0.1:${mesh.gossipPort}`, extra: ['ping_interval: "1s"', 'ping_max: 3'] };
}

/** nats-server's configuration for one node. */
function nodeConfig(s: NodeSpec, cluster: string, r: Routing): string {
  return [
    `server_name: ${s.name}`,
    `listen: "127.0.0.1:${s.port}"`,
    `http: "127.0.0.1:${s.monitorPort}"`,
    ...r.extra,
    `jetstream { store_dir: ${JSON.stringify(s.storeDir)} }`,
    'cluster {',
    `  name: ${cluster}`,
    `  listen: "127.0.0.1:${s.clusterPort}"`,
    // no_advertise keeps the other nodes' client URLs from clients; gossip of route
    // addresses is what `advertise` (nats-route-mesh.ts) takes care of.
    ...(r.advertise === undefined ? [] : [`  advertise: "${r.advertise}"`, '  no_advertise: true']),
    `  routes: [${r.routes.map((route) => JSON.stringify(route)).join(', ')}]`,
    '}',
    '',
  ].join('\n');
}

function requireMesh(mesh: RouteMesh | undefined, cluster: string): RouteMesh {
  if (mesh === undefined) throw new Error(`NATS cluster ${cluster} was started without partitionable: true; its nodes cannot be partitioned or healed`);
  return mesh;
}

async function monitor<T>(url: string): Promise<T | undefined> {
  const res = await fetch(url).catch(() => undefined);
  return res === undefined ? undefined : ((await res.json()) as T);
}

async function connectionNames(monitorUrl: string): Promise<string[]> {
  const body = await monitor<{ connections?: { name?: string }[] }>(`${monitorUrl}/connz?limit=10000`);
  return (body?.connections ?? []).map((c) => c.name ?? '');
}

/** /routez of one node, with each remote server id named after /varz of the nodes that answer. */
async function routes(monitorUrl: string, allMonitorUrls: readonly string[]): Promise<NatsRoute[]> {
  // (nats-server 2.9 reports did_solicit true on both ends of a route, so it is left out.)
  const body = await monitor<{ routes?: { remote_id: string; port: number }[] }>(`${monitorUrl}/routez`);
  if (body?.routes === undefined) return [];
  const varz = await Promise.all(allMonitorUrls.map((u) => monitor<{ server_id: string; server_name: string }>(`${u}/varz`)));
  const names = new Map(varz.flatMap((v) => (v === undefined ? [] : [[v.server_id, v.server_name] as const])));
  return body.routes.map((r) => ({ peer: names.get(r.remote_id) ?? r.remote_id, port: r.port }));
}

class LocalNatsCluster implements NatsCluster {
  readonly urls: readonly string[];
  readonly links: readonly RouteLink[];

  constructor(
    readonly name: string,
    readonly nodes: readonly NatsClusterNode[],
    private readonly removeStores: boolean,
    private readonly mesh: RouteMesh | undefined,
  ) {
    this.urls = nodes.map((n) => n.url);
    this.links = mesh?.links ?? [];
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

  partitioned(): string[] {
    return this.mesh?.partitioned() ?? [];
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    await this.mesh?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    if (this.removeStores) await Promise.all(this.nodes.map((n) => rm(n.storeDir, { recursive: true, force: true })));
  }
}
