// The WebSocket endpoint `GET /v1/ws` (docs/protocol.md §4). Per connection: authentication (a
// Bearer token on the upgrade, or an `authenticate` message within the auth timeout), a
// silence timeout (any frame, a WebSocket Ping included, counts as activity), a message rate,
// a frame size limit, a subscription limit, and the subscriptions themselves, each a
// LiveSubscription whose events are written in order, one after another, so a slow socket
// slows only itself; past a limit of unsent bytes its subscriptions end with SLOW_CONSUMER
// (the client resumes from its last `_seq`). Drain closes every socket with 1001. A socket
// whose user is dropped or whose credentials change is closed with 4001 TOKEN_REVOKED
// (auth/revocation.ts).
// Cancellation: each socket has one AbortController and each subscription a child of it; an
// unsubscribe, a SLOW_CONSUMER or the socket's close aborts it, which cancels the
// subscription's storage streams (Snapshot, CatchUp) and its JetStream history reads.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex, Writable } from 'node:stream';
import { Metadata } from '@grpc/grpc-js';
import type { storagePb } from '@seqline/proto';
import { columnFlags, FrameError, MessageError, parseClientMessage, ProtocolError, schemaEntry, WS_CLOSE, type ErrorCode, type RemoteCatalog, type SchemaEntry, type SubscribeRequest } from '@seqline/protocol';
import type { Logger } from '@seqline/runtime';
import { SHARED_OWNER, type Actor } from '@seqline/domain';
import { checkReadAccess, compileLiveQuery, SqlError, type LiveQuery, type LiveRow } from '@seqline/sql';
import { WebSocketServer, type WebSocket } from 'ws';
import { MessageGate, type SocketRevocation } from '../auth/revocation.js';
import type { JwtCodec } from '../jwt.js';
import { RateLimiter } from '../rate-limit.js';
import type { ChangeHub } from '../live/change-hub.js';
import type { History } from '../live/history.js';
import { LiveQueryCache } from '../live/query-cache.js';
import { storageStream, storageUnary } from '../live/storage-stream.js';
import { LiveSubscription, type LiveEvent } from '../live/subscription.js';
import type { LiveEntry } from '../live/system-live.js';
import type { GatewayMetrics, LiveCounts } from '../metrics.js';
import { corkForTick, unsentBeforeTick } from './cork.js';
import { encodeServerMessage, type OutgoingMessage } from './messages.js';
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

export interface WsDeps {
  readonly jwt: JwtCodec;
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
  #nextConnection = 0;

  constructor(deps: WsDeps) {
    this.#d = deps;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: deps.limits.maxFrameBytes });
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
        const conn = new Connection(String(++this.#nextConnection), ws, socket, req, url.searchParams.get('compress') !== 'false', this.#d, this.#queries, () => this.#connections.delete(conn));
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
      for (const e of c.liveEntries('')) {
        if (e.status === 'live') live++;
        else loading++;
      }
    }
    return { sockets: { authenticating: this.#connections.size - authenticated, authenticated }, subscriptions: { loading, live } };
  }

  /** Closes every socket with 1001 (going away) so clients resume elsewhere. */
  close(): void {
    for (const c of this.#connections) c.close(WS_CLOSE.GOING_AWAY, 'server shutting down');
    this.#wss.close();
  }
}

/** A live query compiled for one user, and the column schema its ack carries: shared by that user's subscriptions of it (LiveQueryCache). */
interface CompiledQuery {
  readonly query: LiveQuery;
  readonly schema: readonly SchemaEntry[];
}

/** A subscription of a connection, and what `system.live` shows of it. */
interface Served {
  readonly live: LiveSubscription;
  /** Ended with the subscription; its signal is a child of the connection's. */
  readonly end: SubscriptionEnd;
  readonly info: { -readonly [K in keyof Omit<LiveEntry, 'node' | 'connectionId'>]: LiveEntry[K] };
}

class Connection {
  readonly #id: string;
  readonly #ws: WebSocket;
  /** The socket `#ws` writes to (corked for a tick at a time). */
  readonly #socket: Writable;
  readonly #d: WsDeps;
  readonly #queries: LiveQueryCache<CompiledQuery>;
  readonly #onClosed: () => void;
  readonly #subs = new Map<string, Served>();
  readonly #abort = new AbortController();
  readonly #limiter: RateLimiter;
  #compress: boolean;
  #actor: Actor | undefined;
  #authTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #gate = new MessageGate();
  #unwatch: (() => void) | undefined;

  constructor(id: string, ws: WebSocket, socket: Writable, req: IncomingMessage, compress: boolean, deps: WsDeps, queries: LiveQueryCache<CompiledQuery>, onClosed: () => void) {
    this.#id = id;
    this.#ws = ws;
    this.#socket = socket;
    this.#d = deps;
    this.#queries = queries;
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
    return [...this.#subs.values()].map(({ info }) => ({ ...info, node, connectionId: this.#id }));
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
    clearTimeout(this.#idleTimer);
    this.#unwatch?.();
    for (const id of [...this.#subs.keys()]) this.#end(id);
    this.#abort.abort(new Error('the socket closed'));
    this.#onClosed();
  }

  #touch(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => this.close(WS_CLOSE.IDLE, 'idle'), this.#d.limits.idleMs);
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    this.#touch();
    if (isBinary) return this.close(WS_CLOSE.INVALID_FRAME, 'client frames must be text');
    if (!this.#limiter.take('connection').ok) {
      void this.#send({ type: 'error', subscription_id: 'rate_limit', code: 'RATE_LIMIT_EXCEEDED', message: `more than ${this.#d.limits.messageRate} messages per second` });
      return;
    }
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
    if (!verified.ok) {
      void this.#send({ type: 'auth_error', code: verified.code, message: verified.message }).finally(() => this.close(WS_CLOSE.AUTH_FAILED, 'authentication failed'));
      return;
    }
    const { claims } = verified;
    const admitted = this.#d.revocation.admit(claims).then(
      (admission) => {
        if (this.#closed) return;
        if (!admission.ok) {
          void this.#send({ type: 'auth_error', code: 'TOKEN_REVOKED', message: admission.message }).finally(() => this.close(WS_CLOSE.TOKEN_REVOKED, 'TOKEN_REVOKED'));
          return;
        }
        clearTimeout(this.#authTimer);
        this.#actor = { userId: admission.caller.userId, role: admission.caller.role };
        this.#unwatch?.();
        this.#unwatch = this.#d.revocation.watch(claims, admission.caller.role, () => this.close(WS_CLOSE.TOKEN_REVOKED, 'TOKEN_REVOKED'));
        void this.#send({ type: 'auth_success', user: this.#actor.userId, role: this.#actor.role, protocol: { serialization: 'json', compression: this.#compress ? 'gzip' : 'none' } });
      },
      () => void this.#send({ type: 'auth_error', code: 'UNAVAILABLE', message: 'authentication is unavailable; retry' }).finally(() => this.close(WS_CLOSE.TRY_AGAIN_LATER, 'authentication unavailable')),
    );
    this.#gate.hold(admitted);
  }

  #subscribe(req: SubscribeRequest): void {
    const actor = this.#actor;
    const fail = (code: ErrorCode, message: string): void => void this.#send({ type: 'error', subscription_id: req.id, code, message });
    if (actor === undefined) return fail('AUTH_REQUIRED', 'authenticate before subscribing');
    if (this.#subs.has(req.id)) return fail('INVALID_SUBSCRIPTION_ID', `subscription ${req.id} already exists on this connection`);
    if (this.#subs.size >= this.#d.limits.maxSubscriptions) return fail('SUBSCRIPTION_LIMIT_EXCEEDED', `at most ${this.#d.limits.maxSubscriptions} subscriptions per connection`);
    const end = new SubscriptionEnd(this.#abort.signal);
    void this.#start(req, actor, end).catch((err: unknown) => {
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

  async #start(req: SubscribeRequest, actor: Actor, end: SubscriptionEnd): Promise<void> {
    const catalog = this.#d.catalog;
    const namespace = 'default';
    const paramsJson = JSON.stringify(req.params);
    const compile = (): CompiledQuery =>
      this.#queries.get(actor.userId, req.sql, paramsJson, catalog, () => withSchema(compileLiveQuery(req.sql, { catalog, defaultNamespace: namespace, currentUser: actor.userId, params: req.params, maxLimit: this.#d.limits.liveMaxLimit })));
    let compiled;
    try {
      compiled = compile();
    } catch (err) {
      if (!(err instanceof SqlError && err.code === 'TABLE_NOT_FOUND')) throw err;
      await catalog.refresh();
      compiled = compile();
    }
    const { query, schema } = compiled;
    checkReadAccess(query.table, actor);
    if (query.order !== undefined && (req.lastRows ?? 0) > 0) throw new ProtocolError('INVALID_PARAMETER', 'last_rows does not go with ORDER BY or LIMIT: the query orders and limits its rows itself');
    const owner = query.table.tableType === 'SHARED' ? SHARED_OWNER : actor.userId;
    const subject = this.#d.subject(owner, query.table.namespace, query.table.name);
    const caller = { userId: actor.userId, role: actor.role };
    const timeoutMs = this.#d.limits.streamTimeoutMs;
    const info: Served['info'] = { subscriptionId: req.id, userId: actor.userId, namespace: query.table.namespace, table: query.table.name, query: req.sql, status: 'loading', createdAtMs: Date.now(), lastSeq: null, changes: 0 };
    const sub = new LiveSubscription(
      {
        id: req.id,
        query,
        subject,
        shape: shapeOf(req.sql, paramsJson, query, actor),
        hub: this.#d.hub,
        history: (after, directReads) => this.#d.history(subject, after, end.signal, directReads),
        head: () => this.#d.head(subject),
        snapshot: (batchSize, lastRows) => storageStream((options) => this.#d.storage.snapshot({ caller, sql: req.sql, paramsJson, namespace, batchSize, lastRows }, new Metadata(), options), { signal: end.signal, timeoutMs }),
        window: async (rows) => {
          const res = await storageUnary<storagePb.WindowResponse>((options, done) => this.#d.storage.window({ caller, sql: req.sql, paramsJson, namespace, rows }, new Metadata(), options, done), { signal: end.signal, timeoutMs });
          return { boundary: res.boundarySeq, read: { rows: JSON.parse(res.rowsJson) as LiveRow[], complete: res.complete } };
        },
        catchUp: (from) => storageStream((options) => this.#d.storage.catchUp({ caller, sql: req.sql, paramsJson, namespace, fromSeq: from, batchSize: 0 }, new Metadata(), options), { signal: end.signal, timeoutMs }),
        send: (event, pushed) => {
          if (event.type === 'error') this.#subs.delete(req.id); // the subscription ended itself
          note(info, event);
          return this.#sendEvent(req.id, event.type === 'subscription_ack' ? { ...event, schema } : event, pushed);
        },
        maxBuffer: 10_000,
        filterBudget: this.#d.limits.filterBudget,
        ...(this.#d.metrics === undefined ? {} : { metrics: this.#d.metrics }),
      },
      {
        batchSize: req.batchSize ?? this.#d.limits.defaultBatchSize,
        lastRows: req.lastRows ?? 0,
        ...(req.from === undefined ? {} : { from: req.from }),
        liveOnly: req.liveOnly,
        clientPaced: req.clientPaced,
      },
    );
    if (this.#abort.signal.aborted || end.ended) return;
    this.#subs.set(req.id, { live: sub, end, info });
    await sub.start();
  }

  /**
   * A subscription's event; a live change (`pushed`) only while the socket holds at most the
   * limit of unsent data, else the subscription ends with SLOW_CONSUMER. Paced events wait
   * for the socket instead, so a resume or a snapshot never counts as slow.
   */
  async #sendEvent(id: string, event: LiveEvent | (LiveEvent & { readonly schema: readonly SchemaEntry[] }), pushed: boolean): Promise<void> {
    // Unsent bytes from earlier ticks, not the frames this tick holds (cork.ts).
    if (pushed && (unsentBeforeTick(this.#socket) ?? this.#ws.bufferedAmount) > this.#d.limits.maxBufferedBytes) {
      this.#d.metrics?.slowConsumers.inc();
      this.#end(id);
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

/** A compiled query with the column schema of its ack (only `_seq` is not a table column). */
function withSchema(query: LiveQuery): CompiledQuery {
  const schema = query.columns.map((name, i) => {
    const def = query.table.columns.find((c) => c.name === name);
    return def === undefined ? schemaEntry(name, 'BigInt', i) : schemaEntry(name, def.dataType, i, columnFlags(def));
  });
  return { query, schema };
}

/** Keeps `system.live`'s view of a subscription: its status, the last `_seq` sent, changes sent. */
function note(info: Served['info'], event: LiveEvent): void {
  switch (event.type) {
    case 'subscription_ack':
    case 'initial_data_batch':
      if (event.batch_control.status === 'ready') info.status = 'live';
      if (event.batch_control.last_seq_id !== undefined) info.lastSeq = String(event.batch_control.last_seq_id);
      return;
    case 'change': {
      info.changes++;
      const seq = (event.rows ?? event.old_values)?.[0]?.['_seq'];
      if (typeof seq === 'string') info.lastSeq = seq;
      return;
    }
    case 'error':
      return;
  }
}
