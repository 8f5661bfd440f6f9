// Public surface of @seqline/client (browsers and Node ≥ 20; in Node import "@seqline/client/node",
// which brings a WebSocket and a file store).
export {
  createClient,
  SeqlineClient,
  type ClientOptions,
  type ExecuteOptions,
  type ExecuteResult,
  type LiveEvent,
  type LiveInfo,
  type LiveOptions,
  type LiveWindow,
  type QueryResult,
  type StatementResult,
  type SubscribeOptions,
  type WebSocketFactory,
  type WebSocketLike,
} from './client.js';
export type { ChangeHandler, ConsumedChange, ConsumedRow, ConsumeOptions, Consumer } from './consume.js';
export { AuthError, CLIENT_ERROR, ClosedError, NetworkError, ProtocolError, SeqlineError, ServerError, TimeoutError, type FailedStatement } from './errors.js';
export type { Auth, BigIntMode, FetchLike, SchemaEntry } from './http.js';
/** The SQL API's body parsing and error mapping, for tools that call the HTTP API themselves (the CLI). */
export { bearer, errorFrom, parseBody, postJson } from './http.js';
export type { Status } from './machine.js';
export type { Row } from './materialize.js';
/** A live query's order (the ack's `order_by`) as a row comparator, the way the server orders (docs/protocol.md §4.7). */
export { rowComparator, type OrderKey, type RowComparator } from './order.js';
export { memoryStore, UserStore, webStorageStore, type Store } from './store.js';
export { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { compareSeqId, parseSeqId, formatSeqId, seqIdTimestampMs, seqIdToDate, type SeqId } from '@seqline/seq';
