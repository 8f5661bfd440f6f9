// Connecting to NATS without a crash loop: the first connection is retried with capped,
// jittered backoff (logging each failure with where it tried and when it tries again) until it
// works or the caller stops; once connected, nats.js reconnects by itself forever and each
// status change is logged.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger, RunningState } from '@seqline/runtime';

export interface ConnectOptions {
  readonly servers: readonly string[];
  /** Connection name shown by the server (e.g. "sequencer-3"). */
  readonly name: string;
  readonly logger: Logger;
  /** Owns the backoff and the abort: stopping it ends the retry loop. */
  readonly state: RunningState;
  readonly connectTimeoutMs?: number;
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
      void logStatus(nc, logger);
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

async function logStatus(nc: NatsConnection, logger: Logger): Promise<void> {
  for await (const s of nc.status()) {
    switch (s.type) {
      case 'disconnect':
        logger.warn('NATS disconnected', { server: s.server });
        break;
      case 'reconnect':
        logger.info('NATS reconnected', { server: s.server });
        break;
      case 'error':
        logger.warn('NATS error', { reason: s.error.message });
        break;
      default:
        break;
    }
  }
}
