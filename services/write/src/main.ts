// The write process: config from the environment → service → run until SIGTERM → drain.
import { createLogger, describeConfig, parseConfig, runService } from '@seqline/runtime';
import { writeConfigSchema } from './config.js';
import { WriteService } from './write.js';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(`seqline write: validates mutations, logs them as ops, waits for their results (gRPC Execute).

Usage: node --import tsx services/write/src/main.ts   (configured by environment variables)

Environment:
${describeConfig(writeConfigSchema)}`);
  process.exit(0);
}

const logger = createLogger({ service: 'write' });
const code = await runService(async () => {
  const config = parseConfig(writeConfigSchema, process.env);
  return new WriteService(config, { logger: createLogger({ service: 'write', level: config.logLevel }) });
}, { logger, cpuProfileDir: process.env['SEQLINE_CPU_PROFILE_DIR'] });
process.exit(code);
