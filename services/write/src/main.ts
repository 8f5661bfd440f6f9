// The write process: wiring only (libs/runtime serviceMain does --help, config and lifecycle).
import { serviceMain } from '@seqline/runtime';
import { writeConfigSchema } from './config.js';
import { WriteService } from './write.js';

await serviceMain({
  name: 'write',
  summary: 'validates mutations, logs them as ops, waits for their results (gRPC Execute).',
  schema: writeConfigSchema,
  create: (config, logger) => new WriteService(config, { logger }),
});
