// The gateway process: wiring only (libs/runtime serviceMain does --help, config and lifecycle).
import { serviceMain } from '@seqline/runtime';
import { gatewayConfigSchema } from './config.js';
import { GatewayService } from './gateway.js';

await serviceMain({
  name: 'gateway',
  summary: 'the HTTP SQL API (and auth) in front of storage and write.',
  schema: gatewayConfigSchema,
  create: (config, logger) => new GatewayService(config, { logger }),
});
