// The body of every service's src/main.ts: `--help` prints the configuration schema; otherwise
// the config is parsed from the environment (a bad value exits 78 naming the variable), the
// service runs until SIGTERM/SIGINT, drains, stops, and the process exits with the outcome.
// Around the service: tracing when the OTel variables ask for it (telemetry.ts), and the ops
// HTTP endpoint (/metrics, /health, /healthz, /readyz) on the config's `metricsPort`.
import { describeConfig, parseConfig, type ConfigOf, type ConfigSchema, type Env } from './config.js';
import { createLogger, LOG_LEVELS, type Logger } from './log.js';
import { startOpsServer, type OpsServer } from './metrics.js';
import { runService, type Service } from './service.js';
import { startTracing, tracingRequested } from './telemetry.js';

/** The version the ops endpoint reports. */
const VERSION = '0.1.0';

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
  const tracing = tracingRequested(env) ? await startTracing({ serviceName: `seqline-${main.name}`, env }) : undefined;
  let ops: OpsServer | undefined;
  const code = await runService(
    async () => {
      const config = parseConfig(main.schema, env);
      const { logLevel, metricsPort, host } = config as { logLevel?: unknown; metricsPort?: unknown; host?: unknown };
      const level = LOG_LEVELS.find((l) => l === logLevel) ?? 'info';
      const serviceLogger = createLogger({ service: main.name, level });
      const service = main.create(config, serviceLogger);
      if (typeof metricsPort === 'number') ops = await serveOps(service, typeof host === 'string' ? host : '127.0.0.1', metricsPort, serviceLogger);
      return service;
    },
    { logger, cpuProfileDir: env['SEQLINE_CPU_PROFILE_DIR'] },
  );
  await ops?.close();
  await tracing?.shutdown();
  process.exit(code);
}

async function serveOps(service: Service, host: string, port: number, logger: Logger): Promise<OpsServer | undefined> {
  if (service.metrics === undefined) return undefined;
  const ready = service.checkReady?.bind(service) ?? (() => {});
  const ops = await startOpsServer({ host, port, version: VERSION, registry: service.metrics, checks: { service: ready } });
  logger.info('ops endpoint serving', { metrics: `${ops.url}/metrics` });
  return ops;
}
