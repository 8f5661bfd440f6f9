// The WebSocket endpoint `GET /v1/ws` (docs/protocol.md §4). Per connection: authentication (a
// Bearer token on the upgrade, or an `authenticate` message within the auth timeout), a
// silence timeout (any frame, a WebSocket Ping included, counts as activity; one sweep for all
// sockets, ws/idle.ts), a message rate, a frame size limit, a subscription limit, and the
// subscriptions themselves, each a LiveSubscription (served by a ws/served.ts object) whose
// events are written in order, one after another, so a slow socket slows only itself; past a
// limit of unsent bytes its subscriptions end with SLOW_CONSUMER (the client resumes from its
// last `_seq`). Drain closes every socket with 1001. A socket
// whose user is dropped or whose credentials change is closed with 4001 TOKEN_REVOKED
// (auth/revocation.ts). A token that is not Seqline's own may be an identity provider's
// (SEQLINE_OIDC_ISSUERS, auth/external.ts); it is watched the same way, by its identity.
// Cancellation: each socket has one AbortController and each subscription a child of it; an
// unsubscribe, a SLOW_CONSUMER or the socket's close aborts it, which cancels the
// subscription's storage streams (Snapshot, CatchUp) and its JetStream history reads.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex, Writable } from 'node:stream';
import type { storagePb } from '@seqline/proto';
import { columnFlags, FrameError, MessageError, parseClientMessage, ProtocolError, schemaEntry, WS_CLOSE, type ErrorCode, type RemoteCatalog, type WsCloseCode, type SchemaEntry, type SubscribeRequest } from '@seqline/protocol';
import type { Logger } from '@seqline/runtime';
import { SHARED_OWNER, type Actor } from '@seqline/domain';
import { checkReadAccess, compileLiveQuery, SqlError, type LiveQuery } from '@seqline/sql';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ExternalAuth } from '../auth/external.js';
import { MessageGate, type SocketRevocation } from '../auth/revocation.js';
import type { JwtCodec } from '../jwt.js';
import { RateLimiter } from '../rate-limit.js';
import type { ChangeHub } from '../live/change-hub.js';
import type { History } from '../live/history.js';
import { LiveQueryCache } from '../live/query-cache.js';
import type { SubscriptionOptions } from '../live/subscription.js';
import type { LiveEntry } from '../live/system-live.js';
import type { GatewayMetrics, LiveCounts } from '../metrics.js';
import { corkForTick, unsentBeforeTick } from './cork.js';
import { IdleSweep } from './idle.js';
import { encodeServerMessage, type OutgoingMessage } from './messages.js';
import { Served, type CompiledQuery, type ServedEvent, type ServedSocket } from './served.js';
import { SubscriptionEnd } from './subscription-end.js';

export interface WsLimits {
  readonly authTimeoutMs: number;
  readonly idleMs: number;
  readonly maxFrameBytes: number;
  readonly maxSubscriptions: number;
  readonly messageRate: number;
  readonly maxBufferedBytes: number;
  readonly defaultBatchSize: number;
  /** Steps a subscription's filter may take on one change (SEQLINE_FILTER_BUDGET). */
  readonly filterBudget: number;
  /** The largest LIMIT of a live query (SEQLINE_LIVE_MAX_LIMIT). */
  readonly liveMaxLimit: number;
  /** Deadline of a subscription's Snapshot and CatchUp streams. */
  readonly streamTimeoutMs: number;
}

/** A socket's token, admitted: its caller, and how to watch it for revocation. */
type SocketAdmission =
  | { readonly ok: true; readonly caller: { readonly userId: string; readonly role: Actor['role'] }; readonly watch: (onRevoked: (reason: string) => void) => () => void }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

export interface WsDeps {
  readonly jwt: JwtCodec;
  /** Identity providers' tokens (SEQLINE_OIDC_ISSUERS), tried when a token is not Seqline's own. */
  readonly external?: Pick<ExternalAuth, 'authenticate'>;
  readonly revocation: SocketRevocation;
  readonly hub: ChangeHub;
  readonly catalog: RemoteCatalog;
  /** Storage's client (Snapshot and CatchUp streams); the caller closes it. */
  readonly storage: storagePb.StorageClient;
  readonly subject: (owner: string, namespace: string, table: string) => string;
  /** Rejects with the signal's reason once it is aborted. */
  readonly history: (subject: string, after: bigint, signal: AbortSignal, directReads?: number) => Promise<History>;
  readonly head: (subject: string) => Promise<bigint | undefined>;
  readonly logger: Logger;
  readonly limits: WsLimits;
  readonly monotonic: () => number;
  /** Deliveries, catch-ups and slow consumers. */
  readonly metrics?: GatewayMetrics;
}

export class WsEndpoint {
  readonly #d: WsDeps;
  readonly #wss: WebSocketServer;
  readonly #connections = new Set<Connection>();
  readonly #queries = new LiveQueryCache<CompiledQuery>();
  /** Every socket's silence timeout (one timer for all). */
  readonly #idle: IdleSweep<Connection>;
  #nextConnection = 0;

  constructor(deps: WsDeps) {
    this.#d = deps;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: deps.limits.maxFrameBytes });
    this.#idle = new IdleSweep<Connection>({ idleMs: deps.limits.idleMs, now: deps.monotonic, onIdle: (c) => c.close(WS_CLOSE.IDLE, 'idle') });
  }

  /** Serves `/v1/ws` upgrades of `server`; other upgrade paths are refused. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/v1/ws') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => {
        const conn = new Connection(String(++this.#nextConnection), ws, socket, req, url.searchParams.get('compress') !== 'false', this.#d, this.#queries, this.#idle, () => this.#connections.delete(conn));
        this.#connections.add(conn);
      });
    });
  }

  /** Every subscription of every socket, as `system.live` shows them. */
  liveEntries(node: string): LiveEntry[] {
    return [...this.#connections].flatMap((c) => c.liveEntries(node));
  }

  /** Sockets and subscriptions by state, for the gauges (counted when scraped). */
  counts(): LiveCounts {
    let authenticated = 0;
    let loading = 0;
    let live = 0;
    for (const c of this.#connections) {
      if (c.authenticated) authenticated++;
      for (const status of c.statuses()) {
        if (status === 'live') live++;
        else loading++;
      }
    }
    return { sockets: { authenticating: this.#connections.size - authenticated, authenticated }, subscriptions: { loading, live } };
  }

  /** Closes every socket with 1001 (going away) so clients resume elsewhere. */
  close(): void {
    for (const c of this.#connections) c.close(WS_CLOSE.GOING_AWAY, 'server shutting down');
    this.#wss.close();
    this.#idle.close();
  }
}

class Connection {
  readonly #id: string;
  readonly #ws: WebSocket;
  /** The socket `#ws` writes to (corked for a tick at a time). */
  readonly #socket: Writable;
  readonly #d: WsDeps;
  readonly #queries: LiveQueryCache<CompiledQuery>;
  readonly #idle: IdleSweep<Connection>;
  readonly #onClosed: () => void;
  readonly #subs = new Map<string, Served>();
  readonly #abort = new AbortController();
  readonly #limiter: RateLimiter;
  #compress: boolean;
  #actor: Actor | undefined;
  /** What this authentication's subscriptions share (their caller and their sender). */
  #served: ServedSocket | undefined;
  #authTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #gate = new MessageGate();
  #unwatch: (() => void) | undefined;

  constructor(id: string, ws: WebSocket, socket: Writable, req: IncomingMessage, compress: boolean, deps: WsDeps, queries: LiveQueryCache<CompiledQuery>, idle: IdleSweep<Connection>, onClosed: () => void) {
    this.#id = id;
    this.#ws = ws;
    this.#socket = socket;
    this.#d = deps;
    this.#queries = queries;
    this.#idle = idle;
    this.#onClosed = onClosed;
    this.#compress = compress;
    this.#limiter = new RateLimiter({ capacity: deps.limits.messageRate * 2, refill: { tokens: deps.limits.messageRate, periodMs: 1000 }, now: deps.monotonic });
    ws.on('message', (data, isBinary) => this.#gate.run(() => this.#onMessage(data as Buffer, isBinary)));
    ws.on('ping', () => this.#touch());
    ws.on('pong', () => this.#touch());
    ws.on('close', () => this.#cleanUp());
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.close(WS_CLOSE.FRAME_TOO_LARGE, 'frame too large');
      else this.close(WS_CLOSE.INVALID_FRAME, 'protocol error');
    });
    this.#touch();
    const header = req.headers.authorization;
    if (header !== undefined && /^Bearer\s+/i.test(header)) {
      this.#authenticate(header.replace(/^Bearer\s+/i, ''));
    } else {
      this.#authTimer = setTimeout(() => {
        if (this.#actor === undefined) {
          void this.#send({ type: 'auth_error', code: 'AUTH_REQUIRED', message: `not authenticated within ${deps.limits.authTimeoutMs} ms` }).finally(() => this.close(WS_CLOSE.AUTH_FAILED, 'authentication timeout'));
        }
      }, deps.limits.authTimeoutMs);
    }
  }

  get authenticated(): boolean {
    return this.#actor !== undefined;
  }

  liveEntries(node: string): LiveEntry[] {
    return [...this.#subs.values()].map((served) => served.entry(node, this.#id));
  }

  /** Each subscription's status. */
  statuses(): LiveEntry['status'][] {
    return [...this.#subs.values()].map((served) => served.status);
  }

  close(code: (typeof WS_CLOSE)[keyof typeof WS_CLOSE], reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ws.close(code, reason);
    this.#cleanUp();
  }

  #cleanUp(): void {
    this.#closed = true;
    clearTimeout(this.#authTimer);
    this.#idle.forget(this);
    this.#unwatch?.();
    for (const id of [...this.#subs.keys()]) this.#end(id);
    this.#abort.abort(new Error('the socket closed'));
    this.#onClosed();
  }

  #touch(): void {
    if (!this.#closed) this.#idle.touch(this);
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    this.#touch();
    if (isBinary) return this.close(WS_CLOSE.INVALID_FRAME, 'client frames must be text');
    if (!this.#limiter.take('connection').ok) {
      void this.#send({ type: 'error', subscription_id: 'rate_limit', code: 'RATE_LIMIT_EXCEEDED', message: `more than ${this.#d.limits.messageRate} messages per second` });
      return;
    }
    // The SDK's keep-alive, every few seconds from every idle client: known without parsing.
    if (data.equals(PING_FRAME)) return;
    let message;
    try {
      message = parseClientMessage(data.toString('utf8'));
    } catch (err) {
      if (err instanceof MessageError) {
        void this.#send({ type: 'error', subscription_id: err.subscriptionId, code: err.code, message: err.message });
        return;
      }
      if (!(err instanceof FrameError)) this.#d.logger.error('a client frame could not be read', { err });
      return this.close(WS_CLOSE.INVALID_FRAME, err instanceof FrameError ? err.message.slice(0, 120) : 'invalid frame');
    }
    switch (message.type) {
      case 'ping':
        return;
      case 'authenticate':
        if (message.compression !== undefined) this.#compress = this.#compress && message.compression === 'gzip';
        return this.#authenticate(message.token);
      case 'subscribe':
        return this.#subscribe(message.subscription);
      case 'unsubscribe': {
        this.#end(message.subscriptionId);
        return;
      }
      case 'next_batch': {
        const sub = this.#subs.get(message.subscriptionId);
        if (sub === undefined) {
          void this.#send({ type: 'error', subscription_id: message.subscriptionId, code: 'INVALID_SUBSCRIPTION_ID', message: `no subscription ${message.subscriptionId} on this connection` });
          return;
        }
        sub.live.nextBatch();
        return;
      }
    }
  }

  #authenticate(token: string): void {
    const verified = this.#d.jwt.verify(token, 'access');
    const external = this.#d.external;
    if (!verified.ok && (verified.code !== 'INVALID_CREDENTIALS' || external === undefined)) {
      this.#refuse(verified.code, verified.message);
      return;
    }
    const revocation = this.#d.revocation;
    // Seqline's own token is judged by its `cv`; an identity provider's by its identity (auth/external.ts).
    const admitted: Promise<SocketAdmission> = verified.ok
      ? revocation.admit(verified.claims).then((a) => (a.ok ? { ...a, watch: (onRevoked: (reason: string) => void) => revocation.watch(verified.claims, a.caller.role, onRevoked) } : a))
      : external!.authenticate(token).then((a) => (a.ok ? { ...a, watch: (onRevoked: (reason: string) => void) => revocation.watchWith(a.caller.userId, a.caller.role, a.check, onRevoked) } : a));
    const settled = admitted.then(
      (admission) => {
        if (this.#closed) return;
        if (!admission.ok) return this.#refuse(admission.code, admission.message);
        clearTimeout(this.#authTimer);
        this.#actor = { userId: admission.caller.userId, role: admission.caller.role };
        this.#served = {
          services: this.#d,
          caller: { userId: this.#actor.userId, role: this.#actor.role },
          sendEvent: (served, event, pushed) => this.#sendEvent(served, event, pushed),
          ended: (served) => {
            if (this.#subs.get(served.id) === served) this.#subs.delete(served.id);
          },
        };
        this.#unwatch?.();
        this.#unwatch = admission.watch(() => this.close(WS_CLOSE.TOKEN_REVOKED, 'TOKEN_REVOKED'));
        void this.#send({ type: 'auth_success', user: this.#actor.userId, role: this.#actor.role, protocol: { serialization: 'json', compression: this.#compress ? 'gzip' : 'none' } });
      },
      () => this.#refuse('UNAVAILABLE', 'authentication is unavailable; retry'),
    );
    this.#gate.hold(settled);
  }

  /** An `auth_error`, then the close code that goes with it. */
  #refuse(code: ErrorCode, message: string): void {
    const [close, reason]: [WsCloseCode, string] =
      code === 'TOKEN_REVOKED' ? [WS_CLOSE.TOKEN_REVOKED, 'TOKEN_REVOKED'] : code === 'UNAVAILABLE' ? [WS_CLOSE.TRY_AGAIN_LATER, 'authentication unavailable'] : [WS_CLOSE.AUTH_FAILED, 'authentication failed'];
    void this.#send({ type: 'auth_error', code, message }).finally(() => this.close(close, reason));
  }

  #subscribe(req: SubscribeRequest): void {
    const actor = this.#actor;
    const socket = this.#served;
    const fail = (code: ErrorCode, message: string): void => void this.#send({ type: 'error', subscription_id: req.id, code, message });
    if (actor === undefined || socket === undefined) return fail('AUTH_REQUIRED', 'authenticate before subscribing');
    if (this.#subs.has(req.id)) return fail('INVALID_SUBSCRIPTION_ID', `subscription ${req.id} already exists on this connection`);
    if (this.#subs.size >= this.#d.limits.maxSubscriptions) return fail('SUBSCRIPTION_LIMIT_EXCEEDED', `at most ${this.#d.limits.maxSubscriptions} subscriptions per connection`);
    const end = new SubscriptionEnd(this.#abort.signal);
    void this.#start(req, actor, socket, end).catch((err: unknown) => {
      if (end.ended) return; // ended by the client or the socket: nothing to answer
      this.#end(req.id, end);
      if (err instanceof SqlError) {
        const code = err.code === 'TABLE_NOT_FOUND' ? 'NOT_FOUND' : err.code === 'PERMISSION_DENIED' ? 'UNAUTHORIZED' : err.code === 'UNSUPPORTED' ? 'UNSUPPORTED' : 'INVALID_SQL';
        return fail(code, err.message);
      }
      // Only an error of the table that a service chose to answer with reaches the client; any
      // other (a NATS or socket error, a bug) is logged and answered without its text.
      if (err instanceof ProtocolError && err.code !== 'INTERNAL_ERROR') return fail(err.code === 'TABLE_NOT_FOUND' ? 'NOT_FOUND' : err.code, err.message);
      this.#d.logger.error('subscription failed', { subscription: req.id, err });
      return fail('SUBSCRIPTION_FAILED', 'the subscription could not be served; subscribe again to resume');
    });
  }

  /** Ends a subscription (only that one when `end` is given: the id may be taken again since). */
  #end(id: string, end?: SubscriptionEnd): void {
    const served = this.#subs.get(id);
    if (served === undefined || (end !== undefined && served.end !== end)) return;
    this.#subs.delete(id);
    served.live.stop();
    served.end.end(new Error(`subscription ${id} ended`));
  }

  async #start(req: SubscribeRequest, actor: Actor, socket: ServedSocket, end: SubscriptionEnd): Promise<void> {
    const catalog = this.#d.catalog;
    const paramsJson = JSON.stringify(req.params);
    const compile = (): CompiledQuery => this.#queries.get(actor.userId, req.sql, paramsJson, catalog, () => this.#compile(req, paramsJson, actor));
    let compiled;
    try {
      compiled = compile();
    } catch (err) {
      if (!(err instanceof SqlError && err.code === 'TABLE_NOT_FOUND')) throw err;
      await catalog.refresh();
      compiled = compile();
    }
    const { query } = compiled;
    checkReadAccess(query.table, actor);
    if (query.order !== undefined && (req.lastRows ?? 0) > 0) throw new ProtocolError('INVALID_PARAMETER', 'last_rows does not go with ORDER BY or LIMIT: the query orders and limits its rows itself');
    const served = new Served(socket, compiled, req.id, end, optionsOf(req, this.#d.limits.defaultBatchSize), Date.now());
    if (this.#abort.signal.aborted || end.ended) return;
    this.#subs.set(req.id, served);
    await served.live.start();
  }

  /** `req`'s query compiled for `actor`, with what its subscriptions derive from it. */
  #compile(req: SubscribeRequest, paramsJson: string, actor: Actor): CompiledQuery {
    const query = compileLiveQuery(req.sql, { catalog: this.#d.catalog, defaultNamespace: NAMESPACE, currentUser: actor.userId, params: req.params, maxLimit: this.#d.limits.liveMaxLimit });
    const owner = query.table.tableType === 'SHARED' ? SHARED_OWNER : actor.userId;
    return { query, schema: schemaOf(query), sql: req.sql, paramsJson, namespace: NAMESPACE, subject: this.#d.subject(owner, query.table.namespace, query.table.name), shape: shapeOf(req.sql, paramsJson, query, actor) };
  }

  /**
   * A subscription's event; a live change (`pushed`) only while the socket holds at most the
   * limit of unsent data, else the subscription ends with SLOW_CONSUMER. Paced events wait
   * for the socket instead, so a resume or a snapshot never counts as slow.
   */
  async #sendEvent(served: Served, event: ServedEvent, pushed: boolean): Promise<void> {
    const { id } = served;
    // Unsent bytes from earlier ticks, not the frames this tick holds (cork.ts).
    if (pushed && (unsentBeforeTick(this.#socket) ?? this.#ws.bufferedAmount) > this.#d.limits.maxBufferedBytes) {
      this.#d.metrics?.slowConsumers.inc();
      this.#end(id, served.end);
      await this.#send({ type: 'error', subscription_id: id, code: 'SLOW_CONSUMER', message: 'the connection fell too far behind; subscribe again with from = the last _seq received' });
      return;
    }
    await this.#send(event);
  }

  /** Writes one message; resolves once it is handed to the socket (with the tick's other frames, cork.ts). */
  #send(message: OutgoingMessage): Promise<void> {
    if (this.#closed || this.#ws.readyState !== this.#ws.OPEN) return Promise.resolve();
    const { data, binary } = encodeServerMessage(message, this.#compress);
    corkForTick(this.#socket, this.#ws.bufferedAmount);
    return new Promise((resolve) => this.#ws.send(data, { binary }, () => resolve()));
  }
}

/** The SDK's `ping` message as it sends it (libs/client), byte for byte. */
const PING_FRAME = Buffer.from(JSON.stringify({ type: 'ping' }));

/** The namespace of a subscription's unqualified table names. */
const NAMESPACE = 'default';

/** A number per table definition the catalog gave out: a query compiled against another definition is another shape. */
const tableVersions = new WeakMap<LiveQuery['table'], number>();
let nextTableVersion = 0;

/**
 * What a compiled live query depends on, as a key: subscriptions with the same one make the
 * same events of a change and share them (live/subscription.ts). The user is part of it only when
 * the SQL may name the user (CURRENT_USER, USER, SESSION_USER): only then can two users' queries
 * of the same text differ.
 */
function shapeOf(sql: string, paramsJson: string, query: LiveQuery, actor: Actor): string {
  let version = tableVersions.get(query.table);
  if (version === undefined) tableVersions.set(query.table, (version = ++nextTableVersion));
  return JSON.stringify([version, /user/i.test(sql) ? actor.userId : null, paramsJson, sql]);
}

/** The column schema of a query's ack (only `_seq` is not a table column). */
function schemaOf(query: LiveQuery): SchemaEntry[] {
  return query.columns.map((name, i) => {
    const def = query.table.columns.find((c) => c.name === name);
    return def === undefined ? schemaEntry(name, 'BigInt', i) : schemaEntry(name, def.dataType, i, columnFlags(def));
  });
}

/** Subscriptions of the same request options share one options object (most are alike). */
const sharedOptions = new Map<string, SubscriptionOptions>();

function optionsOf(req: SubscribeRequest, defaultBatchSize: number): SubscriptionOptions {
  const batchSize = req.batchSize ?? defaultBatchSize;
  const lastRows = req.lastRows ?? 0;
  if (req.from !== undefined) return { batchSize, lastRows, from: req.from, liveOnly: req.liveOnly, clientPaced: req.clientPaced };
  const key = `${batchSize} ${lastRows} ${req.liveOnly} ${req.clientPaced}`;
  let options = sharedOptions.get(key);
  if (options === undefined) {
    options = Object.freeze({ batchSize, lastRows, liveOnly: req.liveOnly, clientPaced: req.clientPaced });
    if (sharedOptions.size < 1000) sharedOptions.set(key, options);
  }
  return options;
}
