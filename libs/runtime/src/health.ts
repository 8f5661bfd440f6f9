// An HTTP health endpoint for processes that have no HTTP server of their own:
// GET /health (also /healthz, /readyz) answers 200 {"status":"healthy"} when every check
// passes and 503 {"status":"unhealthy","checks":{name: reason}} otherwise. With `metrics`, it
// is the ops endpoint (metrics.ts) and GET /metrics answers the Prometheus text format.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Resolves when healthy; throws (or rejects) with the reason when not. */
export type HealthCheck = () => void | Promise<void>;

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

export interface HealthReport {
  readonly status: 'healthy' | 'unhealthy';
  readonly version: string;
  readonly checks: Readonly<Record<string, string>>;
}

export async function checkHealth(checks: Readonly<Record<string, HealthCheck>>, version: string): Promise<HealthReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await check();
        return [name, 'ok'] as const;
      } catch (err) {
        return [name, err instanceof Error ? err.message : String(err)] as const;
      }
    }),
  );
  const healthy = entries.every(([, v]) => v === 'ok');
  return { status: healthy ? 'healthy' : 'unhealthy', version, checks: Object.fromEntries(entries) };
}

export interface HealthServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startHealthServer(options: {
  readonly host: string;
  readonly port: number;
  readonly version: string;
  readonly checks: Readonly<Record<string, HealthCheck>>;
  /** The Prometheus text served at GET /metrics. */
  readonly metrics?: () => Promise<string>;
}): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics' && options.metrics !== undefined) {
      options.metrics().then(
        (text) => res.writeHead(200, { 'content-type': PROMETHEUS_TEXT }).end(text),
        () => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal_error"}'),
      );
      return;
    }
    if (req.method !== 'GET' || !['/health', '/healthz', '/readyz'].includes(path ?? '')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    void checkHealth(options.checks, options.version).then((report) => {
      res.writeHead(report.status === 'healthy' ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(report));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${options.host}:${port}`,
    port,
    close: () => (closed ??= new Promise((resolve) => server.close(() => resolve()))),
  };
}
