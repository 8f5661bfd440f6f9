// The route proxies of a partitionable NATS test cluster: one TcpProxy for each ordered pair of
// nodes (from → to, from ≠ to), forwarding to the route port of `to`. Node `from` lists only its
// proxies as routes, so every route connection between two nodes passes through one of them.
//
// A link is blocked exactly while either of its ends is partitioned: partition(n) blocks every
// link to or from n (open route connections are destroyed, new ones accepted and destroyed),
// heal(n) unblocks those whose other end is not partitioned itself. nats-server then reconnects
// its routes on its own (it retries configured routes forever).
//
// Gossip would go around the proxies: a node that accepts a route tells its other peers the new
// node's route address, and a peer not yet connected to that node dials it directly. So every node
// advertises `gossipPort` instead (cluster.advertise), a port nothing listens on: such a dial is
// refused and the node keeps using its configured route through the proxy.
import { TcpProxy } from './tcp-proxy.js';
import { freePort } from './support.js';

export interface RouteLink {
  /** server_name of the node that dials through this proxy. */
  readonly from: string;
  /** server_name of the node the proxy forwards to. */
  readonly to: string;
  readonly proxy: TcpProxy;
}

export class RouteMesh {
  readonly #partitioned = new Set<string>();

  private constructor(
    readonly links: readonly RouteLink[],
    /** The port every node advertises for gossip; nothing listens there. */
    readonly gossipPort: number,
  ) {}

  /** Starts a proxy for every ordered pair of `nodes`, forwarding. */
  static async start(nodes: readonly { readonly name: string; readonly clusterPort: number }[]): Promise<RouteMesh> {
    const links: RouteLink[] = [];
    try {
      for (const from of nodes) {
        for (const to of nodes) {
          if (to !== from) links.push({ from: from.name, to: to.name, proxy: await TcpProxy.start(to.clusterPort) });
        }
      }
      return new RouteMesh(links, await freePort());
    } catch (error) {
      await Promise.all(links.map((l) => l.proxy.close()));
      throw error;
    }
  }

  /** The route URLs node `name` is configured with: its proxies to every other node. */
  routesFrom(name: string): string[] {
    return this.links.filter((l) => l.from === name).map((l) => `nats-route://127.0.0.1:${l.proxy.port}`);
  }

  partition(name: string): void {
    this.#partitioned.add(name);
    this.#apply();
  }

  heal(name: string): void {
    this.#partitioned.delete(name);
    this.#apply();
  }

  /** Names of the nodes partitioned now, in node order. */
  partitioned(): string[] {
    return [...new Set(this.links.map((l) => l.from))].filter((n) => this.#partitioned.has(n));
  }

  /** Closes every proxy. Idempotent. */
  async close(): Promise<void> {
    await Promise.all(this.links.map((l) => l.proxy.close()));
  }

  #apply(): void {
    for (const { from, to, proxy } of this.links) {
      if (this.#partitioned.has(from) || this.#partitioned.has(to)) proxy.block();
      else proxy.unblock();
    }
  }
}
