// The gateway process: config from the environment → service → run until SIGTERM → drain.
import { createLogger, describeConfig, parseConfig, runService } from '@seqline/runtime';
import { gatewayConfigSchema } from './config.js';
import { GatewayService } from './gateway.js';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(`seqline gateway: the HTTP SQL API (and auth) in front of storage and write.

Usage: node services/gateway/src/main.ts   (configured by environment variables)

Environment:
${describeConfig(gatewayConfigSchema)}`);
  process.exit(0);
}

const logger = createLogger({ service: 'gateway' });
const code = await runService(async () => {
  const config = parseConfig(gatewayConfigSchema, process.env);
  return new GatewayService(config, { logger: createLogger({ service: 'gateway', level: config.logLevel }) });
}, { logger, cpuProfileDir: process.env['SEQLINE_CPU_PROFILE_DIR'] });
process.exit(code);
