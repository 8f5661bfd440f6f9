// The sequencer service: the only source of Snowflake ids (docs/architecture.md §5).
//
// Lifecycle: connect to NATS (retrying with backoff, never crash-looping) → lease a worker id
// → read the durable high-water mark → serve gRPC AllocateIds. Each response's ids are minted
// by one SeqIdGenerator and handed out only once the stored ceiling covers them and the lease
// is still valid, so ids are unique across live sequencers (distinct worker ids) and increase
// across restarts (the ceiling), whatever the clock does. On drain: NOT_SERVING, finish the
// calls in flight, release the lease, close NATS.
import { performance } from 'node:perf_hooks';
import { hostname } from 'node:os';
import { status } from '@grpc/grpc-js';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, ensureBucket } from '@seqline/bus';
import { sequencerPb } from '@seqline/proto';
import { Counter, RunningState, ServiceHost, startGrpcServer, type GrpcServer, type Logger } from '@seqline/runtime';
import { SeqIdGenerator, systemClock, type Clock } from '@seqline/seq';
import { allocateIdsHandler } from '@seqline/sequencer-client';
import type { SequencerConfig } from './config.js';
import { HighWaterMark } from './high-water.js';
import { WorkerLease } from './lease.js';

export interface SequencerDeps {
  readonly logger: Logger;
  /** Wall clock for ids (injected to test clocks that go back). */
  readonly clock?: Clock;
}

export interface SequencerInfo {
  readonly port: number;
  readonly workerId: number;
}

export class SequencerService extends ServiceHost<SequencerInfo> {
  readonly id = 'sequencer';
  readonly #config: SequencerConfig;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #issued = new Counter({ name: 'seqline_sequencer_ids_issued_total', help: 'sequence ids handed out by AllocateIds', registers: [this.metrics] });
  readonly #refused = new Counter({ name: 'seqline_sequencer_refusals_total', help: 'AllocateIds calls refused as UNAVAILABLE (lease not renewed, high-water mark not stored)', registers: [this.metrics] });
  #nc: NatsConnection | undefined;
  #lease: WorkerLease | undefined;
  #grpc: GrpcServer | undefined;

  constructor(config: SequencerConfig, deps: SequencerDeps) {
    super(new RunningState('sequencer', { backoff: { initialMs: 200, maxMs: 5000 } }));
    this.#config = config;
    this.#logger = deps.logger;
    this.#clock = deps.clock ?? systemClock;
  }

  protected async startUp(): Promise<SequencerInfo> {
    const instance = this.#config.instanceId ?? `${hostname()}:${process.pid}`;
    const nc = await connectNats({ servers: this.#config.natsUrls, name: `sequencer ${instance}`, logger: this.#logger, state: this.state, metrics: this.metrics });
    if (nc === undefined) throw new Error('stopped before NATS was reached');
    this.#nc = nc;
    const prefix = this.#config.bucketPrefix;
    const replicas = this.#config.natsReplicas;
    const leases = await ensureBucket(nc, `${prefix}_sequencer_leases`, { history: 1, ttlMs: this.#config.leaseTtlMs, replicas });
    const marks = await ensureBucket(nc, `${prefix}_sequencer_hwm`, { history: 1, replicas });
    const leaseOptions = { instance, ttlMs: this.#config.leaseTtlMs, monotonic: () => performance.now() };
    const lease =
      this.#config.workerId === undefined
        ? await WorkerLease.acquireAny(leases, leaseOptions)
        : await WorkerLease.acquire(leases, this.#config.workerId, leaseOptions);
    this.#lease = lease;
    this.#scheduleRenewal(lease);
    const { hwm, floor } = await HighWaterMark.open(marks, lease.workerId, this.#config.reserveMs, this.#clock.now());
    const generator = new SeqIdGenerator({ workerId: lease.workerId, clock: this.#clock, ...(floor === undefined ? {} : { floor }) });
    this.#grpc = await startGrpcServer({
      host: this.#config.host,
      port: this.#config.port,
      services: [{ name: 'seqline.v1.Sequencer', definition: sequencerPb.SequencerService, implementation: this.#handlers(generator, hwm, lease) }],
    });
    this.#logger.info('sequencer serving', { port: this.#grpc.port, workerId: lease.workerId, floor, ceilingMs: hwm.ceilingMs });
    return { port: this.#grpc.port, workerId: lease.workerId };
  }

  #handlers(generator: SeqIdGenerator, hwm: HighWaterMark, lease: WorkerLease): sequencerPb.SequencerServer {
    return {
      allocateIds: allocateIdsHandler((count, callback) => {
        if (!lease.isValid()) {
          this.#refused.inc();
          callback({ code: status.UNAVAILABLE, details: `worker id ${lease.workerId}: lease not renewed in time; not issuing ids` });
          return;
        }
        const ranges = generator.allocate(count);
        hwm.cover(generator.lastTimestampMs).then(
          () => {
            this.#issued.inc(count);
            callback(null, { ranges: ranges.map((r) => ({ first: r.first, count: r.count })), workerId: lease.workerId });
          },
          (err: unknown) => {
            this.#refused.inc();
            this.#logger.error('cannot store the high-water mark', { err });
            callback({ code: status.UNAVAILABLE, details: 'cannot store the high-water mark; retry' });
          },
        );
      }),
    };
  }

  #scheduleRenewal(lease: WorkerLease): void {
    const every = Math.floor(this.#config.leaseTtlMs / 3);
    const tick = (): void => {
      lease.renew().then(
        () => this.state.setTimeout(tick, every),
        (err: unknown) => {
          if (lease.lost) {
            this.#logger.error('worker-id lease lost; stopping', { workerId: lease.workerId, err });
            this.#grpc?.health.setAll(false);
            this.fail(lease.lost);
            return;
          }
          this.#logger.warn('cannot renew worker-id lease; retrying', { workerId: lease.workerId, reason: err instanceof Error ? err.message : String(err) });
          this.state.setTimeout(tick, Math.min(every, 1000));
        },
      );
    };
    this.state.setTimeout(tick, every);
  }

  protected async shutdown(): Promise<void> {
    await this.#grpc?.shutdown(10_000);
    await this.#lease?.release().catch((err: unknown) => this.#logger.warn('cannot release worker-id lease', { err }));
    await this.#nc?.drain().catch(() => this.#nc?.close());
  }
}

/** Starts a sequencer and resolves once it serves (for tests and embedding). */
export async function startSequencer(config: SequencerConfig, deps: SequencerDeps): Promise<SequencerService> {
  const service = new SequencerService(config, deps);
  const running = service.run();
  running.catch(() => {});
  await service.ready;
  return service;
}
