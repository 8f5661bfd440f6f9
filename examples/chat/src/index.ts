// @seqline/chat: the example chat. The browser app lives in src/browser (built by buildChat);
// Node gets the build, the demo seed and the relay. The page is served by @seqline/dashboard's
// static server (the same four files and config.json).
export { buildChat, DEFAULT_CHAT_DIST } from './build.js';
export { DEMO_ROOMS, DEMO_USERS, RELAY_USER, seedChat, type ChatSeedOptions } from './seed.js';
export { startRelay, type Relay, type RelayOptions } from './relay.js';
