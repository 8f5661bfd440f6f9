// GET /health and GET /v1/api/healthcheck (docs/protocol.md §2): `{"status":"healthy","version",
// "api_version":"v1"}`. While the gateway drains it answers 503 with status "draining", so a
// load balancer stops sending new requests before the process goes away.
import type { Handler } from './context.js';
import { jsonReply } from './reply.js';

export const API_VERSION = 'v1';

export function healthRoute(version: string, isDraining: () => boolean): Handler {
  return async () =>
    isDraining()
      ? jsonReply(503, { status: 'draining', version, api_version: API_VERSION }, { 'cache-control': 'no-store' })
      : jsonReply(200, { status: 'healthy', version, api_version: API_VERSION }, { 'cache-control': 'no-store' });
}
