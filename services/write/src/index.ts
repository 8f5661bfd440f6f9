// @seqline/write: the service (for tests and embedding).
export { writeConfigSchema } from './config.js';
export type { WriteConfig } from './config.js';
export { WriteService, startWrite } from './write.js';
