// The service lifecycle shared by every process: start → run until SIGTERM/SIGINT → drain →
// stop, with exit codes a supervisor can act on. A second signal skips the drain. A
// configuration error exits with EX_CONFIG and a message, so a bad deployment does not
// look like a crash loop.
import { ConfigError } from './errors.js';
import type { Logger } from './log.js';
import type { Registry } from './metrics.js';
import { startCpuProfile } from './profile.js';

/** Every long-running piece implements this contract. */
export interface Service {
  readonly id: string;
  /** Resolves when the service has stopped (rejects if it failed). */
  run(): Promise<void>;
  /** Stop taking new work, finish what is in flight. */
  drain?(): Promise<void>;
  /** Release everything; idempotent. */
  stop(): Promise<void>;
  /** The service's Prometheus metrics (served on the ops port by serviceMain). */
  readonly metrics?: Registry;
  /** Throws the reason when the service is not (or no longer) ready to serve. */
  checkReady?(): void;
}

export const EXIT = { ok: 0, failure: 1, config: 78 } as const;

/** How long a drain may take before stop is forced, unless RunOptions say otherwise (infra/k8s sizes grace periods on it). */
export const DRAIN_TIMEOUT_MS = 30_000;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The part of `process` the runner needs; injected for tests. */
export interface SignalSource {
  on(event: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  off(event: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
}

export interface RunOptions {
  readonly logger: Logger;
  readonly signals?: SignalSource;
  /** Longest a drain may take before stop is forced (default DRAIN_TIMEOUT_MS). */
  readonly drainTimeoutMs?: number;
  /** Record a CPU profile into this directory until the service stops (SEQLINE_CPU_PROFILE_DIR). */
  readonly cpuProfileDir?: string | undefined;
}

export async function runService(start: () => Promise<Service>, options: RunOptions): Promise<ExitCode> {
  const { logger } = options;
  const signals = options.signals ?? process;
  let service: Service;
  try {
    service = await start();
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.error(err.message, { problems: err.problems });
      return EXIT.config;
    }
    logger.error('failed to start', { err });
    return EXIT.failure;
  }
  const stopProfile = options.cpuProfileDir ? await startCpuProfile(options.cpuProfileDir, service.id) : undefined;
  let signalled = 0;
  const onSignal = (): void => {
    signalled++;
    if (signalled === 1) {
      logger.info('signal received: draining', { service: service.id });
      void shutdown(service, options);
    } else {
      logger.warn('second signal: stopping now', { service: service.id });
      void service.stop();
    }
  };
  signals.on('SIGTERM', onSignal);
  signals.on('SIGINT', onSignal);
  try {
    await service.run();
    logger.info('stopped', { service: service.id });
    return EXIT.ok;
  } catch (err) {
    // A configuration found wrong only once connected (storage's PostgreSQL role) exits as one.
    if (err instanceof ConfigError) {
      logger.error(err.message, { problems: err.problems });
      return EXIT.config;
    }
    logger.error('service failed', { service: service.id, err });
    await service.stop().catch(() => {});
    return EXIT.failure;
  } finally {
    signals.off('SIGTERM', onSignal);
    signals.off('SIGINT', onSignal);
    if (stopProfile) logger.info('cpu profile written', { file: await stopProfile() });
  }
}

async function shutdown(service: Service, options: RunOptions): Promise<void> {
  const timeoutMs = options.drainTimeoutMs ?? DRAIN_TIMEOUT_MS;
  if (service.drain) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const outcome = await Promise.race([service.drain().then(() => 'drained' as const), timeout]);
      if (outcome === 'timeout') options.logger.warn('drain timed out; stopping', { service: service.id, timeoutMs });
    } catch (err) {
      options.logger.warn('drain failed; stopping', { service: service.id, err });
    } finally {
      clearTimeout(timer);
    }
  }
  await service.stop();
}
