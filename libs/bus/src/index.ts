// The message bus: connections, and (later) subjects, streams, consumers and codecs.
export { connectNats } from './connect.js';
export type { ConnectOptions } from './connect.js';
