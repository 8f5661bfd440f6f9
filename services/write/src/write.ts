// The write service (docs/architecture.md §3): validates a mutation against the catalog, resolves what is
// non-deterministic (the time, the acting user), appends it as an op to its shard's subject
// (Nats-Msg-Id = op id: a retry with the same Idempotency-Key is applied once) and waits for
// the op's result. DDL and user management go to storage directly (they are not per-owner).
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { credentials } from '@grpc/grpc-js';
import type { NatsConnection } from '@nats-io/transport-node';
import { busNames, connectNats, DEFAULT_STREAM_LIMITS, ensureStreams, JsPublisher, shardOf, type BusNames } from '@seqline/bus';
import { busPb, storagePb, writePb } from '@seqline/proto';
import { isErrorCode, ProtocolError, RemoteCatalog, toProtocolError, unaryCall, type DmlResult } from '@seqline/protocol';
import { contextOf, contextWith, endSpan, Histogram, LATENCY_BUCKETS, RunningState, ServiceHost, SpanKind, startGrpcServer, startSpan, traceparentOf, tracer, withSpan, type GrpcServer, type Logger } from '@seqline/runtime';
import { ROLES, SHARED_OWNER, type Actor } from '@seqline/domain';
import { actAs, classify, initSql, parseStatements, resolveOwner, validateWrite, type Statement } from '@seqline/sql';
import type { WriteConfig } from './config.js';
import { ExecuteStreams } from './execute-streams.js';
import { ResultInbox } from './results.js';
import { crossOwner, rolledBack, statementFailure, transactionBody, transactionResults, type Target } from './transaction.js';

type Dml = Extract<Statement, { kind: 'insert' | 'update' | 'delete' }>;

const TRACER = tracer('write');

export class WriteService extends ServiceHost<{ port: number }> {
  readonly id = 'write';
  readonly #config: WriteConfig;
  readonly #logger: Logger;
  readonly #instance: string;
  #nc: NatsConnection | undefined;
  #publisher: JsPublisher | undefined;
  #grpc: GrpcServer | undefined;
  #storage: storagePb.StorageClient | undefined;
  #inbox: ResultInbox | undefined;
  #names: BusNames;
  #catalog: RemoteCatalog | undefined;
  /** Largest encoded op: the configured limit, kept under the NATS server's max_payload. */
  #maxOpBytes = 0;
  /** Execute calls by statement kind (read | ddl | user | write | invalid) and outcome (ok or the error code). */
  readonly #executeSeconds = new Histogram({
    name: 'seqline_write_execute_duration_seconds',
    help: 'Execute calls in the write service, from the request to its result',
    labelNames: ['statement', 'code'],
    buckets: LATENCY_BUCKETS,
    registers: [this.metrics],
  });
  readonly #streams = new ExecuteStreams(
    (req) => this.#execute(req),
    (err) => this.#failure(err),
  );

  constructor(config: WriteConfig, deps: { logger: Logger }) {
    super(new RunningState('write', { backoff: { initialMs: 100, maxMs: 5000 } }));
    this.#config = config;
    this.#logger = deps.logger;
    this.#names = busNames(config.busPrefix);
    this.#instance = (config.instanceId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`).replace(/[^A-Za-z0-9_-]/g, '_');
  }

  protected async startUp(): Promise<{ port: number }> {
    await initSql();
    const nc = await connectNats({ servers: this.#config.natsUrls, name: `write ${this.#instance}`, logger: this.#logger, state: this.state, metrics: this.metrics });
    if (nc === undefined) throw new Error('stopped before NATS was reached');
    this.#nc = nc;
    this.#maxOpBytes = Math.min(this.#config.maxOpBytes, (nc.info?.max_payload ?? Infinity) - 4096);
    await ensureStreams(nc, this.#names, { ...DEFAULT_STREAM_LIMITS, replicas: this.#config.natsReplicas }, ['ops']);
    this.#publisher = new JsPublisher(nc, { timeoutMs: Math.min(this.#config.resultTimeoutMs, 5000) });
    this.#inbox = new ResultInbox(nc, this.#names.results(this.#instance));
    const storage = new storagePb.StorageClient(this.#config.storageAddr, credentials.createInsecure());
    this.#storage = storage;
    this.#catalog = new RemoteCatalog(() => unaryCall(storage.getCatalog.bind(storage), {}, 5000));
    this.#catalog.follow(nc.subscribe(this.#names.catalogSubject));
    this.#grpc = await startGrpcServer({
      host: this.#config.host,
      port: this.#config.port,
      services: [{ name: 'seqline.v1.Write', definition: writePb.WriteService, implementation: this.#handlers() }],
    });
    this.#logger.info('write serving', { port: this.#grpc.port, instance: this.#instance });
    return { port: this.#grpc.port };
  }

  #failure(err: unknown): ProtocolError {
    const e = toProtocolError(err);
    if (e.code === 'INTERNAL_ERROR') this.#logger.error('Execute failed', { err });
    return e;
  }

  #handlers(): writePb.WriteServer {
    return {
      execute: (call, callback) => {
        this.#execute(call.request).then(
          (resultJson) => callback(null, { resultJson }),
          (err: unknown) => callback(this.#failure(err).toGrpc()),
        );
      },
      executeStream: this.#streams.handle,
    };
  }

  async #execute(req: writePb.ExecuteRequest): Promise<string> {
    const started = performance.now();
    const kind = { statement: 'invalid' };
    try {
      const result = await withSpan(TRACER, 'write.execute', { kind: SpanKind.SERVER, parent: contextOf(req.traceparent) }, () => this.#executeOne(req, kind));
      this.#executeSeconds.observe({ statement: kind.statement, code: 'ok' }, (performance.now() - started) / 1000);
      return result;
    } catch (err) {
      this.#executeSeconds.observe({ statement: kind.statement, code: toProtocolError(err).code }, (performance.now() - started) / 1000);
      throw err;
    }
  }

  async #executeOne(req: writePb.ExecuteRequest, kind: { statement: string }): Promise<string> {
    const role = ROLES.find((r) => r === req.caller?.role);
    if (req.caller === undefined || req.caller.userId === '' || role === undefined) throw new ProtocolError('MISSING_AUTHORIZATION', 'the request has no authenticated caller');
    const actor: Actor = { userId: req.caller.userId, role };
    const namespace = req.namespace || 'default';
    const statements = parseStatements(req.sql, { defaultNamespace: namespace });
    const [stmt, ...rest] = statements;
    if (stmt?.kind === 'transaction') {
      kind.statement = 'transaction';
      return JSON.stringify(await this.#transaction(statements, actor, req));
    }
    if (stmt === undefined || rest.length > 0) throw new ProtocolError('INVALID_SQL', 'Execute takes exactly one statement');
    const storage = this.#storage!;
    const statement = classify(stmt);
    kind.statement = statement;
    switch (statement) {
      case 'read': {
        const res = await unaryCall(storage.query.bind(storage), { caller: req.caller, sql: req.sql, paramsJson: req.paramsJson, namespace, asUser: '' }, this.#config.resultTimeoutMs);
        return res.resultJson;
      }
      case 'ddl':
      case 'user': {
        const res = await unaryCall(storage.admin.bind(storage), { caller: req.caller, sql: req.sql, namespace }, this.#config.resultTimeoutMs);
        await this.#catalog?.refresh(res.catalogVersion).catch(() => {});
        return res.resultJson;
      }
      case 'write':
        return JSON.stringify(await this.#write(stmt, actor, req));
      case 'transaction':
        throw new ProtocolError('INVALID_TRANSACTION', 'a transaction starts with BEGIN');
    }
  }

  async #write(stmt: Statement, actor: Actor, req: writePb.ExecuteRequest): Promise<DmlResult> {
    const target = await this.#target(stmt, actor);
    const op = this.#op(actor, req, target.owner, { namespace: target.namespace, table: target.table, statement: target.dml.text, paramsJson: req.paramsJson === '' ? '[]' : req.paramsJson });
    const result = await this.#submit(op, shardOf(target.owner, this.#config.shards));
    if (!result.ok) throw new ProtocolError(isErrorCode(result.errorCode) ? result.errorCode : 'SQL_EXECUTION_ERROR', result.errorMessage);
    return dmlResult(result, asUserOf(target.owner, actor));
  }

  /**
   * BEGIN; …; COMMIT as one op (transaction.ts): every statement checked as a single write is,
   * all with one owner, then logged and applied together. A ROLLBACK is checked the same way and
   * not logged. Errors name the statement (ProtocolError.statement, counted from BEGIN).
   */
  async #transaction(statements: readonly Statement[], actor: Actor, req: writePb.ExecuteRequest): Promise<readonly object[]> {
    if (req.paramsJson !== '' && req.paramsJson !== '[]') throw new ProtocolError('PARAMS_WITH_BATCH', 'parameters cannot be used with a transaction; write its values into its statements');
    const body = transactionBody(statements, this.#config.maxTransactionStatements);
    const targets: WriteTarget[] = [];
    for (const [i, stmt] of body.statements.entries()) {
      try {
        targets.push(await this.#target(stmt, actor));
      } catch (err) {
        throw statementFailure(err, i + 1);
      }
    }
    const refusal = crossOwner(targets, (t) => `${t.namespace}.${t.table} ${t.owner === SHARED_OWNER ? '(shared)' : `of ${t.owner}`}`);
    if (refusal !== undefined) throw refusal;
    const [first] = targets;
    if (!body.commit || first === undefined) return transactionResults(targets.map((t) => rolledBack(asUserOf(t.owner, actor))), body.commit);
    const op = this.#op(actor, req, first.owner, {
      namespace: '',
      table: '',
      statement: '',
      paramsJson: '',
      statements: targets.map((t) => ({ namespace: t.namespace, table: t.table, statement: t.dml.text, paramsJson: '[]' })),
    });
    const result = await this.#submit(op, shardOf(first.owner, this.#config.shards));
    if (!result.ok) {
      const code = isErrorCode(result.errorCode) ? result.errorCode : 'SQL_EXECUTION_ERROR';
      const statement = result.failedStatement === undefined ? undefined : result.failedStatement + 1;
      throw new ProtocolError(code, `${result.errorMessage} (the transaction was rolled back: nothing was applied)`, { statement });
    }
    const asUser = asUserOf(first.owner, actor);
    return transactionResults(result.statements.map((r) => dmlResult(r, asUser)), true);
  }

  /** A write statement checked against the catalog and the actor's rights, with the partition it writes. */
  async #target(stmt: Statement, actor: Actor): Promise<WriteTarget> {
    let dml = stmt;
    let actingAs = actor;
    if (stmt.kind === 'execute_as') {
      actingAs = await this.#impersonate(actor, stmt.user);
      dml = stmt.inner;
    }
    if (dml.kind !== 'insert' && dml.kind !== 'update' && dml.kind !== 'delete') throw new ProtocolError('INVALID_SQL', 'expected INSERT, UPDATE or DELETE');
    const table = await this.#validate(dml, actingAs);
    if (stmt.kind === 'execute_as' && table.tableType === 'SHARED') throw new ProtocolError('INVALID_SQL', 'EXECUTE AS USER applies to USER tables, not SHARED ones');
    const owner = resolveOwner(table, actingAs, stmt.kind === 'execute_as' ? stmt.user : undefined);
    return { dml, owner, namespace: table.namespace, table: table.name };
  }

  /** The op of a request: its id from the Idempotency-Key (random without one), time and reply subject resolved. */
  #op(actor: Actor, req: writePb.ExecuteRequest, owner: string, body: Pick<busPb.Op, 'namespace' | 'table' | 'statement' | 'paramsJson'> & Partial<Pick<busPb.Op, 'statements'>>): busPb.Op {
    const opId = req.idempotencyKey === '' ? randomUUID().replace(/-/g, '') : createHash('sha256').update(`${actor.userId}\0${req.idempotencyKey}`).digest('hex').slice(0, 32);
    return {
      opId,
      actor: actor.userId,
      actorRole: actor.role,
      owner,
      ...body,
      statements: body.statements ?? [],
      issuedAtUs: BigInt(Date.now()) * 1000n,
      replyTo: this.#inbox!.replyTo(opId),
      traceparent: '',
    };
  }

  async #impersonate(actor: Actor, userId: string): Promise<Actor> {
    const storage = this.#storage!;
    const target = await unaryCall(storage.getUser.bind(storage), { userId }, 5000);
    return actAs(actor, userId, target.found ? target.role : undefined);
  }

  async #validate(dml: Dml, actor: Actor) {
    const catalog = this.#catalog!;
    if (!catalog.loaded) await catalog.refresh();
    try {
      return validateWrite(dml, catalog, actor);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'TABLE_NOT_FOUND') throw err;
      await catalog.refresh();
      return validateWrite(dml, catalog, actor);
    }
  }

  /** Publishes the op durably and waits for its result (or the stored one, for a deduplicated retry). */
  async #submit(op: busPb.Op, shard: number): Promise<busPb.OpResult> {
    const timeoutMs = this.#config.resultTimeoutMs;
    const data = busPb.Op.encode(op).finish();
    if (data.length > this.#maxOpBytes) throw new ProtocolError('ROW_TOO_LARGE', `the write is ${data.length} bytes (statement and parameters); the limit is ${this.#maxOpBytes} bytes (nothing was written)`);
    const waiter = this.#inbox!.wait(op.opId, timeoutMs);
    let ack;
    const span = startSpan(TRACER, 'op.publish', { kind: SpanKind.PRODUCER, attributes: { 'seqline.shard': shard } });
    try {
      ack = await this.#publisher!.publish(this.#names.ops(shard), span === undefined ? data : withTraceparent(op, traceparentOf(contextWith(span))), { msgID: op.opId });
      endSpan(span);
    } catch (err) {
      endSpan(span, err);
      waiter.cancel();
      throw new ProtocolError('UNAVAILABLE', 'the write could not be logged (NATS unavailable); it was not applied, retry', { cause: err });
    }
    const storage = this.#storage!;
    const stored = (waitMs: number) => unaryCall(storage.getOpResult.bind(storage), { opId: op.opId, waitMs }, waitMs + 5000).catch(() => undefined);
    if (ack.duplicate) {
      waiter.cancel();
      const result = await stored(timeoutMs);
      if (result !== undefined) return result;
    } else {
      const result = (await waiter.promise) ?? (await stored(0));
      if (result !== undefined) return result;
    }
    throw new ProtocolError('UNAVAILABLE', `the write was logged but not confirmed within ${timeoutMs} ms; retry with the same Idempotency-Key to learn its result`);
  }

  protected async shutdown(): Promise<void> {
    await Promise.all([this.#streams.drain(), this.#grpc?.shutdown(10_000)]);
    this.#publisher?.close();
    this.#inbox?.close();
    this.#storage?.close();
    await this.#nc?.drain().catch(() => this.#nc?.close());
  }
}

interface WriteTarget extends Target {
  readonly dml: Dml;
}

/** The user a write's result names: the owner, or for a SHARED table the actor. */
function asUserOf(owner: string, actor: Actor): string {
  return owner === SHARED_OWNER ? actor.userId : owner;
}

/** A DML statement's docs/protocol.md result from its op result. */
function dmlResult(result: busPb.OpResult, asUser: string): DmlResult {
  const returning = result.returningJson === '' ? {} : (JSON.parse(result.returningJson) as Pick<DmlResult, 'schema' | 'rows'>);
  return {
    row_count: Number(result.rowCount),
    message: result.message,
    as_user: asUser,
    ...(result.seq > 0n ? { seq: String(result.seq) } : {}),
    ...returning,
  };
}

/** The op encoded with the trace context of its publish (storage's apply span is its child). */
function withTraceparent(op: busPb.Op, traceparent: string): Uint8Array {
  return busPb.Op.encode({ ...op, traceparent }).finish();
}

export async function startWrite(config: WriteConfig, deps: { logger: Logger }): Promise<WriteService> {
  const service = new WriteService(config, deps);
  service.run().catch(() => {});
  await service.ready;
  return service;
}
