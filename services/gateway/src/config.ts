// The gateway's configuration, declared once; `--help` and the README print this schema.
// docs/architecture.md §7 fixes the defaults scripts rely on: HTTP on 127.0.0.1:8080, storage gRPC on
// 50052, write gRPC on 50053, the first DBA named by SEQLINE_ADMIN_USER.
import { type ConfigField, type ConfigOf, bool, int, LOG_LEVELS, oneOf, optionalStr, parseConfig, port, str, urls } from '@seqline/runtime';
import { USER_ID_PATTERN } from '@seqline/domain';
import { natsReplicasField } from '@seqline/bus';
import { oidcIssuersField } from './auth/oidc-config.js';

// host:port, [v6]:port, or a gRPC target naming several backends: `dns:///host:port` (every
// address the name resolves to) or `ipv4:a:port,b:port` (the first that answers).
const IPV4_PORT = String.raw`\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}`;
const GRPC_ADDRESS = new RegExp(
  [String.raw`^[^\s:]+:\d{1,5}$`, String.raw`^\[[0-9A-Fa-f:.]+\]:\d{1,5}$`, String.raw`^dns:(?:\/\/[^\s/]*\/)?[^\s:/]+(?::\d{1,5})?$`, `^ipv4:${IPV4_PORT}(?:,${IPV4_PORT})*$`].join('|'),
);

/** `*` (any origin) or a comma-separated list of exact origins such as `https://app.example.com`. */
function corsOrigins(c: { env: string; description: string; default: string }): ConfigField<readonly string[] | '*'> {
  return {
    env: c.env,
    description: c.description,
    defaultText: c.default,
    secret: false,
    read: (raw) => {
      const text = raw === undefined || raw.trim() === '' ? c.default : raw.trim();
      if (text === '*') return '*';
      const list = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
      for (const origin of list) {
        let url: URL;
        try {
          url = new URL(origin);
        } catch {
          throw new Error(`must be * or a list of origins, got ${JSON.stringify(origin)}`);
        }
        if (url.origin !== origin) throw new Error(`lists ${JSON.stringify(origin)}: write an origin exactly as browsers send it (${url.origin})`);
      }
      if (list.length === 0) throw new Error('must be * or list at least one origin');
      return list;
    },
  };
}

/** A required secret of at least `min` characters. */
function secret(c: { env: string; description: string; min: number }): ConfigField<string> {
  const inner = str({ env: c.env, description: c.description, secret: true });
  return {
    ...inner,
    read: (raw) => {
      const value = inner.read(raw);
      if (value.length < c.min) throw new Error(`must be at least ${c.min} characters long`);
      return value;
    },
  };
}

export const gatewayConfigSchema = {
  host: str({ env: 'SEQLINE_GATEWAY_HOST', default: '127.0.0.1', description: 'address the HTTP server binds' }),
  port: port({ env: 'SEQLINE_GATEWAY_PORT', default: 8080, description: 'HTTP port (0 = any free port)' }),
  storageAddr: str({ env: 'SEQLINE_STORAGE_ADDR', default: '127.0.0.1:50052', pattern: GRPC_ADDRESS, description: 'storage gRPC address: host:port, or a gRPC target for several replicas (dns:///host:port, ipv4:a:port,b:port)' }),
  writeAddr: str({ env: 'SEQLINE_WRITE_ADDR', default: '127.0.0.1:50053', pattern: GRPC_ADDRESS, description: 'write gRPC address: host:port, or a gRPC target for several instances (dns:///host:port, ipv4:a:port,b:port)' }),
  jwtSecret: secret({ env: 'SEQLINE_JWT_SECRET', min: 32, description: 'HS256 key for access and refresh tokens (at least 32 characters)' }),
  accessTokenTtlS: int({ env: 'SEQLINE_ACCESS_TOKEN_TTL_S', default: 3600, min: 30, max: 86_400 * 30, description: 'lifetime of an access token, seconds' }),
  refreshTokenTtlS: int({ env: 'SEQLINE_REFRESH_TOKEN_TTL_S', default: 604_800, min: 60, max: 86_400 * 365, description: 'lifetime of a refresh token, seconds' }),
  maxBodyBytes: int({ env: 'SEQLINE_MAX_BODY_BYTES', default: 1_048_576, min: 1024, max: 256 * 1024 * 1024, description: 'largest HTTP request body (413 above)' }),
  maxSqlBytes: int({ env: 'SEQLINE_MAX_SQL_BYTES', default: 262_144, min: 64, max: 256 * 1024 * 1024, description: 'largest `sql` text of POST /v1/api/sql, UTF-8 bytes (413 above)' }),
  queryRate: int({ env: 'SEQLINE_QUERY_RATE', default: 100, min: 1, max: 1_000_000, description: 'SQL requests per second per user (bursts of twice that)' }),
  loginRate: int({ env: 'SEQLINE_LOGIN_RATE', default: 20, min: 1, max: 100_000, description: 'login and setup attempts per minute per client IP' }),
  loginMaxFailures: int({ env: 'SEQLINE_LOGIN_MAX_FAILURES', default: 5, min: 1, max: 1000, description: 'consecutive failed logins that lock an account' }),
  loginLockoutMs: int({ env: 'SEQLINE_LOGIN_LOCKOUT_MS', default: 900_000, min: 0, max: 86_400_000, description: 'how long a locked account stays locked, ms' }),
  credentialCacheTtlMs: int({ env: 'SEQLINE_CREDENTIAL_CACHE_TTL_MS', default: 10_000, min: 100, max: 600_000, description: "how long a gateway trusts its cached copy of a user's role and credential version (changes reach every gateway at once through the bus; this backs up a missed notice), and how often open WebSockets are re-checked, ms" }),
  oidcIssuers: oidcIssuersField,
  oidcJwksCooldownMs: int({ env: 'SEQLINE_OIDC_JWKS_COOLDOWN_MS', default: 30_000, min: 0, max: 3_600_000, description: "least time between two fetches of an identity provider's keys (a token with an unknown kid fetches them again, at most this often), ms" }),
  oidcJwksMaxAgeMs: int({ env: 'SEQLINE_OIDC_JWKS_MAX_AGE_MS', default: 600_000, min: 1000, max: 86_400_000, description: "an identity provider's keys older than this are fetched again on next use, ms" }),
  oidcFetchTimeoutMs: int({ env: 'SEQLINE_OIDC_FETCH_TIMEOUT_MS', default: 5000, min: 100, max: 60_000, description: "deadline of a fetch of an identity provider's keys or discovery document, ms" }),
  oidcClockToleranceS: int({ env: 'SEQLINE_OIDC_CLOCK_TOLERANCE_S', default: 30, min: 0, max: 300, description: "clock difference allowed when checking an identity provider token's exp and nbf, seconds" }),
  corsOrigins: corsOrigins({ env: 'SEQLINE_CORS_ORIGINS', default: '*', description: 'origins allowed by CORS: * or a comma-separated list' }),
  cookieSecure: bool({ env: 'SEQLINE_COOKIE_SECURE', default: false, description: 'mark the refresh cookie Secure (set it when clients reach the gateway over HTTPS)' }),
  adminUser: str({ env: 'SEQLINE_ADMIN_USER', default: 'admin', pattern: USER_ID_PATTERN, description: 'name of the first DBA created at start-up' }),
  adminPassword: optionalStr({ env: 'SEQLINE_ADMIN_PASSWORD', secret: true, description: 'when set, the first DBA is created at start-up if no DBA exists yet' }),
  natsUrls: urls({ env: 'SEQLINE_NATS_URL', default: ['nats://127.0.0.1:14222'], protocols: ['nats', 'tls'], description: 'NATS server URL(s), comma-separated (the live tail and change history)' }),
  natsReplicas: natsReplicasField,
  busPrefix: str({ env: 'SEQLINE_BUS_PREFIX', default: 'seqline', pattern: /^[A-Za-z0-9_-]+$/, description: 'prefix of NATS subjects and streams' }),
  wsAuthTimeoutMs: int({ env: 'SEQLINE_WS_AUTH_TIMEOUT_MS', default: 3000, min: 100, max: 60_000, description: 'a WebSocket must authenticate within this time, ms' }),
  wsIdleMs: int({ env: 'SEQLINE_WS_IDLE_MS', default: 10_000, min: 1000, max: 600_000, description: 'a WebSocket silent this long is closed, ms' }),
  wsMaxFrameBytes: int({ env: 'SEQLINE_WS_MAX_FRAME_BYTES', default: 1_048_576, min: 1024, max: 64 * 1024 * 1024, description: 'largest client WebSocket frame (closed with 1009 above)' }),
  wsMaxSubscriptions: int({ env: 'SEQLINE_WS_MAX_SUBSCRIPTIONS', default: 100, min: 1, max: 10_000, description: 'subscriptions per WebSocket connection' }),
  wsMessageRate: int({ env: 'SEQLINE_WS_MESSAGE_RATE', default: 50, min: 1, max: 100_000, description: 'client messages per second per WebSocket (bursts of twice that)' }),
  wsMaxBufferedBytes: int({ env: 'SEQLINE_WS_MAX_BUFFERED_BYTES', default: 16 * 1024 * 1024, min: 65_536, description: 'unsent bytes a WebSocket may hold before its subscriptions get SLOW_CONSUMER' }),
  wsStreamTimeoutMs: int({ env: 'SEQLINE_WS_STREAM_TIMEOUT_MS', default: 600_000, min: 1000, max: 86_400_000, description: "deadline of a subscription's Snapshot and CatchUp streams from storage (a client-paced snapshot not read to its end by then fails), ms" }),
  liveDirectoryTtlMs: int({ env: 'SEQLINE_LIVE_DIRECTORY_TTL_MS', default: 15_000, min: 1000, max: 600_000, description: 'a gateway that stops refreshing its system.live directory entry (every third of this) is forgotten after this long, ms' }),
  liveListTimeoutMs: int({ env: 'SEQLINE_LIVE_LIST_TIMEOUT_MS', default: 2000, min: 50, max: 60_000, description: 'a system.live query waits this long for every gateway to list its subscriptions, ms' }),
  filterBudget: int({ env: 'SEQLINE_FILTER_BUDGET', default: 10_000_000, min: 1000, max: 1_000_000_000, description: 'steps a subscription\'s WHERE may take on one change (a comparison, a character LIKE or a text comparison reads); past it the subscription ends with FILTER_BUDGET_EXCEEDED' }),
  liveMaxLimit: int({ env: 'SEQLINE_LIVE_MAX_LIMIT', default: 1000, min: 1, max: 10_000, description: 'the largest LIMIT of a live query (a window: the gateway keeps its rows and as many again below them, per subscription)' }),
  historyReads: int({ env: 'SEQLINE_HISTORY_READS', default: 4, min: 1, max: 1000, description: 'change-history reads (resumes, gap repairs) a gateway runs at a time; more wait their turn' }),
  clockSkewMs: int({ env: 'SEQLINE_CLOCK_SKEW_MS', default: 5000, min: 0, max: 600_000, description: 'history reads start this long before the time in a _seq, ms' }),
  consumeAckWaitMs: int({ env: 'SEQLINE_CONSUME_ACK_WAIT_MS', default: 30_000, min: 1000, max: 3_600_000, description: "change consumers: a worker's lease on its lanes, and its unacknowledged changes, last this long after its last fetch or ack; then another worker of the group gets them again, ms" }),
  consumeLanes: int({ env: 'SEQLINE_CONSUME_LANES', default: 4, min: 1, max: 64, description: "change consumers: lanes of a new consumer group, the most workers that share its load (an owner's changes always go to one lane; each lane reads the table's whole change stream)" }),
  consumeMaxGroups: int({ env: 'SEQLINE_CONSUME_MAX_GROUPS', default: 16, min: 1, max: 1000, description: 'change consumers: consumer groups per table at most' }),
  consumeMaxFetch: int({ env: 'SEQLINE_CONSUME_MAX_FETCH', default: 100, min: 1, max: 10_000, description: 'change consumers: changes per fetch at most (and the default)' }),
  consumeMaxWaitMs: int({ env: 'SEQLINE_CONSUME_MAX_WAIT_MS', default: 20_000, min: 0, max: 300_000, description: 'change consumers: the longest a fetch waits for a first change, ms' }),
  requestTimeoutMs: int({ env: 'SEQLINE_REQUEST_TIMEOUT_MS', default: 30_000, min: 100, max: 600_000, description: 'deadline of each call to storage and write, ms' }),
  metricsPort: port({ env: 'SEQLINE_METRICS_PORT', default: 9464, description: 'ops HTTP port of the process started by main.ts: GET /metrics (Prometheus), /health, /healthz, /readyz; same address as the service (0 = any free port)' }),
  logLevel: oneOf({ env: 'SEQLINE_LOG_LEVEL', values: LOG_LEVELS, default: 'info', description: 'log level' }),
} as const;

export type GatewayConfig = ConfigOf<typeof gatewayConfigSchema>;

/**
 * A complete configuration from the defaults plus `overrides` (for tests and embedding:
 * `gatewayConfig({ jwtSecret, port: 0, storageAddr, writeAddr })`). Overrides are not
 * re-validated; production reads the environment through parseConfig instead.
 */
export function gatewayConfig(overrides: Partial<GatewayConfig> & Pick<GatewayConfig, 'jwtSecret'>): GatewayConfig {
  const defaults = parseConfig(gatewayConfigSchema, { SEQLINE_JWT_SECRET: 'x'.repeat(32) });
  return { ...defaults, ...overrides };
}
