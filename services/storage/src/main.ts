// The storage process: wiring only (libs/runtime serviceMain does --help, config and lifecycle).
import { serviceMain } from '@seqline/runtime';
import { storageConfigSchema } from './config.js';
import { StorageService } from './storage.js';

await serviceMain({
  name: 'storage',
  summary: 'applies the op log to PostgreSQL, publishes changes, serves reads (gRPC).',
  schema: storageConfigSchema,
  create: (config, logger) => new StorageService(config, { logger }),
});
