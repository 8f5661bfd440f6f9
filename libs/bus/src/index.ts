// The message bus: connections, subjects, streams (docs/architecture.md §2–§3).
export { connectNats } from './connect.js';
export type { ConnectOptions } from './connect.js';
export { busNames, shardOf, TOKEN } from './names.js';
export type { BusNames } from './names.js';
export { DEFAULT_STREAM_LIMITS, ensureStreams } from './streams.js';
export { ensureBucket, ensureReplicas, waitForStreamLeader } from './kv.js';
export type { BucketOptions } from './kv.js';
export { natsReplicasField } from './config.js';
export type { StreamKind, StreamLimits } from './streams.js';
export { lastChange } from './changes.js';
export { decodeResults, RESULT_BATCH_TOKEN, resultMessages } from './results.js';
export type { AddressedResult } from './results.js';
export { JsPublisher, PublishError } from './publisher.js';
export type { PubAck, PublishOptions } from './publisher.js';
