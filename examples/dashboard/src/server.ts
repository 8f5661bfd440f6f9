// Serves a built dashboard (build.ts) over HTTP, and config.json telling the page where the
// gateway is. The page calls the gateway directly, cross-origin: the gateway's CORS allows any
// origin by default (SEQLINE_CORS_ORIGINS) and WebSockets are not subject to CORS. Only the
// built files are served, by name; anything else is a 404.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const TYPES: Record<string, string> = {
  '/index.html': 'text/html; charset=utf-8',
  '/app.js': 'text/javascript; charset=utf-8',
  '/app.js.map': 'application/json; charset=utf-8',
  '/styles.css': 'text/css; charset=utf-8',
};

export interface ServeOptions {
  /** The folder buildDashboard wrote. */
  readonly dir: string;
  /** The gateway's base URL as the browser reaches it. */
  readonly gatewayUrl: string;
  /** 0 = any free port. */
  readonly port: number;
  readonly host?: string;
}

export interface DashboardServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function serveDashboard(options: ServeOptions): Promise<DashboardServer> {
  const config = JSON.stringify({ gatewayUrl: options.gatewayUrl.replace(/\/$/, '') });
  const server = createServer((req, res) => void respond(req, res, options.dir, config));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function respond(req: IncomingMessage, res: ServerResponse, dir: string, config: string): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed', { allow: 'GET, HEAD' });
  const path = new URL(req.url ?? '/', 'http://dashboard').pathname;
  if (path === '/config.json') return send(res, 200, 'application/json', config);
  const name = path === '/' ? '/index.html' : path;
  const type = TYPES[name];
  if (type === undefined) return send(res, 404, 'text/plain', 'not found');
  try {
    send(res, 200, type, await readFile(join(dir, name)));
  } catch {
    send(res, 404, 'text/plain', `${name.slice(1)} is not built: run the dashboard's build`);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
