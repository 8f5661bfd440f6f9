// The storage service (docs/architecture.md §1, §3): the only component that talks to PostgreSQL.
//
// Start-up: PostgreSQL (least privilege checked, roles made with the admin URL if given; see
// privileges.ts) → migrations → catalog; NATS (retried with backoff) → streams; sequencer
// client; gRPC (Query, Admin, users, op results); then each shard this replica owns is taken
// (advisory lock + epoch) and joins the replica's Applier, which applies the ops of all its
// shards in shared batches. Shards held by another live replica are retried until it goes
// away. A fenced applier (another replica took one of its shards) fails the service so the
// process restarts clean. Drain: stop taking ops, finish the batch in
// flight, stop gRPC, release the shard locks, close NATS and PostgreSQL.
import { hostname } from 'node:os';
import type { NatsConnection } from '@nats-io/transport-node';
import { busNames, connectNats, DEFAULT_STREAM_LIMITS, ensureStreams, JsPublisher, type BusNames } from '@seqline/bus';
import { storagePb } from '@seqline/proto';
import { Counter, Gauge, RunningState, ServiceHost, startGrpcServer, type GrpcServer, type Logger } from '@seqline/runtime';
import { createSequencerClient, type SequencerClient } from '@seqline/sequencer-client';
import { initSql } from '@seqline/sql';
import type { Sql } from 'postgres';
import { Applier } from './apply/applier.js';
import { changeLimitFor, type ApplyLimits } from './apply/limits.js';
import { CatalogCache } from './catalog.js';
import type { StorageConfig } from './config.js';
import { connectPostgres } from './db.js';
import { storageHandlers } from './handlers.js';
import { IdPool } from './ids.js';
import { migrate } from './migrations.js';
import { ownedShards, ShardLocks } from './ownership.js';
import { bootstrapPrivileges, refuse, sessionProblems } from './privileges.js';
import { purgeOnce } from './purge.js';
import { StreamExpiry } from './stream-expiry.js';
import { UserSlots } from './user-slots.js';

export interface StorageDeps {
  readonly logger: Logger;
}

/** Connections of the pool for reads, snapshots and admin work (the apply loop has one of its own). */
const POOL_SIZE = 12;

export class StorageService extends ServiceHost<{ port: number }> {
  readonly id = 'storage';
  readonly #config: StorageConfig;
  readonly #logger: Logger;
  readonly #instance: string;
  #sql: Sql | undefined;
  #nc: NatsConnection | undefined;
  #grpc: GrpcServer | undefined;
  #sequencer: SequencerClient | undefined;
  #locks: ShardLocks | undefined;
  #applying: Promise<void> | undefined;
  #applier: Applier | undefined;
  #applySql: Sql | undefined;
  #expiryPublisher: JsPublisher | undefined;
  /** postgres.js keeps its pool's counts to itself: its size, and connections lost or closed. */
  readonly #pg = {
    size: new Gauge({ name: 'seqline_storage_pg_pool_connections', help: 'PostgreSQL connections a pool may open, by pool: main (reads, snapshots, admin) or apply', labelNames: ['pool'], registers: [this.metrics] }),
    closed: new Counter({ name: 'seqline_storage_pg_connections_closed_total', help: 'PostgreSQL connections closed (lost, or idle and ended), by pool; the pool opens new ones when needed', labelNames: ['pool'], registers: [this.metrics] }),
  };

  constructor(config: StorageConfig, deps: StorageDeps) {
    super(new RunningState('storage', { backoff: { initialMs: 100, maxMs: 5000 } }));
    this.#config = config;
    this.#logger = deps.logger;
    this.#instance = config.instanceId ?? `${hostname()}:${process.pid}`;
    this.#pg.size.set({ pool: 'main' }, POOL_SIZE);
    this.#pg.size.set({ pool: 'apply' }, 1);
    this.#pg.closed.inc({ pool: 'main' }, 0);
    this.#pg.closed.inc({ pool: 'apply' }, 0);
  }

  protected async startUp(): Promise<{ port: number }> {
    const config = this.#config;
    await initSql();
    const sql = connectPostgres(config.postgresUrl, { max: POOL_SIZE, onclose: () => this.#pg.closed.inc({ pool: 'main' }) });
    this.#sql = sql;
    await this.#leastPrivilege(sql);
    const migrated = await migrate(sql);
    if (migrated.from !== migrated.to) this.#logger.info('migrated the meta schema', migrated);
    const catalog = new CatalogCache(sql);
    await catalog.reload();
    const nc = await connectNats({ servers: config.natsUrls, name: `storage ${this.#instance}`, logger: this.#logger, state: this.state, metrics: this.metrics });
    if (nc === undefined) throw new Error('stopped before NATS was reached');
    this.#nc = nc;
    const names = busNames(config.busPrefix);
    await ensureStreams(nc, names, { ...DEFAULT_STREAM_LIMITS, changesMaxAgeMs: config.changesMaxAgeMs, changesMaxPerSubject: config.changesMaxPerSubject, replicas: config.natsReplicas });
    this.#watchCatalog(nc, names, catalog);
    this.#sequencer = createSequencerClient(config.sequencerAddr);
    const ids = new IdPool(this.#sequencer, config.idBlock);
    const query = { sql, catalog, defaultLimit: config.queryDefaultLimit, maxRows: config.queryMaxRows, timeoutMs: config.queryTimeoutMs };
    const handlers = storageHandlers({
      sql,
      catalog,
      logger: this.#logger,
      query,
      admin: { sql, catalog, hashPartitions: config.hashPartitions },
      slots: {
        queries: new UserSlots({ max: config.userMaxQueries, maxWaiting: config.userMaxWaiting, waitMs: config.userSlotWaitMs }, 'queries'),
        snapshots: new UserSlots({ max: config.userMaxSnapshots, maxWaiting: config.userMaxWaiting, waitMs: config.userSlotWaitMs }, 'snapshots and catch-ups'),
      },
      snapshot: { sql, catalog, names, defaultBatch: config.snapshotBatch, maxBatch: config.snapshotMaxBatch, maxBatchBytes: config.snapshotMaxBatchBytes, timeoutMs: config.snapshotTimeoutMs },
      catalogChanged: (version) => nc.publish(names.catalogSubject, String(version)),
      userChanged: (userId) => nc.publish(names.usersSubject, userId),
    });
    this.#grpc = await startGrpcServer({ host: config.host, port: config.port, services: [{ name: 'seqline.v1.Storage', definition: storagePb.StorageService, implementation: handlers }] });
    this.#locks = new ShardLocks(sql);
    void this.#ownShards({ sql, nc, names, catalog, ids });
    if (config.replica === 0) {
      this.#purgeLoop(sql, catalog);
      this.#expiryLoop(sql, catalog, nc, names);
    }
    this.#logger.info('storage serving', { port: this.#grpc.port, shards: ownedShards(config.shards, config.replica, config.replicas) });
    return { port: this.#grpc.port };
  }

  /**
   * With the admin URL, the roles and grants are made first (refusing a runtime role that is a
   * superuser or BYPASSRLS before changing anything); then the runtime session is checked.
   */
  async #leastPrivilege(sql: Sql): Promise<void> {
    if (this.#config.postgresAdminUrl !== undefined) {
      await bootstrapPrivileges(this.#config.postgresAdminUrl, this.#config.postgresUrl);
      this.#logger.info('made the PostgreSQL roles and grants with the admin URL');
    }
    const problems = await sessionProblems(sql);
    refuse([...problems.privileged, ...problems.setup]);
  }

  /** Ops received from the ops log and waiting to be applied. */
  queuedOps(): number {
    return this.#applier?.queued ?? 0;
  }

  #watchCatalog(nc: NatsConnection, names: BusNames, catalog: CatalogCache): void {
    const sub = nc.subscribe(names.catalogSubject);
    void (async () => {
      for await (const m of sub) {
        if (BigInt(m.string() || '0') > catalog.version) await catalog.reload().catch((err: unknown) => this.#logger.warn('catalog reload failed', { err }));
      }
    })();
  }

  async #ownShards(deps: { sql: Sql; nc: NatsConnection; names: BusNames; catalog: CatalogCache; ids: IdPool }): Promise<void> {
    const waiting = new Set(ownedShards(this.#config.shards, this.#config.replica, this.#config.replicas));
    const applySql = connectPostgres(this.#config.postgresUrl, { max: 1, onclose: () => this.#pg.closed.inc({ pool: 'apply' }) });
    this.#applySql = applySql;
    const applier = new Applier({ ...deps, applySql, logger: this.#logger, state: this.state, batch: this.#config.applyBatch, preparedStatements: this.#config.applyPreparedStatements, ackWaitMs: this.#config.ackWaitMs, limits: this.#applyLimits(deps.nc), metrics: this.metrics });
    this.#applier = applier;
    this.#applying = applier.run().catch((err: unknown) => {
      if (!this.state.shouldRun()) return;
      this.#logger.error('applier stopped', { err });
      this.fail(err);
    });
    while (waiting.size > 0 && this.state.shouldRun()) {
      for (const shard of [...waiting]) {
        const epoch = await this.#locks!.tryTake(shard, this.#instance).catch((err: unknown) => {
          this.#logger.warn('cannot take shard', { shard, err });
          return undefined;
        });
        if (epoch === undefined) continue;
        waiting.delete(shard);
        const added = await applier.addShard(shard, epoch).then(
          () => true,
          (err: unknown) => {
            if (this.state.shouldRun()) this.fail(err);
            return false;
          },
        );
        if (!added) return;
      }
      if (waiting.size > 0) {
        this.#logger.info('shards held by another storage replica; waiting', { shards: [...waiting] });
        await this.state.sleep(2000);
      }
    }
  }

  #applyLimits(nc: NatsConnection): ApplyLimits {
    const config = this.#config;
    const maxChangeBytes = changeLimitFor(config.maxChangeBytes, nc.info?.max_payload);
    if (maxChangeBytes < config.maxChangeBytes) this.#logger.warn('SEQLINE_MAX_CHANGE_BYTES is over what the NATS server accepts; using less', { configured: config.maxChangeBytes, used: maxChangeBytes });
    return { maxRowBytes: config.maxRowBytes, maxChangeBytes, statementTimeoutMs: config.applyStatementTimeoutMs, lockTimeoutMs: config.applyLockTimeoutMs };
  }

  #purgeLoop(sql: Sql, catalog: CatalogCache): void {
    const tick = (): void => {
      purgeOnce(sql, catalog, Date.now(), this.#config.opResultRetentionHours)
        .then((n) => n.tombstones + n.opResults > 0 && this.#logger.info('purged', n))
        .catch((err: unknown) => this.#logger.warn('purge failed', { err }))
        .finally(() => this.state.setTimeout(tick, this.#config.purgeIntervalMs));
    };
    this.state.setTimeout(tick, this.#config.purgeIntervalMs);
  }

  /** STREAM tables' expired rows are deleted through the ops log (stream-expiry.ts). */
  #expiryLoop(sql: Sql, catalog: CatalogCache, nc: NatsConnection, names: BusNames): void {
    const publisher = new JsPublisher(nc, { timeoutMs: 5000 });
    this.#expiryPublisher = publisher;
    const maxOpBytes = Math.floor(changeLimitFor(this.#config.maxChangeBytes, nc.info?.max_payload) / 2);
    const expiry = new StreamExpiry({ sql, catalog, names, shards: this.#config.shards, maxOpBytes, publish: (subject, data, msgID) => publisher.publish(subject, data, { msgID }) });
    const tick = (): void => {
      expiry
        .runOnce(Date.now())
        .then((n) => n.ops + n.tombstones > 0 && this.#logger.debug('expired STREAM rows', n))
        .catch((err: unknown) => this.#logger.warn('STREAM expiry failed', { err }))
        .finally(() => this.state.setTimeout(tick, this.#config.streamPurgeIntervalMs));
    };
    this.state.setTimeout(tick, this.#config.streamPurgeIntervalMs);
  }

  protected async shutdown(): Promise<void> {
    await this.#grpc?.shutdown(10_000);
    await this.#applying;
    await this.#applySql?.end({ timeout: 5 }).catch(() => {});
    this.#locks?.release();
    this.#sequencer?.close();
    this.#expiryPublisher?.close();
    await this.#nc?.drain().catch(() => this.#nc?.close());
    await this.#sql?.end({ timeout: 5 }).catch(() => {});
  }
}

export async function startStorage(config: StorageConfig, deps: StorageDeps): Promise<StorageService> {
  const service = new StorageService(config, deps);
  service.run().catch(() => {});
  await service.ready;
  return service;
}
