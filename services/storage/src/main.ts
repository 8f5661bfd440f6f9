// The storage process: config from the environment → service → run until SIGTERM → drain.
import { createLogger, describeConfig, parseConfig, runService } from '@seqline/runtime';
import { storageConfigSchema } from './config.js';
import { StorageService } from './storage.js';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(`seqline storage: applies the op log to PostgreSQL, publishes changes, serves reads (gRPC).

Usage: node --import tsx services/storage/src/main.ts   (configured by environment variables)

Environment:
${describeConfig(storageConfigSchema)}`);
  process.exit(0);
}

const logger = createLogger({ service: 'storage' });
const code = await runService(async () => {
  const config = parseConfig(storageConfigSchema, process.env);
  return new StorageService(config, { logger: createLogger({ service: 'storage', level: config.logLevel }) });
}, { logger, cpuProfileDir: process.env['SEQLINE_CPU_PROFILE_DIR'] });
process.exit(code);
