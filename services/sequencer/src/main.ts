// The sequencer process: wiring only (libs/runtime serviceMain does --help, config and lifecycle).
import { serviceMain } from '@seqline/runtime';
import { sequencerConfigSchema } from './config.js';
import { SequencerService } from './sequencer.js';

await serviceMain({
  name: 'sequencer',
  summary: 'the only source of Snowflake sequence ids (gRPC AllocateIds).',
  schema: sequencerConfigSchema,
  create: (config, logger) => new SequencerService(config, { logger }),
});
