// The body of every service's src/main.ts: `--help` prints the configuration schema; otherwise
// the config is parsed from the environment (a bad value exits 78 naming the variable), the
// service runs until SIGTERM/SIGINT, drains, stops, and the process exits with the outcome.
import { describeConfig, parseConfig, type ConfigOf, type ConfigSchema, type Env } from './config.js';
import { createLogger, LOG_LEVELS, type Logger } from './log.js';
import { runService, type Service } from './service.js';

export interface ServiceMain<S extends ConfigSchema> {
  readonly name: string;
  /** One line: what the service does. */
  readonly summary: string;
  readonly schema: S;
  readonly create: (config: ConfigOf<S>, logger: Logger) => Service;
}

export async function serviceMain<S extends ConfigSchema>(main: ServiceMain<S>, argv = process.argv, env: Env = process.env): Promise<never> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`seqline ${main.name}: ${main.summary}

Usage: node --import tsx services/${main.name}/src/main.ts   (configured by environment variables)

Environment:
${describeConfig(main.schema)}
`);
    process.exit(0);
  }
  const logger = createLogger({ service: main.name });
  const code = await runService(
    async () => {
      const config = parseConfig(main.schema, env);
      const level = LOG_LEVELS.find((l) => l === (config as { logLevel?: unknown }).logLevel) ?? 'info';
      return main.create(config, createLogger({ service: main.name, level }));
    },
    { logger, cpuProfileDir: env['SEQLINE_CPU_PROFILE_DIR'] },
  );
  process.exit(code);
}
