// The Seqline client: SQL over HTTP, and live queries over one WebSocket that reconnects and
// resumes each query from the last `_seq` it processed. The decisions are made by the pure
// connection machine (machine.ts) and row materialization (materialize.ts); this file does the
// I/O they ask for. See SPEC.md.
import { parseJsonLossless } from '@seqline/seq';
import { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from './backoff.js';
import { NetworkError, SeqlineError } from './errors.js';
import { bearer, bigintAsString, convertCell, postJson, rowObject, Tokens, type Auth, type BigIntMode, type FetchLike, type SchemaEntry } from './http.js';
import { INITIAL, statusOf, transition, type ConnectionAction, type ConnectionEvent, type ConnectionState, type MachineOptions, type Status } from './machine.js';
import { apply, emptyRows, seqOf, type Materialized, type Row, type RowEvent } from './materialize.js';
import { decode, encode, type Store } from './store.js';

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
  /** Keeps live queries' rows and cursors, and offline writes, across restarts. */
  readonly store?: Store;
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
  /** Errors with no caller to report to (an offline write the server refused later, say). */
  readonly onError?: (error: SeqlineError) => void;
  /** A `{"type":"ping"}` this often keeps the socket from being closed as idle (the server allows 10 s). */
  readonly pingIntervalMs?: number;
}

/** Options of {@link SeqlineClient.live}. */
export interface LiveOptions {
  /** Columns identifying a row; default the table's primary key. */
  readonly keyColumns?: readonly string[];
  /** Keep only the newest N rows (by `_seq`). */
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

const WRITE = /^\s*(insert|update|delete|execute)\b/i;
const OUTBOX = 'outbox';
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
  readonly #subs = new Map<string, Sub>();
  readonly #statusListeners = new Set<(status: Status) => void>();
  #state: ConnectionState = INITIAL;
  #socket: WebSocketLike | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ping: ReturnType<typeof setInterval> | undefined;
  #nextId = 0;
  #outbox: Queued[] | undefined;
  #outboxLoaded: Promise<void> | undefined;
  readonly #waiting = new Map<string, { resolve: (rows: Row[]) => void; reject: (err: unknown) => void }>();
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
    this.#fetch = (url, init) =>
      fetchImpl(url, init).catch((err: unknown) => {
        throw new NetworkError(`cannot reach ${this.#o.url}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      });
    this.#base = options.url.replace(/\/$/, '');
    this.#machine = { backoff: options.backoff ?? DEFAULT_BACKOFF, random: options.random ?? Math.random };
    this.#tokens = new Tokens(options.auth, this.#base, this.#fetch, this.#now);
    const target = globalThis as { addEventListener?: (type: string, listener: () => void) => void };
    target.addEventListener?.('online', this.#onOnline);
    target.addEventListener?.('offline', this.#onOffline);
    if (options.store !== undefined) this.#outboxLoaded = this.#loadOutbox();
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

  /** Opens the socket now (live queries open it themselves). */
  connect(): void {
    this.#dispatch({ type: 'start' });
  }

  /**
   * Runs SQL over HTTP; the rows of its first result as objects keyed by column. A write that
   * cannot reach the gateway is queued when the client has a store, and the promise settles
   * once it is applied (in order, once, with its idempotency key).
   */
  async query(sql: string, params: readonly unknown[] = [], options: { readonly idempotencyKey?: string } = {}): Promise<Row[]> {
    const isWrite = WRITE.test(sql);
    const key = isWrite ? (options.idempotencyKey ?? randomKey()) : undefined;
    if (isWrite && this.#o.store !== undefined) {
      await this.#outboxLoaded;
      if (this.#outbox !== undefined && this.#outbox.length > 0) return this.#enqueue({ key: key!, sql, params });
    }
    try {
      return await this.#sql(sql, params, key);
    } catch (err) {
      if (err instanceof NetworkError && isWrite && this.#o.store !== undefined) return this.#enqueue({ key: key!, sql, params });
      throw err;
    }
  }

  /**
   * Keeps `onRows` called with the current rows of `sql` (in `_seq` order): the stored rows at
   * once when the store has them, the snapshot as it loads, then after every change, across
   * reconnects. Returns a function that stops it.
   */
  live(sql: string, onRows: (rows: Row[], info: LiveInfo) => void, options: LiveOptions = {}): () => void {
    const params = options.params ?? [];
    const sub = this.#newSub(sql, params, true, options, { onRows });
    if (options.from !== undefined) sub.m.cursor = BigInt(options.from);
    void this.#startSub(sub);
    return () => this.#stopSub(sub);
  }

  /** The raw protocol events of a subscription (resumed like `live`'s after a reconnect). */
  subscribe(sql: string, onEvent: (event: LiveEvent) => void, options: SubscribeOptions = {}): () => void {
    const sub = this.#newSub(sql, options.params ?? [], false, { ...(options.onError === undefined ? {} : { onError: options.onError }), ...(options.options === undefined ? {} : { raw: options.options }) }, { onEvent });
    void this.#startSub(sub);
    return () => this.#stopSub(sub);
  }

  /** Stops everything: the socket, timers and every live query. */
  close(): void {
    clearTimeout(this.#flushRetry);
    for (const sub of [...this.#subs.values()]) this.#stopSub(sub);
    this.#dispatch({ type: 'stop' });
    const target = globalThis as { removeEventListener?: (type: string, listener: () => void) => void };
    target.removeEventListener?.('online', this.#onOnline);
    target.removeEventListener?.('offline', this.#onOffline);
  }

  // --- HTTP ------------------------------------------------------------------------------

  async #sql(sql: string, params: readonly unknown[], key: string | undefined, retried = false): Promise<Row[]> {
    const headers = { ...bearer(await this.#tokens.get()), ...(key === undefined ? {} : { 'idempotency-key': key }) };
    let body: Record<string, unknown>;
    try {
      body = await postJson(this.#fetch, `${this.#base}/v1/api/sql`, params.length === 0 ? { sql } : { sql, params }, headers);
    } catch (err) {
      if (retried || !(err instanceof SeqlineError && err.status === 401 && err.code === 'TOKEN_EXPIRED')) throw err;
      this.#tokens.invalidate();
      return this.#sql(sql, params, key, true);
    }
    const [first] = (body['results'] as Record<string, unknown>[] | undefined) ?? [];
    const schema = first?.['schema'] as SchemaEntry[] | undefined;
    const rows = first?.['rows'] as unknown[][] | undefined;
    if (schema === undefined || rows === undefined) return [];
    return rows.map((cells) => rowObject(schema, cells, this.#mode));
  }

  async #loadOutbox(): Promise<void> {
    const text = await this.#o.store!.get(OUTBOX);
    this.#outbox = text === undefined ? [] : (decode(text) as Queued[]);
    if (this.#outbox.length > 0) this.connect(); // flushed once connected
  }

  async #enqueue(write: Queued): Promise<Row[]> {
    this.#outbox!.push(write);
    await this.#o.store!.set(OUTBOX, encode(this.#outbox));
    const done = new Promise<Row[]>((resolve, reject) => this.#waiting.set(write.key, { resolve, reject }));
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
      while (outbox.length > 0) {
        const write = outbox[0]!;
        let outcome: { rows: Row[] } | { error: unknown };
        try {
          outcome = { rows: await this.#sql(write.sql, write.params, write.key) };
        } catch (err) {
          if (err instanceof NetworkError) {
            if (this.#state.kind !== 'closed') this.#flushRetry = setTimeout(() => void this.#flush(), backoffDelay(this.#flushFailures++, this.#machine.backoff, this.#machine.random));
            return;
          }
          outcome = { error: err };
        }
        this.#flushFailures = 0;
        outbox.shift();
        await this.#o.store!.set(OUTBOX, encode(outbox));
        const waiter = this.#waiting.get(write.key);
        this.#waiting.delete(write.key);
        if ('rows' in outcome) waiter?.resolve(outcome.rows);
        else if (waiter !== undefined) waiter.reject(outcome.error);
        else this.#o.onError?.(outcome.error instanceof SeqlineError ? outcome.error : new SeqlineError('UNKNOWN', String(outcome.error), 0));
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
        if (action.error !== undefined) this.#o.onError?.(new SeqlineError(action.error.code, action.error.message, 0));
        for (const listener of this.#statusListeners) listener(action.status);
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
    socket.onclose = () => {
      if (!current()) return;
      this.#socket = undefined;
      clearInterval(this.#ping);
      this.#dispatch({ type: 'socket_closed' });
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
      if (err instanceof NetworkError) return socket?.close(1000, 'no token');
      this.#dispatch({ type: 'auth_failed', retryable: false, message: err instanceof Error ? err.message : String(err) });
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
        this.#dispatch({ type: 'auth_failed', retryable: /expired/i.test(message), message });
        return;
      }
      default: {
        const sub = typeof m['subscription_id'] === 'string' ? this.#subs.get(m['subscription_id']) : undefined;
        if (sub !== undefined && !sub.stopped) this.#onSubEvent(sub, m);
        else if (m.type === 'error') this.#o.onError?.(new SeqlineError(String(m['code']), String(m['message']), 0));
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
      storeKey: live && this.#o.store !== undefined ? `live:${sql}\u0000${JSON.stringify(params, bigintAsString)}` : undefined,
      m: emptyRows(),
      schema: undefined,
      bigColumns: [],
      keyColumns: options.keyColumns ?? [],
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
      const text = await this.#o.store!.get(sub.storeKey);
      if (sub.stopped) return;
      if (text !== undefined) {
        const saved = decode(text) as { rows: [string, Row][]; cursor: bigint | undefined; schema: SchemaEntry[]; keyColumns: string[] };
        sub.m = { rows: new Map(saved.rows), cursor: saved.cursor };
        setSchema(sub, saved.schema);
        if (sub.keyColumns.length === 0) sub.keyColumns = saved.keyColumns;
        sub.status = 'stored';
        sub.onRows?.([...sub.m.rows.values()], { status: 'stored', cursor: sub.m.cursor });
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
        if (m['reset'] === true) this.#apply(sub, { kind: 'reset' });
        if (!(sub.snapshotAsked || m['reset'] === true) && control.status === 'ready') {
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
        this.#apply(sub, { kind: 'upsert', rows });
        const control = m['batch_control'] as { status: string; has_more: boolean };
        if (control.status === 'ready') {
          if (sub.boundary !== undefined) this.#apply(sub, { kind: 'cursor', seq: sub.boundary });
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
        const code = String(m['code']);
        const error = new SeqlineError(code, String(m['message']), 0);
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
    if (!sub.live) {
      // Raw subscriptions keep only the cursor, for resuming.
      if (event.kind === 'cursor') sub.m.cursor = maxSeq(sub.m.cursor, event.seq);
      else if (event.kind !== 'reset') for (const row of event.rows) sub.m.cursor = maxSeq(sub.m.cursor, seqOf(row));
      return;
    }
    apply(sub.m, event, { keyColumns: sub.keyColumns.length > 0 ? sub.keyColumns : ['id'], ...(sub.options.limit === undefined ? {} : { limit: sub.options.limit }) });
  }

  /** Calls onRows once for everything that arrived in this turn, and persists the rows later. */
  #changed(sub: Sub): void {
    if (!sub.live) return;
    if (!sub.notifyQueued) {
      sub.notifyQueued = true;
      queueMicrotask(() => {
        sub.notifyQueued = false;
        if (!sub.stopped) sub.onRows?.([...sub.m.rows.values()], { status: sub.status === 'stored' ? 'loading' : sub.status, cursor: sub.m.cursor });
      });
    }
    if (sub.storeKey !== undefined && sub.status === 'ready' && sub.persistTimer === undefined) {
      sub.persistTimer = setTimeout(() => void this.#persist(sub), 200);
    }
  }

  async #persist(sub: Sub): Promise<void> {
    sub.persistTimer = undefined;
    if (sub.storeKey === undefined) return;
    await this.#o.store!.set(sub.storeKey, encode({ rows: [...sub.m.rows.entries()], cursor: sub.m.cursor, schema: sub.schema ?? [], keyColumns: sub.keyColumns }));
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

function setSchema(sub: Sub, schema: readonly SchemaEntry[]): void {
  sub.schema = schema;
  sub.bigColumns = schema.filter((c) => c.data_type === 'BigInt');
}

function maxSeq(a: bigint | undefined, b: bigint | undefined): bigint | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

function randomKey(): string {
  return (globalThis as { crypto: { randomUUID(): string } }).crypto.randomUUID();
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
