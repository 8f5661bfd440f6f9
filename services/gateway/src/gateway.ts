// The gateway service (docs/architecture.md §1): the HTTP API of docs/protocol.md §2 in front of storage and
// write, and the WebSocket endpoint of §4 (realtime subscriptions; see ws/endpoint.ts). Stateless: any number of replicas serve the same users (tokens are self-contained
// HS256 JWTs checked against each user's credential version, cached per replica and dropped
// on the bus's user notices: auth/credential-cache.ts; rate limits are per replica).
//
// Lifecycle: load the SQL parser → connect the backend (gRPC clients, created once) → if
// SEQLINE_ADMIN_PASSWORD is set, make sure the first DBA exists (Storage.Setup, idempotent;
// retried with backoff while storage is unavailable) → listen. `ready` resolves with the bound
// port. drain: health turns 503, no new connections, requests in flight finish; then stop:
// close every connection and the gRPC clients.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { credentials } from '@grpc/grpc-js';
import type { NatsConnection } from '@nats-io/transport-node';
import { busNames, connectNats, ensureBucket } from '@seqline/bus';
import { storagePb } from '@seqline/proto';
import { ProtocolError, RemoteCatalog, toProtocolError, unaryCall } from '@seqline/protocol';
import { hashPassword, RunningState, ServiceHost, verifyPassword, type Logger } from '@seqline/runtime';
import { stringifyJsonLossless } from '@seqline/seq';
import { initSql } from '@seqline/sql';
import pkg from '../package.json' with { type: 'json' };
import { CredentialCache } from './auth/credential-cache.js';
import { ExternalAuth, provisionUser } from './auth/external.js';
import { OidcVerifier } from './auth/oidc.js';
import { SocketRevocation } from './auth/revocation.js';
import type { Backend, Caller } from './backend.js';
import type { GatewayConfig } from './config.js';
import { ChangeConsumers } from './consume/consumers.js';
import { consumeRoutes } from './consume/routes.js';
import { createGrpcBackend } from './grpc-backend.js';
import { authRoutes } from './http/auth-routes.js';
import { healthRoute } from './http/health-route.js';
import type { JsonScalar } from './http/shapes.js';
import { HttpServer } from './http/server.js';
import { sqlRoute } from './http/sql-route.js';
import { JwtCodec } from './jwt.js';
import { ChangeHub } from './live/change-hub.js';
import { limitConcurrency } from './live/concurrency.js';
import { LiveDirectory } from './live/directory.js';
import { lastChangeSeq, readHistory } from './live/history.js';
import { compileSystemLive } from './live/system-live.js';
import { RateLimiter } from './rate-limit.js';
import type { SqlParser } from './sql/dispatch.js';
import { pgSqlParser } from './sql/parser.js';
import { GatewayMetrics } from './metrics.js';
import { WsEndpoint } from './ws/endpoint.js';

export const GATEWAY_VERSION: string = pkg.version;

export interface GatewayDeps {
  readonly logger: Logger;
  /** Default: gRPC clients of SEQLINE_STORAGE_ADDR and SEQLINE_WRITE_ADDR (closed on stop). A given backend is the caller's to close. */
  readonly backend?: Backend;
  readonly parser?: SqlParser;
  /** Wall clock, ms since the epoch (token times, lockouts). */
  readonly now?: () => number;
  /** Monotonic ms (took, rate limits). */
  readonly monotonic?: () => number;
}

export interface GatewayInfo {
  readonly port: number;
}

export class GatewayService extends ServiceHost<GatewayInfo> {
  readonly id = 'gateway';
  readonly #config: GatewayConfig;
  readonly #deps: GatewayDeps;
  readonly #logger: Logger;
  #backend: Backend | undefined;
  #http: HttpServer | undefined;
  #nc: NatsConnection | undefined;
  #hub: ChangeHub | undefined;
  #ws: WsEndpoint | undefined;
  #directory: LiveDirectory | undefined;
  #storageClient: storagePb.StorageClient | undefined;
  #credentials: CredentialCache | undefined;
  #revocation: SocketRevocation | undefined;
  #consumers: ChangeConsumers | undefined;
  /** Identity providers' tokens; undefined when SEQLINE_OIDC_ISSUERS lists none. */
  #external: ExternalAuth | undefined;
  readonly #metrics = new GatewayMetrics(this.metrics);

  constructor(config: GatewayConfig, deps: GatewayDeps) {
    super(new RunningState('gateway', { backoff: { initialMs: 200, maxMs: 5000 } }));
    this.#config = config;
    this.#deps = deps;
    this.#logger = deps.logger;
  }

  /** The bound HTTP port; throws before `ready`. */
  get port(): number {
    if (this.#http === undefined) throw new Error('the gateway is not serving yet: await ready');
    return this.#http.port;
  }

  /** The live tail (one NATS subscription per change subject); undefined without realtime. */
  get liveTail(): ChangeHub | undefined {
    return this.#hub;
  }

  /** For the WebSocket endpoint to attach to ('upgrade'); undefined before `ready`. */
  get httpServer(): HttpServer | undefined {
    return this.#http;
  }

  /** Stops taking requests, lets those in flight finish, then stops. */
  override async drain(): Promise<void> {
    this.#ws?.close();
    if (this.#http !== undefined) {
      this.#logger.info('draining: answering requests in flight');
      await this.#http.drain();
    }
    await this.stop();
  }

  protected async startUp(): Promise<GatewayInfo> {
    const config = this.#config;
    await initSql();
    const backend = this.#deps.backend ?? createGrpcBackend({ storageAddr: config.storageAddr, writeAddr: config.writeAddr, timeoutMs: config.requestTimeoutMs, metrics: this.#metrics });
    this.#backend = backend;
    this.#credentials = new CredentialCache({
      load: (userIds) => backend.getCredentials(userIds),
      ttlMs: config.credentialCacheTtlMs,
      now: this.#monotonic,
    });
    this.#external = this.#externalAuth(backend, this.#credentials);
    if (config.adminPassword !== undefined) await this.#ensureAdmin(backend, config.adminUser, config.adminPassword);
    if (!this.state.shouldRun()) throw new Error('gateway stopped during start-up');
    const http = await HttpServer.listen({
      host: config.host,
      port: config.port,
      handlers: await this.#handlers(backend, this.#credentials, () => this.#http?.draining ?? false),
      corsOrigins: config.corsOrigins,
      maxBodyBytes: config.maxBodyBytes,
      logger: this.#logger,
      monotonic: this.#monotonic,
      metrics: this.#metrics,
    });
    this.#http = http;
    if (this.#deps.backend === undefined) await this.#startRealtime(http, this.#credentials);
    this.#logger.info('gateway serving', { url: `http://${config.host}:${http.port}`, storage: config.storageAddr, write: config.writeAddr });
    return { port: http.port };
  }

  /**
   * The WebSocket endpoint: a NATS connection for the live tail and the change history, the
   * catalog from storage (refreshed on catalog notices), and `/v1/ws` on the HTTP server.
   * Only with the real gRPC backend: an embedded gateway with a backend of its own serves HTTP.
   */
  async #startRealtime(http: HttpServer, userCredentials: CredentialCache): Promise<void> {
    const config = this.#config;
    const nc = await connectNats({ servers: config.natsUrls, name: 'gateway', logger: this.#logger, state: this.state, metrics: this.metrics });
    if (nc === undefined) throw new Error('stopped before NATS was reached');
    this.#nc = nc;
    const names = busNames(config.busPrefix);
    // One storage client for the catalog and every subscription's Snapshot and CatchUp streams.
    const storage = new storagePb.StorageClient(config.storageAddr, credentials.createInsecure());
    this.#storageClient = storage;
    const catalog = new RemoteCatalog(() => unaryCall(storage.getCatalog.bind(storage), {}, config.requestTimeoutMs));
    catalog.follow(nc.subscribe(names.catalogSubject));
    userCredentials.follow(nc.subscribe(names.usersSubject));
    userCredentials.followReconnects(nc.status());
    const revocation = new SocketRevocation(userCredentials);
    this.#revocation = revocation;
    await catalog.refresh().catch((err: unknown) => this.#logger.warn('catalog not loaded yet; it is fetched on first use', { err }));
    const hub = new ChangeHub(nc);
    this.#hub = hub;
    const ws = new WsEndpoint({
      jwt: new JwtCodec(config.jwtSecret, this.#deps.now ?? Date.now),
      ...(this.#external === undefined ? {} : { external: this.#external }),
      revocation,
      hub,
      catalog,
      storage,
      subject: (owner, namespace, table) => names.changes(owner, namespace, table),
      history: limitConcurrency(
        config.historyReads,
        (subject: string, after: bigint, signal: AbortSignal, directReads?: number) => readHistory(nc, names.changesStream, subject, after, { skewMs: config.clockSkewMs, signal, ...(directReads === undefined ? {} : { directReads }) }),
        (_subject, _after, signal) => signal,
      ),
      head: (subject) => lastChangeSeq(nc, names.changesStream, subject),
      logger: this.#logger,
      limits: {
        authTimeoutMs: config.wsAuthTimeoutMs,
        idleMs: config.wsIdleMs,
        maxFrameBytes: config.wsMaxFrameBytes,
        maxSubscriptions: config.wsMaxSubscriptions,
        messageRate: config.wsMessageRate,
        maxBufferedBytes: config.wsMaxBufferedBytes,
        defaultBatchSize: 1000,
        filterBudget: config.filterBudget,
        liveMaxLimit: config.liveMaxLimit,
        streamTimeoutMs: config.wsStreamTimeoutMs,
      },
      monotonic: this.#monotonic,
      metrics: this.#metrics,
    });
    this.#metrics.observeLive(() => ws.counts(), () => hub.subscriptions);
    ws.attach(http.nodeServer);
    this.#ws = ws;
    const node = `${hostname().replace(/[^A-Za-z0-9_-]/g, '_')}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.#consumers = await ChangeConsumers.create({
      nc,
      kv: await ensureBucket(nc, `${config.busPrefix}_consumers`, { history: 1, replicas: config.natsReplicas }),
      stream: names.changesStream,
      filter: (namespace, table) => names.changesOfTable(namespace, table),
      catalog,
      secret: config.jwtSecret,
      limits: { ackWaitMs: config.consumeAckWaitMs, lanes: config.consumeLanes, maxGroupsPerTable: config.consumeMaxGroups, maxFetch: config.consumeMaxFetch, maxWaitMs: config.consumeMaxWaitMs },
      now: this.#deps.now ?? Date.now,
    });
    this.#directory = await LiveDirectory.start(nc, { prefix: config.busPrefix, node, ttlMs: config.liveDirectoryTtlMs, replicas: config.natsReplicas, timeoutMs: config.liveListTimeoutMs, list: () => ws.liveEntries(node), logger: this.#logger });
  }

  /** A SELECT of system.live: every gateway's subscriptions, gathered now. */
  async #systemLive(caller: Caller, sql: string, params: readonly JsonScalar[]): Promise<string> {
    const directory = this.#directory;
    if (directory === undefined) throw new ProtocolError('UNAVAILABLE', 'realtime is not started yet');
    const run = compileSystemLive(sql, params, caller); // a refusal costs no gathering
    const { entries, missing } = await directory.gather();
    const note = missing.length === 0 ? undefined : `incomplete: gateway(s) ${missing.join(', ')} did not answer within ${this.#config.liveListTimeoutMs} ms`;
    return stringifyJsonLossless(run(entries, note));
  }

  get #monotonic(): () => number {
    return this.#deps.monotonic ?? (() => performance.now());
  }

  async #handlers(backend: Backend, credentials: CredentialCache, isDraining: () => boolean) {
    const config = this.#config;
    const now = this.#deps.now ?? Date.now;
    const jwt = new JwtCodec(config.jwtSecret, now);
    const auth = authRoutes({
      backend,
      jwt,
      loginLimiter: new RateLimiter({ capacity: config.loginRate, refill: { tokens: config.loginRate, periodMs: 60_000 }, now: this.#monotonic }),
      logger: this.#logger,
      now,
      accessTokenTtlS: config.accessTokenTtlS,
      refreshTokenTtlS: config.refreshTokenTtlS,
      loginPolicy: { maxFailures: config.loginMaxFailures, lockoutMs: config.loginLockoutMs },
      cookieSecure: config.cookieSecure,
      dummyHash: await hashPassword(randomBytes(18).toString('base64url')),
      hashPassword,
      verifyPassword,
      ...(this.#external === undefined ? {} : { external: this.#external }),
    });
    const limiter = new RateLimiter({ capacity: config.queryRate * 2, refill: { tokens: config.queryRate, periodMs: 1000 }, now: this.#monotonic });
    const consume = consumeRoutes({ jwt, credentials, ...(this.#external === undefined ? {} : { external: this.#external }), limiter, logger: this.#logger, monotonic: this.#monotonic, consumers: () => this.#consumers });
    const sql = sqlRoute({
      backend,
      parser: this.#deps.parser ?? pgSqlParser,
      jwt,
      credentials,
      ...(this.#external === undefined ? {} : { external: this.#external }),
      limiter,
      maxSqlBytes: config.maxSqlBytes,
      logger: this.#logger,
      monotonic: this.#monotonic,
      ...(this.#deps.backend === undefined ? { systemLive: (caller: Caller, text: string, params: readonly JsonScalar[]) => this.#systemLive(caller, text, params) } : {}),
    });
    return { ...auth, ...consume, sql, health: healthRoute(GATEWAY_VERSION, isDraining) };
  }

  /** The identity providers of SEQLINE_OIDC_ISSUERS (docs/guides/identity-providers.md), if any. */
  #externalAuth(backend: Backend, userCredentials: CredentialCache): ExternalAuth | undefined {
    const config = this.#config;
    if (config.oidcIssuers.length === 0) return undefined;
    const verifier = new OidcVerifier(config.oidcIssuers, {
      now: this.#deps.now ?? Date.now,
      monotonic: this.#monotonic,
      jwksCooldownMs: config.oidcJwksCooldownMs,
      jwksMaxAgeMs: config.oidcJwksMaxAgeMs,
      fetchTimeoutMs: config.oidcFetchTimeoutMs,
      clockToleranceS: config.oidcClockToleranceS,
      onFetchError: (issuer, err) => this.#logger.warn("an identity provider's keys could not be fetched", { issuer, err }),
    });
    this.#logger.info('accepting identity provider tokens', { issuers: config.oidcIssuers.map((i) => i.issuer) });
    return new ExternalAuth({ verifier, credentials: userCredentials, provision: (userId, role) => provisionUser(backend, userId, role), logger: this.#logger });
  }

  /** Creates the first DBA unless one exists. Retries while storage is unavailable; another gateway winning the race is success. */
  async #ensureAdmin(backend: Backend, userId: string, password: string): Promise<void> {
    for (;;) {
      try {
        if (!(await backend.needsSetup())) {
          this.#logger.info('a DBA exists; SEQLINE_ADMIN_PASSWORD is not applied', { user: userId });
          return;
        }
        await backend.setup({ userId, passwordHash: await hashPassword(password), email: null });
        this.#logger.info('created the first DBA', { user: userId });
        return;
      } catch (err) {
        const error = toProtocolError(err);
        if (error.code === 'PERMISSION_DENIED') return;
        if (error.code !== 'UNAVAILABLE') throw error;
        this.#logger.warn('storage unavailable; retrying the first-DBA set-up', { delayMs: this.state.nextBackoffMs() });
        if (!(await this.state.backoff())) throw new Error('gateway stopped before the first DBA could be set up', { cause: err });
      }
    }
  }

  protected async shutdown(): Promise<void> {
    this.#ws?.close();
    this.#revocation?.close();
    await this.#directory?.stop();
    this.#directory = undefined;
    await this.#http?.destroy();
    this.#hub?.close();
    this.#storageClient?.close();
    await this.#nc?.drain().catch(() => this.#nc?.close());
    if (this.#deps.backend === undefined) this.#backend?.close();
  }
}

/** Starts a gateway and resolves once it serves (for tests and embedding); `service.ready` has the port. */
export async function startGateway(config: GatewayConfig, deps: GatewayDeps): Promise<GatewayService> {
  const service = new GatewayService(config, deps);
  service.run().catch(() => {});
  await service.ready;
  return service;
}
