// Prometheus metrics (docs/operations.md "Metrics and traces"). Each service instance owns a
// registry of its own metrics (so two services in one process, as in the e2e stack, never
// share a counter); the process's default metrics (CPU, memory, event loop, GC) live in one
// registry per process. `GET /metrics` on the ops port (startOpsServer) serves both.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { startHealthServer, type HealthCheck, type HealthServer } from './health.js';

export { Counter, Gauge, Histogram };
export type { Registry };

/** Histogram buckets (seconds) for request and write latencies: 0.5 ms … 10 s. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

let processRegistry: Registry | undefined;

export function newRegistry(): Registry {
  return new Registry();
}

/** The Prometheus text of `registry` after the process's default metrics. */
export async function metricsText(registry: Registry): Promise<string> {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return `${await processRegistry.metrics()}\n${await registry.metrics()}`;
}

export type OpsServer = HealthServer;

/** The ops HTTP endpoint: GET /metrics, and /health, /healthz, /readyz from `checks`. */
export function startOpsServer(options: {
  readonly host: string;
  readonly port: number;
  readonly version: string;
  readonly registry: Registry;
  readonly checks: Readonly<Record<string, HealthCheck>>;
}): Promise<OpsServer> {
  return startHealthServer({ ...options, metrics: () => metricsText(options.registry) });
}
