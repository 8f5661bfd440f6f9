// The Seqline client: SQL over HTTP, and live queries over one WebSocket that reconnects and
// resumes each query from the last `_seq` it processed. The decisions are made by the pure
// connection machine (machine.ts) and row materialization (materialize.ts); this file does the
// I/O they ask for. See SPEC.md.
import { parseJsonLossless } from '@seqline/seq';
import { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from './backoff.js';
import { startConsumer, type ChangeHandler, type ConsumeOptions, type Consumer } from './consume.js';
import { AuthError, ClosedError, NetworkError, ProtocolError, SeqlineError, serverError, TimeoutError, unanswered } from './errors.js';
import { bearer, bigintAsString, convertCell, postJson, rowObject, Tokens, type Auth, type BigIntMode, type FetchLike, type SchemaEntry } from './http.js';
import { INITIAL, statusOf, transition, type ConnectionAction, type ConnectionEvent, type ConnectionState, type MachineOptions, type Status } from './machine.js';
import { apply, emptyRows, rowsOf, setOrder, track, type Materialized, type Row, type RowEvent } from './materialize.js';
import { rowComparator, type OrderKey } from './order.js';
import { decode, encode, UserStore, type Store } from './store.js';

/** The part of the WebSocket API the client uses (the browser's, or the `ws` package's). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
}
/** Opens a WebSocket to `url` (the gateway's `/v1/ws`). */
export type WebSocketFactory = (url: string) => WebSocketLike;

/** Options of {@link createClient}: only `url` and `auth` are required. */
export interface ClientOptions {
  /** The gateway's base URL, `http(s)://host:port`. */
  readonly url: string;
  /** How to authenticate: `{ user, password }`, `{ jwt }` or `{ token }`. */
  readonly auth: Auth;
  /** BIGINT cells (and `_seq`) as `bigint` (default) or as the wire's decimal strings. */
  readonly bigint?: BigIntMode;
  /**
   * Keeps live queries' rows and cursors, and offline writes, across restarts: under the user's
   * own keys, so users sharing a device never see each other's (`clear()` removes them).
   */
  readonly store?: Store;
  /**
   * Whose data the store holds. Default: the `user` of `{ user, password }`, or the `sub` of a
   * `{ jwt }`; required with a store and a `token()` provider.
   */
  readonly user?: string;
  /** An HTTP request (SQL, login) without an answer by then fails with `TIMEOUT`; default 30 s. */
  readonly requestTimeoutMs?: number;
  /** Opens a socket; default the global WebSocket (browsers, Node 22+). The Node entry passes `ws`. */
  readonly webSocket?: WebSocketFactory;
  /** The `fetch` to use; default the global one. */
  readonly fetch?: FetchLike;
  /** Reconnect delays; default {@link DEFAULT_BACKOFF}. */
  readonly backoff?: BackoffOptions;
  /** Wall clock, ms (token expiry, timers). */
  readonly now?: () => number;
  /** Random numbers in [0, 1) for the backoff's jitter (tests pass a fixed one). */
  readonly random?: () => number;
  /**
   * Errors with no caller to report to: an offline write the server refused later, a
   * subscription error without its own `onError`, the connection's fatal error (also what
   * `closed()` resolves with).
   */
  readonly onError?: (error: SeqlineError) => void;
  /** A `{"type":"ping"}` this often keeps the socket from being closed as idle (the server allows 10 s). */
  readonly pingIntervalMs?: number;
}

/** Options of {@link SeqlineClient.live}. */
export interface LiveOptions {
  /** Columns identifying a row; default the table's primary key. */
  readonly keyColumns?: readonly string[];
  /**
   * Keep at most N rows: the first N in the query's order when it has one (ORDER BY), else the
   * newest N by `_seq`. For a window prefer `LIMIT n` in the SQL: the server keeps it exact.
   */
  readonly limit?: number;
  /** Resume from this `_seq` instead of loading a snapshot. */
  readonly from?: bigint | string;
  /** Rows per snapshot batch (the protocol's `batch_size`). */
  readonly batchSize?: number;
  /** Ask for each snapshot batch with `next_batch` (client pacing) instead of the server streaming them. */
  readonly clientPaced?: boolean;
  /** Values of `$1…$n` in the WHERE. */
  readonly params?: readonly unknown[];
  /** Called with an error that ends the live query (a retryable one is retried instead). */
  readonly onError?: (error: SeqlineError) => void;
}

/** What {@link SeqlineClient.live} says with each set of rows. */
export interface LiveInfo {
  /** `stored`: rows from the store, not yet confirmed by the server; `loading`: snapshot in progress. */
  readonly status: 'stored' | 'loading' | 'ready';
  /** The highest `_seq` processed: where a resume starts. */
  readonly cursor: bigint | undefined;
  /** The query's order (ORDER BY, ending with the primary key) and LIMIT, from the server's ack; the rows are in this order. */
  readonly window?: LiveWindow;
}

/** A live query's order and limit as the server's `subscription_ack` states them (docs/protocol.md §4.7). */
export interface LiveWindow {
  readonly orderBy: readonly OrderKey[];
  readonly limit?: number;
}

/** A raw protocol event (docs/protocol.md §4) for `subscribe`, rows converted like `query`'s. */
export type LiveEvent = Record<string, unknown> & { readonly type: string };

/** Options of {@link SeqlineClient.subscribe}. */
export interface SubscribeOptions {
  /** Values of `$1…$n` in the WHERE. */
  readonly params?: readonly unknown[];
  /** The subscription's options as the protocol has them (`batch_size`, `last_rows`, `from`, `flow`). */
  readonly options?: Record<string, unknown>;
  /** Called with an error that ends the subscription. */
  readonly onError?: (error: SeqlineError) => void;
}

/**
 * One statement's result: rows as objects keyed by column (BIGINTs as `bigint` by default).
 * `T` is the row type the caller states (`seqline gen types` writes one per table): an object
 * type (a `type` alias; an interface would need `extends Row`). Nothing checks it at run time.
 */
export interface StatementResult<T extends Row = Row> {
  /** The columns; empty for a write or DDL. */
  readonly schema: readonly SchemaEntry[];
  readonly rows: T[];
  /** Rows returned, or rows a write changed. */
  readonly rowCount: number;
  /** The server's note: `Inserted 1 row(s)`, or that a result was cut at the row limit. */
  readonly message?: string;
  /** A write's highest `_seq` (decimal), for read-your-writes against a live query's cursor. */
  readonly seq?: string;
}

/** What `query()` returns: every statement's result, and the first one's rows (typed `T`) and schema. */
export interface QueryResult<T extends Row = Row> {
  readonly results: StatementResult[];
  readonly rows: T[];
  readonly schema: readonly SchemaEntry[];
}

/** What `execute()` returns: rows changed by all its statements, and the highest `_seq` written. */
export interface ExecuteResult {
  readonly rowCount: number;
  readonly seq?: string;
  readonly results: StatementResult[];
}

export interface ExecuteOptions {
  /** Makes a retried write apply once; default a random UUID, kept while the write is queued. */
  readonly idempotencyKey?: string;
}

interface Sub {
  readonly id: string;
  readonly sql: string;
  readonly params: readonly unknown[];
  readonly live: boolean;
  readonly options: LiveOptions & { readonly raw?: Record<string, unknown> };
  readonly onRows?: (rows: Row[], info: LiveInfo) => void;
  readonly onEvent?: (event: LiveEvent) => void;
  readonly storeKey: string | undefined;
  m: Materialized;
  schema: readonly SchemaEntry[] | undefined;
  /** The schema's BIGINT columns (`_seq` included), converted in every row that arrives. */
  bigColumns: readonly SchemaEntry[];
  keyColumns: readonly string[];
  /** The query's order and limit from the last ack (or the store, until the ack comes). */
  window: LiveWindow | undefined;
  boundary: bigint | undefined;
  /** The last subscribe asked for a snapshot (no `from`): batches follow the ack, even a `ready` one. */
  snapshotAsked: boolean;
  status: LiveInfo['status'];
  notifyQueued: boolean;
  persistTimer: ReturnType<typeof setTimeout> | undefined;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
  retries: number;
  stopped: boolean;
}

interface Queued {
  readonly key: string;
  readonly sql: string;
  readonly params: readonly unknown[];
}

const OUTBOX = 'outbox';
/** WebSocket close code: the user's credentials were revoked (docs/protocol.md §4). */
const CLOSE_REVOKED = 4001;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const RETRYABLE = new Set(['SLOW_CONSUMER', 'SUBSCRIPTION_FAILED', 'BATCH_FETCH_FAILED']);

/**
 * A connection to a Seqline gateway: SQL over HTTP, and live queries over one WebSocket that
 * reconnects and resumes each query from the last `_seq` it processed (docs/protocol.md §4).
 * Build it with {@link createClient} (in Node, from `@seqline/client/node`).
 */
export class SeqlineClient {
  readonly #o: ClientOptions;
  /** The gateway's base URL without a trailing slash. */
  readonly #base: string;
  readonly #machine: MachineOptions;
  readonly #tokens: Tokens;
  readonly #fetch: FetchLike;
  readonly #now: () => number;
  readonly #mode: BigIntMode;
  readonly #store: UserStore | undefined;
  readonly #subs = new Map<string, Sub>();
  readonly #statusListeners = new Set<(status: Status) => void>();
  #state: ConnectionState = INITIAL;
  #socket: WebSocketLike | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ping: ReturnType<typeof setInterval> | undefined;
  #nextId = 0;
  #outbox: Queued[] | undefined;
  #outboxLoaded: Promise<void> | undefined;
  readonly #waiting = new Map<string, { resolve: (result: ExecuteResult) => void; reject: (err: unknown) => void }>();
  /** Set once the client is closed, for good. */
  #done = false;
  #resolveClosed: (error: SeqlineError | undefined) => void = () => {};
  readonly #closed = new Promise<SeqlineError | undefined>((resolve) => (this.#resolveClosed = resolve));
  #flushing: Promise<void> | undefined;
  #flushRetry: ReturnType<typeof setTimeout> | undefined;
  #flushFailures = 0;
  readonly #onOnline = (): void => this.#dispatch({ type: 'online' });
  /**
   * The browser says the network is gone. An open socket then neither closes nor delivers (it can
   * hang unnoticed for minutes), so drop it now: the status shows `reconnecting` and `online`
   * resumes every query from its cursor.
   */
  readonly #onOffline = (): void => {
    if (this.#socket === undefined) return;
    this.#closeSocket();
    this.#dispatch({ type: 'socket_closed' });
  };

  constructor(options: ClientOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#mode = options.bigint ?? 'bigint';
    const globalFetch = (globalThis as { fetch?: FetchLike }).fetch;
    const fetchImpl = options.fetch ?? globalFetch;
    if (fetchImpl === undefined) throw new Error('no fetch available: pass options.fetch');
    this.#fetch = (url, init) => this.#request(fetchImpl, url, init);
    if (options.store !== undefined) this.#store = new UserStore(options.store, storeUser(options));
    this.#base = options.url.replace(/\/$/, '');
    this.#machine = { backoff: options.backoff ?? DEFAULT_BACKOFF, random: options.random ?? Math.random };
    this.#tokens = new Tokens(options.auth, this.#base, this.#fetch, this.#now);
    const target = globalThis as { addEventListener?: (type: string, listener: () => void) => void };
    target.addEventListener?.('online', this.#onOnline);
    target.addEventListener?.('offline', this.#onOffline);
    if (this.#store !== undefined) this.#outboxLoaded = this.#loadOutbox(this.#store);
  }

  /** The connection's status now. */
  get status(): Status {
    return statusOf(this.#state);
  }

  /** Calls `listener` with every status change; returns a function that stops it. */
  onStatus(listener: (status: Status) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  /** Opens the socket now (live queries open it themselves); nothing once closed. */
  connect(): void {
    if (!this.#done) this.#dispatch({ type: 'start' });
  }

  /**
   * Runs SQL over HTTP now: every statement's result, and the first one's `rows` and `schema`.
   * For reads. A write sent here runs too, but once, without an idempotency key and never
   * queued offline: use `execute()` for writes. `query<T>()` types the first result's rows as
   * `T` (a row type of `seqline gen types`, or your own); the rows are the same either way.
   */
  async query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
    this.#checkOpen();
    const results = await this.#sql(sql, params, undefined);
    return { results, rows: (results[0]?.rows ?? []) as T[], schema: results[0]?.schema ?? [] };
  }

  /**
   * Runs a write, whatever its SQL looks like, with an `Idempotency-Key` (so a resend applies
   * once). With a store, a write that cannot reach the gateway (or that follows writes still
   * queued) is queued, persisted, and sent in order once the client is back; the promise
   * settles then, or rejects with `CLOSED` if the client closes first (the write stays queued
   * for the next client of this user).
   */
  async execute(sql: string, params: readonly unknown[] = [], options: ExecuteOptions = {}): Promise<ExecuteResult> {
    this.#checkOpen();
    const write: Queued = { key: options.idempotencyKey ?? randomKey(), sql, params };
    if (this.#store !== undefined) {
      await this.#outboxLoaded;
      if (this.#outbox !== undefined && this.#outbox.length > 0) return this.#enqueue(write);
    }
    try {
      return executeResult(await this.#sql(sql, params, write.key));
    } catch (err) {
      if (unanswered(err) && this.#store !== undefined && !this.#done) return this.#enqueue(write);
      throw err;
    }
  }

  /**
   * Resolves when the client is closed: with nothing after `close()`, or with the error that
   * closed it (credentials refused or revoked: an `AuthError`). Never rejects.
   */
  closed(): Promise<void | Error> {
    return this.#closed;
  }

  /**
   * Signs this user out of the device: closes the client, then removes everything it stored
   * for the user (live rows, cursors, writes still queued).
   */
  async clear(): Promise<void> {
    this.close();
    await this.#store?.clear();
  }

  /**
   * Keeps `onRows` called with the current rows of `sql` (in `_seq` order): the stored rows at
   * once when the store has them, the snapshot as it loads, then after every change, across
   * reconnects. Returns a function that stops it. `live<T>()` types the rows as `T`, as
   * `query<T>()` does.
   */
  live<T extends Row = Row>(sql: string, onRows: (rows: T[], info: LiveInfo) => void, options: LiveOptions = {}): () => void {
    if (this.#refuseClosed(options.onError)) return () => {};
    const params = options.params ?? [];
    const sub = this.#newSub(sql, params, true, options, { onRows: onRows as unknown as NonNullable<Sub['onRows']> });
    if (options.from !== undefined) sub.m.cursor = BigInt(options.from);
    void this.#startSub(sub);
    return () => this.#stopSub(sub);
  }

  /** The raw protocol events of a subscription (resumed like `live`'s after a reconnect). */
  subscribe(sql: string, onEvent: (event: LiveEvent) => void, options: SubscribeOptions = {}): () => void {
    if (this.#refuseClosed(options.onError)) return () => {};
    const sub = this.#newSub(sql, options.params ?? [], false, { ...(options.onError === undefined ? {} : { onError: options.onError }), ...(options.options === undefined ? {} : { raw: options.options }) }, { onEvent });
    void this.#startSub(sub);
    return () => this.#stopSub(sub);
  }

  /** Stops everything, for good: the socket, timers and every live query (idempotent). */
  close(): void {
    this.#shutdown(undefined);
  }

  /** Closes the client; `error`, a fatal one, is what `closed()` resolves with, and onError hears it. */
  #shutdown(error: SeqlineError | undefined): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#flushRetry);
    for (const sub of [...this.#subs.values()]) this.#stopSub(sub);
    this.#dispatch({ type: 'stop' });
    const target = globalThis as { removeEventListener?: (type: string, listener: () => void) => void };
    target.removeEventListener?.('online', this.#onOnline);
    target.removeEventListener?.('offline', this.#onOffline);
    for (const waiter of this.#waiting.values()) waiter.reject(new ClosedError('the client closed before the write was sent; it stays queued in the store'));
    this.#waiting.clear();
    this.#resolveClosed(error);
    if (error !== undefined) this.#o.onError?.(error);
  }

  /**
   * Consumes every change of `table` (`ns.table`), across all owners, as a worker of `group`:
   * at least once, in order per owner, each change acknowledged once `handler` resolved
   * (docs/protocol.md §2, "Change consumers"). For `service` and `system` accounts; the group is
   * made by its first fetch. `stop()` leaves the group.
   */
  consume(table: string, group: string, handler: ChangeHandler, options: ConsumeOptions = {}): Consumer {
    this.#checkOpen();
    const worker = options.worker ?? `w-${randomKey().replace(/-/g, '').slice(0, 16)}`;
    return startConsumer((path, body) => this.#post(path, body), table, group, handler, { ...options, worker, random: this.#machine.random, now: this.#now });
  }

  /** POSTs to the API with the access token, renewing an expired one once (like #sql). */
  async #post(path: string, body: unknown, retried = false): Promise<Record<string, unknown>> {
    try {
      return await postJson(this.#fetch, `${this.#base}${path}`, body, bearer(await this.#tokens.get()));
    } catch (err) {
      if (!retried && err instanceof AuthError && err.code === 'TOKEN_EXPIRED') {
        this.#tokens.invalidate();
        return this.#post(path, body, true);
      }
      throw err;
    }
  }

  #checkOpen(): void {
    if (this.#done) throw new ClosedError();
  }

  /** A live query or subscription asked for after close: its onError hears why, and nothing starts. */
  #refuseClosed(onError: ((error: SeqlineError) => void) | undefined): boolean {
    if (!this.#done) return false;
    const report = onError ?? this.#o.onError;
    queueMicrotask(() => report?.(new ClosedError()));
    return true;
  }

  // --- HTTP ------------------------------------------------------------------------------

  /** One HTTP request: an unreachable gateway is a NetworkError, no answer in time a TimeoutError. */
  async #request(fetchImpl: FetchLike, url: string, init: Parameters<FetchLike>[1]): ReturnType<FetchLike> {
    const ms = this.#o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new TimeoutError(`no answer from ${this.#o.url} within ${ms} ms`));
        controller.abort();
      }, ms);
    });
    const answer = fetchImpl(url, { ...init, signal: controller.signal }).catch((err: unknown) => {
      throw new NetworkError(`cannot reach ${this.#o.url}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    });
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * POSTs SQL; every statement's result. A token the server says expired is renewed once; a
   * 401 after that (credentials refused or revoked) closes the client with that error.
   */
  async #sql(sql: string, params: readonly unknown[], key: string | undefined, retried = false): Promise<StatementResult[]> {
    let body: Record<string, unknown>;
    try {
      const headers = { ...bearer(await this.#tokens.get()), ...(key === undefined ? {} : { 'idempotency-key': key }) };
      body = await postJson(this.#fetch, `${this.#base}/v1/api/sql`, params.length === 0 ? { sql } : { sql, params }, headers);
    } catch (err) {
      if (!retried && err instanceof AuthError && err.code === 'TOKEN_EXPIRED') {
        this.#tokens.invalidate();
        return this.#sql(sql, params, key, true);
      }
      if (err instanceof AuthError) this.#shutdown(err);
      throw err instanceof SeqlineError ? err : new SeqlineError('UNKNOWN', err instanceof Error ? err.message : String(err), undefined, { cause: err });
    }
    return statementResults(body, this.#mode);
  }

  async #loadOutbox(store: UserStore): Promise<void> {
    const text = await store.get(OUTBOX);
    this.#outbox = text === undefined ? [] : (decode(text) as Queued[]);
    if (this.#outbox.length > 0) this.connect(); // flushed once connected
  }

  async #enqueue(write: Queued): Promise<ExecuteResult> {
    this.#outbox!.push(write);
    await this.#store!.set(OUTBOX, encode(this.#outbox));
    if (this.#done) throw new ClosedError('the client closed before the write was sent; it stays queued in the store');
    const done = new Promise<ExecuteResult>((resolve, reject) => this.#waiting.set(write.key, { resolve, reject }));
    this.connect();
    if (this.status === 'open') void this.#flush();
    return done;
  }

  /** Sends the outbox in order; after a network failure it tries again later (backing off). */
  #flush(): Promise<void> {
    clearTimeout(this.#flushRetry);
    this.#flushing ??= (async () => {
      await this.#outboxLoaded;
      const outbox = this.#outbox ?? [];
      while (outbox.length > 0 && !this.#done) {
        const write = outbox[0]!;
        let outcome: { result: ExecuteResult } | { error: unknown };
        try {
          outcome = { result: executeResult(await this.#sql(write.sql, write.params, write.key)) };
        } catch (err) {
          // Unanswered: try again later. Refused credentials closed the client: the write stays
          // queued for this user's next sign-in.
          if (unanswered(err) || this.#done) {
            if (!this.#done) this.#flushRetry = setTimeout(() => void this.#flush(), backoffDelay(this.#flushFailures++, this.#machine.backoff, this.#machine.random));
            return;
          }
          outcome = { error: err };
        }
        this.#flushFailures = 0;
        outbox.shift();
        await this.#store!.set(OUTBOX, encode(outbox));
        const waiter = this.#waiting.get(write.key);
        this.#waiting.delete(write.key);
        if ('result' in outcome) waiter?.resolve(outcome.result);
        else if (waiter !== undefined) waiter.reject(outcome.error);
        else this.#o.onError?.(outcome.error as SeqlineError);
      }
    })().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  // --- the connection --------------------------------------------------------------------

  #dispatch(event: ConnectionEvent): void {
    const { state, actions } = transition(this.#state, event, this.#now(), this.#machine);
    this.#state = state;
    for (const action of actions) this.#perform(action);
  }

  #perform(action: ConnectionAction): void {
    switch (action.type) {
      case 'open_socket':
        return this.#open();
      case 'authenticate':
        return void this.#authenticate();
      case 'subscribe_all':
        for (const sub of this.#subs.values()) this.#subscribe(sub);
        void this.#flush();
        return;
      case 'drop_token':
        return this.#tokens.invalidate();
      case 'close_socket':
        return this.#closeSocket();
      case 'arm_timer':
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => this.#dispatch({ type: 'timer' }), Math.max(0, action.at - this.#now()));
        return;
      case 'cancel_timer':
        clearTimeout(this.#timer);
        return;
      case 'status':
        for (const listener of this.#statusListeners) listener(action.status);
        // The server refused the credentials for good: the client is closed with that error.
        if (action.error !== undefined) this.#shutdown(new AuthError(action.error.code, action.error.message));
        return;
    }
  }

  #open(): void {
    const base = this.#base.replace(/^http/, 'ws');
    const factory = this.#o.webSocket ?? defaultWebSocket();
    let socket: WebSocketLike;
    try {
      socket = factory(`${base}/v1/ws?compress=false`);
    } catch {
      queueMicrotask(() => this.#dispatch({ type: 'socket_closed' }));
      return;
    }
    this.#socket = socket;
    const current = (): boolean => this.#socket === socket;
    socket.onopen = () => current() && this.#dispatch({ type: 'socket_open' });
    socket.onclose = (event) => {
      if (!current()) return;
      this.#socket = undefined;
      clearInterval(this.#ping);
      if ((event as { code?: unknown } | undefined)?.code === CLOSE_REVOKED) this.#shutdown(new AuthError('TOKEN_REVOKED', 'the credentials were revoked: sign in again'));
      else this.#dispatch({ type: 'socket_closed' });
    };
    socket.onerror = () => {}; // a close follows
    socket.onmessage = (event) => current() && this.#onMessage(event.data);
  }

  #closeSocket(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    clearInterval(this.#ping);
    socket?.close(1000, 'client closed');
  }

  async #authenticate(): Promise<void> {
    const socket = this.#socket;
    try {
      const token = await this.#tokens.get();
      if (this.#socket === socket) this.#send({ type: 'authenticate', method: 'jwt', token });
    } catch (err) {
      if (unanswered(err)) return socket?.close(1000, 'no token');
      this.#dispatch({ type: 'auth_failed', retryable: false, code: err instanceof SeqlineError ? err.code : 'AUTH_FAILED', message: err instanceof Error ? err.message : String(err) });
    }
  }

  #send(message: object): void {
    const socket = this.#socket;
    if (socket === undefined || socket.readyState !== 1) return;
    socket.send(JSON.stringify(message, bigintAsString));
  }

  #onMessage(data: unknown): void {
    const text = typeof data === 'string' ? data : UTF8.decode(data as ArrayBuffer);
    // Rows carry sequence ids as strings, so the fast parser is exact for batches and changes
    // but for a batch's last_seq_id, read exactly from the text; the rest is parsed losslessly.
    const fast = /^\{"type":"(initial_data_batch|change)"/.exec(text);
    const m = (fast === null ? parseJsonLossless(text) : JSON.parse(text)) as LiveEvent;
    if (fast?.[1] === 'initial_data_batch') {
      const last = /"last_seq_id":(\d+)/.exec(text.slice(text.indexOf('"batch_control":')));
      if (last !== null) (m['batch_control'] as Record<string, unknown>)['last_seq_id'] = BigInt(last[1]!);
    }
    switch (m.type) {
      case 'auth_success':
        this.#dispatch({ type: 'auth_ok' });
        clearInterval(this.#ping);
        this.#ping = setInterval(() => this.#send({ type: 'ping' }), this.#o.pingIntervalMs ?? 4000);
        return;
      case 'auth_error': {
        const message = typeof m['message'] === 'string' ? m['message'] : 'authentication failed';
        const code = typeof m['code'] === 'string' ? m['code'] : 'AUTH_FAILED';
        this.#dispatch({ type: 'auth_failed', retryable: code === 'TOKEN_EXPIRED' || /expired/i.test(message), code, message });
        return;
      }
      default: {
        const sub = typeof m['subscription_id'] === 'string' ? this.#subs.get(m['subscription_id']) : undefined;
        if (sub !== undefined && !sub.stopped) this.#onSubEvent(sub, m);
        else if (m.type === 'error') this.#o.onError?.(wsError(m));
      }
    }
  }

  // --- subscriptions -----------------------------------------------------------------------

  #newSub(sql: string, params: readonly unknown[], live: boolean, options: Sub['options'], callbacks: Pick<Sub, 'onRows' | 'onEvent'>): Sub {
    const id = `q${++this.#nextId}`;
    return {
      id,
      sql,
      params,
      live,
      options,
      ...callbacks,
      storeKey: live && this.#store !== undefined ? `live:${sql}\u0000${JSON.stringify(params, bigintAsString)}` : undefined,
      m: emptyRows(),
      schema: undefined,
      bigColumns: [],
      keyColumns: options.keyColumns ?? [],
      window: undefined,
      boundary: undefined,
      snapshotAsked: false,
      status: 'loading',
      notifyQueued: false,
      persistTimer: undefined,
      retryTimer: undefined,
      retries: 0,
      stopped: false,
    };
  }

  async #startSub(sub: Sub): Promise<void> {
    if (sub.storeKey !== undefined && sub.options.from === undefined) {
      const text = await this.#store!.get(sub.storeKey);
      if (sub.stopped) return;
      if (text !== undefined) {
        const saved = decode(text) as Saved;
        sub.m = { ...emptyRows(), rows: new Map(saved.rows), cursor: saved.cursor };
        setSchema(sub, saved.schema);
        if (sub.keyColumns.length === 0) sub.keyColumns = saved.keyColumns;
        // The stored order shows the rows in place before the ack confirms (or replaces) it.
        setWindow(sub, saved.window);
        sub.status = 'stored';
        sub.onRows?.(rowsOf(sub.m), info(sub, 'stored'));
      }
    }
    this.#subs.set(sub.id, sub);
    if (this.status === 'open') this.#subscribe(sub);
    else this.connect();
  }

  #subscribe(sub: Sub): void {
    const message = subscribeMessage(sub);
    const options = message.subscription.options;
    sub.snapshotAsked = options !== undefined && options['from'] === undefined;
    this.#send(message);
  }

  #stopSub(sub: Sub): void {
    sub.stopped = true;
    clearTimeout(sub.retryTimer);
    if (sub.persistTimer !== undefined) {
      clearTimeout(sub.persistTimer);
      void this.#persist(sub);
    }
    if (this.#subs.delete(sub.id)) this.#send({ type: 'unsubscribe', subscription_id: sub.id });
  }

  #onSubEvent(sub: Sub, m: LiveEvent): void {
    switch (m.type) {
      case 'subscription_ack': {
        sub.retries = 0;
        const schema = m['schema'] as SchemaEntry[] | undefined;
        if (schema !== undefined) setSchema(sub, schema);
        if (sub.keyColumns.length === 0) sub.keyColumns = (sub.schema ?? []).filter((c) => c.flags?.includes('pk')).map((c) => c.name);
        const control = m['batch_control'] as { status: string; last_seq_id?: bigint | number };
        const last = control.last_seq_id === undefined ? undefined : BigInt(control.last_seq_id);
        const snapshot = sub.snapshotAsked || m['reset'] === true;
        // A snapshot replaces the rows: after a reset, or asked again because one in the query's
        // order was cut off (no part of it is a place to resume from, docs/protocol.md §4.7).
        if (snapshot) this.#apply(sub, { kind: 'reset' });
        setWindow(sub, windowOf(m));
        if (!snapshot && control.status === 'ready') {
          if (last !== undefined) this.#apply(sub, { kind: 'cursor', seq: last });
          sub.status = 'ready';
          this.#changed(sub);
        } else {
          sub.boundary = last;
          sub.status = 'loading';
        }
        break;
      }
      case 'initial_data_batch': {
        const rows = this.#rows(sub, m['rows']);
        this.#apply(sub, { kind: 'snapshot', rows });
        const control = m['batch_control'] as { status: string; has_more: boolean; last_seq_id?: bigint | number };
        if (control.status === 'ready') {
          // The last batch's last_seq_id is the boundary for a snapshot in the query's order
          // (the ack may not have it); for one in `_seq` order it is its last row's `_seq`.
          const last = control.last_seq_id === undefined ? undefined : BigInt(control.last_seq_id);
          this.#apply(sub, { kind: 'cursor', seq: maxSeq(sub.boundary, last) });
          sub.status = 'ready';
        } else if (sub.options.clientPaced === true || sub.options.raw?.['flow'] === 'client') {
          this.#send({ type: 'next_batch', subscription_id: sub.id });
        }
        this.#changed(sub);
        break;
      }
      case 'change': {
        const kind = m['change_type'] === 'delete' ? 'delete' : 'upsert';
        this.#apply(sub, { kind, rows: this.#rows(sub, kind === 'delete' ? m['old_values'] : m['rows']) });
        this.#changed(sub);
        break;
      }
      case 'error': {
        const error = wsError(m);
        const code = error.code;
        if (RETRYABLE.has(code)) {
          const delay = backoffDelay(sub.retries++, this.#machine.backoff, this.#machine.random);
          sub.retryTimer = setTimeout(() => !sub.stopped && this.status === 'open' && this.#subscribe(sub), delay);
        } else {
          this.#subs.delete(sub.id);
          sub.stopped = true;
          (sub.options.onError ?? this.#o.onError)?.(error);
        }
        break;
      }
    }
    if (!sub.live) sub.onEvent?.(m); // its rows were converted in place by #rows
  }

  #rows(sub: Sub, value: unknown): Row[] {
    const rows = (value as Row[] | undefined) ?? [];
    if (this.#mode !== 'bigint') return rows;
    for (const row of rows) for (const col of sub.bigColumns) row[col.name] = convertCell(col, row[col.name], this.#mode);
    return rows;
  }

  #apply(sub: Sub, event: RowEvent): void {
    // Raw subscriptions keep only the cursor, for resuming.
    if (!sub.live) return track(sub.m, event);
    const limit = rowLimit(sub);
    apply(sub.m, event, { keyColumns: sub.keyColumns.length > 0 ? sub.keyColumns : ['id'], ...(limit === undefined ? {} : { limit }) });
  }

  /** Calls onRows once for everything that arrived in this turn, and persists the rows later. */
  #changed(sub: Sub): void {
    if (!sub.live) return;
    if (!sub.notifyQueued) {
      sub.notifyQueued = true;
      queueMicrotask(() => {
        sub.notifyQueued = false;
        if (!sub.stopped) sub.onRows?.(rowsOf(sub.m), info(sub, sub.status === 'stored' ? 'loading' : sub.status));
      });
    }
    if (sub.storeKey !== undefined && sub.status === 'ready' && sub.persistTimer === undefined) {
      sub.persistTimer = setTimeout(() => void this.#persist(sub), 200);
    }
  }

  /** Stores the rows (in the order shown) with their cursor, once complete: never a snapshot in progress. */
  async #persist(sub: Sub): Promise<void> {
    sub.persistTimer = undefined;
    if (sub.storeKey === undefined || sub.status !== 'ready') return;
    const keys = new Map([...sub.m.rows].map(([key, row]) => [row, key]));
    const saved: Saved = { rows: rowsOf(sub.m).map((row) => [keys.get(row)!, row]), cursor: sub.m.cursor, schema: sub.schema ?? [], keyColumns: sub.keyColumns, ...(sub.window === undefined ? {} : { window: sub.window }) };
    await this.#store!.set(sub.storeKey, encode(saved));
  }
}

function subscribeMessage(sub: Sub): { type: 'subscribe'; subscription: { options?: Record<string, unknown> } } {
  const base = { id: sub.id, sql: sub.sql, ...(sub.params.length === 0 ? {} : { params: sub.params }) };
  if (sub.m.cursor !== undefined) return { type: 'subscribe', subscription: { ...base, options: { from: sub.m.cursor.toString() } } };
  if (!sub.live) return { type: 'subscribe', subscription: { ...base, ...(sub.options.raw === undefined ? {} : { options: sub.options.raw }) } };
  const options = { ...(sub.options.batchSize === undefined ? {} : { batch_size: sub.options.batchSize }), ...(sub.options.clientPaced === true ? { flow: 'client' } : {}) };
  return { type: 'subscribe', subscription: { ...base, options } };
}

const UTF8 = new TextDecoder();

/** A live query as the store keeps it (SPEC.md, "Offline"): rows in the order shown, keyed. */
interface Saved {
  readonly rows: [string, Row][];
  readonly cursor: bigint | undefined;
  readonly schema: readonly SchemaEntry[];
  readonly keyColumns: readonly string[];
  readonly window?: LiveWindow;
}

function setSchema(sub: Sub, schema: readonly SchemaEntry[]): void {
  sub.schema = schema;
  sub.bigColumns = schema.filter((c) => c.data_type === 'BigInt');
}

/** Keeps the rows in the window's order from now on (re-sorting those held), or in `_seq` order without one. */
function setWindow(sub: Sub, window: LiveWindow | undefined): void {
  sub.window = window;
  setOrder(sub.m, window === undefined ? undefined : rowComparator(window.orderBy, sub.schema ?? []));
}

/**
 * The ack's `order_by` and `limit` (docs/protocol.md §4.7); undefined when it has no order, or
 * one the protocol does not describe (the rows are then kept in `_seq` order: still the
 * window's rows, as for a client that ignores the fields).
 */
function windowOf(m: LiveEvent): LiveWindow | undefined {
  const orderBy = m['order_by'];
  if (!Array.isArray(orderBy) || orderBy.length === 0 || !orderBy.every(isOrderKey)) return undefined;
  const limit = m['limit'];
  return { orderBy: orderBy.map((k) => ({ column: k.column, direction: k.direction, nulls: k.nulls })), ...(typeof limit === 'number' && Number.isSafeInteger(limit) && limit > 0 ? { limit } : {}) };
}

function isOrderKey(k: unknown): k is OrderKey {
  const key = (typeof k === 'object' && k !== null ? k : {}) as Record<string, unknown>;
  return typeof key['column'] === 'string' && (key['direction'] === 'asc' || key['direction'] === 'desc') && (key['nulls'] === 'first' || key['nulls'] === 'last');
}

/**
 * Rows a live query keeps at most: the app's `limit`, and the window's (a safety net: the server
 * sends the window exactly). The window's counts only with its order: without one the client
 * cannot tell which rows it holds.
 */
function rowLimit(sub: Sub): number | undefined {
  const own = sub.options.limit;
  const window = sub.window?.limit;
  if (window === undefined) return own;
  return own === undefined ? window : Math.min(own, window);
}

function info(sub: Sub, status: LiveInfo['status']): LiveInfo {
  return { status, cursor: sub.m.cursor, ...(sub.window === undefined ? {} : { window: sub.window }) };
}

function maxSeq(a: bigint | undefined, b: bigint | undefined): bigint | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

/** The statements' results of a SQL answer (docs/protocol.md §2), rows as objects. */
function statementResults(body: Record<string, unknown>, mode: BigIntMode): StatementResult[] {
  const results = body['results'];
  if (!Array.isArray(results)) throw new ProtocolError('the SQL answer has no results');
  return results.map((value: unknown): StatementResult => {
    const r = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    const schema = Array.isArray(r['schema']) ? (r['schema'] as SchemaEntry[]) : [];
    const rows = Array.isArray(r['rows']) ? (r['rows'] as unknown[][]).map((cells) => rowObject(schema, cells, mode)) : [];
    const message = r['message'];
    const seq = r['seq'];
    return {
      schema,
      rows,
      rowCount: typeof r['row_count'] === 'number' ? r['row_count'] : rows.length,
      ...(typeof message === 'string' ? { message } : {}),
      ...(typeof seq === 'string' || typeof seq === 'number' || typeof seq === 'bigint' ? { seq: String(seq) } : {}),
    };
  });
}

/** A write's results summed up: rows changed by all statements, the highest `_seq` written. */
function executeResult(results: StatementResult[]): ExecuteResult {
  let seq: bigint | undefined;
  for (const r of results) if (r.seq !== undefined) seq = maxSeq(seq, BigInt(r.seq));
  return { rowCount: results.reduce((n, r) => n + r.rowCount, 0), ...(seq === undefined ? {} : { seq: seq.toString() }), results };
}

/** A WebSocket `error` message (docs/protocol.md §4) as a ServerError. */
function wsError(m: LiveEvent): SeqlineError {
  return serverError(typeof m['code'] === 'string' ? m['code'] : 'UNKNOWN', typeof m['message'] === 'string' ? m['message'] : 'subscription error');
}

/** Whose data a store holds: `options.user`, the password login's user, or a fixed JWT's `sub`. */
function storeUser(options: ClientOptions): string {
  const auth = options.auth;
  const user = options.user ?? ('user' in auth ? auth.user : 'jwt' in auth ? jwtSubject(auth.jwt) : undefined);
  if (user === undefined || user === '') throw new Error('a store needs options.user (whose data it keeps) with this auth');
  return user;
}

function jwtSubject(jwt: string): string | undefined {
  try {
    const part = jwt.split('.')[1] ?? '';
    const binary = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))) as { sub?: unknown };
    return typeof claims.sub === 'string' ? claims.sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A random version 4 UUID for an Idempotency-Key. `crypto.randomUUID` exists only in secure
 * contexts (https:, or http: on localhost): a page served over plain http from a LAN address
 * has `crypto.getRandomValues` alone, so the UUID is built from it there.
 */
export function randomKey(): string {
  const crypto = globalThis.crypto as { randomUUID?: () => string; getRandomValues<T extends ArrayBufferView>(array: T): T };
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10xx
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function defaultWebSocket(): WebSocketFactory {
  const Ctor = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (Ctor === undefined) throw new Error('no WebSocket available: pass options.webSocket (in Node, import createClient from "@seqline/client/node")');
  return (url) => new Ctor(url);
}

/** A client for the gateway at `options.url`; nothing is sent until it is used. */
export function createClient(options: ClientOptions): SeqlineClient {
  return new SeqlineClient(options);
}
