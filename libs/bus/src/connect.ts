// Connecting to NATS without a crash loop: the first connection is retried with capped,
// jittered backoff (logging each failure with where it tried and when it tries again) until it
// works or the caller stops; once connected, nats.js reconnects by itself forever and each
// status change is logged (and counted, given a metrics registry).
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Counter, Gauge, type Logger, type Registry, type RunningState } from '@seqline/runtime';

export interface ConnectOptions {
  readonly servers: readonly string[];
  /** Connection name shown by the server (e.g. "sequencer-3"). */
  readonly name: string;
  readonly logger: Logger;
  /** Owns the backoff and the abort: stopping it ends the retry loop. */
  readonly state: RunningState;
  readonly connectTimeoutMs?: number;
  /** Where seqline_nats_* metrics go (the service's registry). */
  readonly metrics?: Registry;
}

interface NatsMetrics {
  readonly connected: Gauge;
  readonly disconnects: Counter;
  readonly reconnects: Counter;
}

function natsMetrics(registry: Registry): NatsMetrics {
  const registers = [registry];
  return {
    connected: new Gauge({ name: 'seqline_nats_connected', help: '1 while the NATS connection is up, 0 while it reconnects', registers }),
    disconnects: new Counter({ name: 'seqline_nats_disconnects_total', help: 'NATS connections lost', registers }),
    reconnects: new Counter({ name: 'seqline_nats_reconnects_total', help: 'NATS reconnections made', registers }),
  };
}

/** Resolves with a connection, or `undefined` if `state` was stopped before one was made. */
export async function connectNats(options: ConnectOptions): Promise<NatsConnection | undefined> {
  const { logger, state } = options;
  for (let attempt = 1; state.shouldRun(); attempt++) {
    try {
      const nc = await connect({
        servers: [...options.servers],
        name: options.name,
        timeout: options.connectTimeoutMs ?? 2000,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        reconnectJitter: 250,
      });
      state.resetBackoff();
      logger.info('connected to NATS', { server: nc.getServer(), attempt });
      const metrics = options.metrics === undefined ? undefined : natsMetrics(options.metrics);
      metrics?.connected.set(1);
      void nc.closed().then(() => metrics?.connected.set(0));
      void logStatus(nc, logger, metrics);
      return nc;
    } catch (err) {
      const retryInMs = state.nextBackoffMs();
      logger.warn('cannot reach NATS; retrying', {
        servers: options.servers,
        attempt,
        retryInMs,
        reason: err instanceof Error ? err.message : String(err),
      });
      if (!(await state.backoff())) break;
    }
  }
  return undefined;
}

async function logStatus(nc: NatsConnection, logger: Logger, metrics: NatsMetrics | undefined): Promise<void> {
  for await (const s of nc.status()) {
    switch (s.type) {
      case 'disconnect':
        logger.warn('NATS disconnected', { server: s.server });
        metrics?.connected.set(0);
        metrics?.disconnects.inc();
        break;
      case 'reconnect':
        logger.info('NATS reconnected', { server: s.server });
        metrics?.connected.set(1);
        metrics?.reconnects.inc();
        break;
      case 'error':
        logger.warn('NATS error', { reason: s.error.message });
        break;
      default:
        break;
    }
  }
}
