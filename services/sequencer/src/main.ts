// The sequencer process: config from the environment → service → run until SIGTERM → drain.
import { createLogger, describeConfig, parseConfig, runService } from '@seqline/runtime';
import { sequencerConfigSchema } from './config.js';
import { SequencerService } from './sequencer.js';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(`seqline sequencer: the only source of Snowflake sequence ids (gRPC AllocateIds).

Usage: node services/sequencer/src/main.ts   (configured by environment variables)

Environment:
${describeConfig(sequencerConfigSchema)}`);
  process.exit(0);
}

const logger = createLogger({ service: 'sequencer' });
const code = await runService(async () => {
  const config = parseConfig(sequencerConfigSchema, process.env);
  const service = new SequencerService(config, { logger: createLogger({ service: 'sequencer', level: config.logLevel }) });
  return service;
}, { logger, cpuProfileDir: process.env['SEQLINE_CPU_PROFILE_DIR'] });
process.exit(code);
