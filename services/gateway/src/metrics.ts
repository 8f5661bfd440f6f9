// The gateway's Prometheus metrics (docs/operations.md "Metrics and traces"), one set per
// gateway instance in its registry. Labels are bounded: route names from the route table,
// HTTP status codes, error codes from the error table, fixed states and paths; never user
// ids, SQL text or table names. Counters on the delivery path are bound to their labels once.
import { Counter, Gauge, Histogram, LATENCY_BUCKETS, type Registry } from '@seqline/runtime';

/** How a subscription caught up: JetStream history, storage's compacted view, or a reset with a fresh snapshot. */
export type CatchUpPath = 'history' | 'compacted' | 'reset';

/** Counts the WebSocket endpoint reports when scraped. */
export interface LiveCounts {
  readonly sockets: { readonly authenticating: number; readonly authenticated: number };
  readonly subscriptions: { readonly loading: number; readonly live: number };
}

export class GatewayMetrics {
  readonly httpSeconds: Histogram;
  readonly writeSeconds: Histogram;
  readonly deliveries: Counter;
  readonly catchUps: Readonly<Record<CatchUpPath, Counter.Internal>>;
  readonly slowConsumers: Counter;
  /** Row changes applied to windows (live queries with LIMIT), and the reads that refilled one. */
  readonly window: { readonly changes: Counter; readonly refills: Counter };
  #live: (() => LiveCounts) | undefined;
  #tails: (() => number) | undefined;

  constructor(registry: Registry) {
    const registers = [registry];
    this.httpSeconds = new Histogram({ name: 'seqline_gateway_http_request_duration_seconds', help: 'HTTP requests, from arrival to the response, by route and status', labelNames: ['route', 'status'], buckets: LATENCY_BUCKETS, registers });
    this.writeSeconds = new Histogram({ name: 'seqline_gateway_write_duration_seconds', help: "mutations sent to the write service, from the call to its answer (the write's acknowledgement), by outcome (ok or the error code)", labelNames: ['code'], buckets: LATENCY_BUCKETS, registers });
    this.deliveries = new Counter({ name: 'seqline_gateway_deliveries_total', help: 'changes delivered to a subscription (one per change and subscription whose filter matched at least one of its rows)', registers });
    const catchUps = new Counter({ name: 'seqline_gateway_catchups_total', help: 'catch-ups of subscriptions (resumes and gap repairs), by path: history, compacted or reset', labelNames: ['path'], registers });
    this.catchUps = { history: catchUps.labels('history'), compacted: catchUps.labels('compacted'), reset: catchUps.labels('reset') };
    for (const c of Object.values(this.catchUps)) c.inc(0); // every path is exposed from the start, at 0
    this.slowConsumers = new Counter({ name: 'seqline_gateway_slow_consumers_total', help: 'subscriptions ended with SLOW_CONSUMER (their socket held too much unsent data)', registers });
    this.window = {
      changes: new Counter({ name: 'seqline_gateway_window_changes_total', help: 'row changes applied to windows (live queries with LIMIT), one per row change and window', registers }),
      refills: new Counter({ name: 'seqline_gateway_window_refills_total', help: 'reads of a window after its snapshot: rows left it and fewer than its LIMIT were known', registers }),
    };
    const live = (): LiveCounts | undefined => this.#live?.();
    const tails = (): number => this.#tails?.() ?? 0;
    const byState = (name: string, help: string, read: (counts: LiveCounts) => Readonly<Record<string, number>>): Gauge =>
      new Gauge({
        name,
        help,
        labelNames: ['state'],
        registers,
        collect() {
          const counts = live();
          if (counts !== undefined) for (const [state, n] of Object.entries(read(counts))) this.set({ state }, n);
        },
      });
    byState('seqline_gateway_websockets', 'open WebSocket connections, by state: authenticating or authenticated', (c) => c.sockets);
    byState('seqline_gateway_subscriptions', 'subscriptions, by state: loading (snapshot or catch-up) or live', (c) => c.subscriptions);
    new Gauge({ name: 'seqline_gateway_change_tails', help: 'core NATS subscriptions of the live tail (one per change subject with subscribers)', registers, collect() { this.set(tails()); } });
  }

  /** Where the socket, subscription and tail gauges read their values (the realtime endpoint, once started). */
  observeLive(live: () => LiveCounts, tails: () => number): void {
    this.#live = live;
    this.#tails = tails;
  }
}
