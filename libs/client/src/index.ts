// Public surface of @seqline/client (browsers and Node ≥ 20; in Node import "@seqline/client/node",
// which brings a WebSocket and a file store).
export { createClient, SeqlineClient, type ClientOptions, type LiveEvent, type LiveInfo, type LiveOptions, type SubscribeOptions, type WebSocketFactory, type WebSocketLike } from './client.js';
export { NetworkError, SeqlineError } from './errors.js';
export type { Auth, BigIntMode, FetchLike } from './http.js';
/** The SQL API's body parsing and error mapping, for tools that call the HTTP API themselves (the CLI). */
export { bearer, errorFrom, parseBody, postJson } from './http.js';
export type { Status } from './machine.js';
export type { Row } from './materialize.js';
export { memoryStore, webStorageStore, type Store } from './store.js';
export { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { compareSeqId, parseSeqId, formatSeqId, seqIdTimestampMs, seqIdToDate, type SeqId } from '@seqline/seq';
