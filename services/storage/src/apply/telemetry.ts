// What the apply loop reports (docs/operations.md "Metrics and traces"): batch sizes and
// durations, the lag from an op's publish to its commit, the changes waiting to be published,
// and a trace per batch. Tracing: one `apply.batch` span per batch (its own trace, linked to
// each op's request) and, for each op that carries a traceparent, an `apply.op` span, child of
// the op's publish and linked to the batch; the op's changes are published under it
// (`change.publish`, outbox.ts). With tracing off nothing but the counters is touched.
import type { busPb } from '@seqline/proto';
import { contextOf, contextWith, endSpan, Gauge, Histogram, Counter, linkTo, SpanKind, startSpan, traceparentOf, tracer, tracingOn, type Link, type Registry, type Span } from '@seqline/runtime';

export const TRACER = tracer('storage');

const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];
const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class ApplyMetrics {
  readonly batchOps: Histogram;
  readonly batchSeconds: Histogram;
  readonly lagSeconds: Histogram;
  readonly applied: { readonly ok: Counter.Internal; readonly error: Counter.Internal };
  readonly batchFailures: Counter;
  readonly changesPublished: Counter;
  /** Changes committed to the outbox and not yet published. */
  unpublished = 0;

  constructor(registry: Registry, queued: () => number) {
    const registers = [registry];
    this.batchOps = new Histogram({ name: 'seqline_storage_apply_batch_ops', help: 'ops applied per transaction (batch size)', buckets: BATCH_BUCKETS, registers });
    this.batchSeconds = new Histogram({ name: 'seqline_storage_apply_batch_duration_seconds', help: 'time to apply and commit one batch', buckets: SECONDS_BUCKETS, registers });
    this.lagSeconds = new Histogram({ name: 'seqline_storage_apply_lag_seconds', help: "from an op's publish by the write service to its commit (wall clocks of two hosts)", buckets: SECONDS_BUCKETS, registers });
    const applied = new Counter({ name: 'seqline_storage_ops_applied_total', help: 'ops applied, by result (ok, or error: the op failed and its error is its result)', labelNames: ['result'], registers });
    this.applied = { ok: applied.labels('ok'), error: applied.labels('error') };
    this.applied.ok.inc(0); // both results are exposed from the start, at 0
    this.applied.error.inc(0);
    this.batchFailures = new Counter({ name: 'seqline_storage_apply_batch_failures_total', help: 'batches that failed and were retried (PostgreSQL unavailable, connection lost, a stale state)', registers });
    this.changesPublished = new Counter({ name: 'seqline_storage_changes_published_total', help: 'change messages published to the change stream', registers });
    const unpublished = (): number => this.unpublished;
    new Gauge({ name: 'seqline_storage_outbox_depth', help: 'changes committed and not yet published', registers, collect() { this.set(unpublished()); } });
    new Gauge({ name: 'seqline_storage_ops_queued', help: 'ops delivered by the ops stream and waiting for a batch', registers, collect() { this.set(queued()); } });
  }

  /** After a commit: the batch's size and duration, each op's outcome and lag. */
  committed(ops: readonly busPb.Op[], failed: number, startedMs: number): void {
    const now = Date.now();
    this.batchOps.observe(ops.length);
    this.batchSeconds.observe((performance.now() - startedMs) / 1000);
    for (const op of ops) this.lagSeconds.observe(Math.max(0, now - Number(op.issuedAtUs / 1000n)) / 1000);
    this.applied.ok.inc(ops.length - failed);
    if (failed > 0) this.applied.error.inc(failed);
  }
}

/** A batch's spans; undefined when tracing is off (see batchTrace). */
export interface BatchTrace {
  readonly batch: Span;
  /** `apply.op` spans by op id, for the ops that carry a trace context. */
  readonly ops: Map<string, Span>;
}

export function batchTrace(ops: readonly busPb.Op[]): BatchTrace | undefined {
  if (!tracingOn()) return undefined;
  const links = ops.map((op) => linkTo(op.traceparent)).filter((l): l is Link => l !== undefined);
  const batch = startSpan(TRACER, 'apply.batch', { parent: contextOf(undefined), links, attributes: { 'seqline.ops': ops.length } })!;
  const batchLink: Link = { context: batch.spanContext() };
  const spans = new Map<string, Span>();
  for (const op of ops) {
    if (op.traceparent === '') continue;
    spans.set(op.opId, startSpan(TRACER, 'apply.op', { kind: SpanKind.CONSUMER, parent: contextOf(op.traceparent), links: [batchLink], attributes: { 'seqline.op_id': op.opId } })!);
  }
  return { batch, ops: spans };
}

/** The traceparent a change of `opId` is published under ('' if the op is not traced). */
export function opTraceparent(trace: BatchTrace | undefined, opId: string): string {
  const span = trace?.ops.get(opId);
  return span === undefined ? '' : traceparentOf(contextWith(span));
}

export function endBatchTrace(trace: BatchTrace | undefined, err?: unknown): void {
  if (trace === undefined) return;
  for (const span of trace.ops.values()) endSpan(span, err);
  endSpan(trace.batch, err);
}
