// @seqline/storage: the service (for tests and embedding).
export { storageConfigSchema } from './config.js';
export type { StorageConfig } from './config.js';
export { StorageService, startStorage } from './storage.js';
export type { StorageDeps } from './storage.js';
