// OpenTelemetry tracing (docs/operations.md "Metrics and traces"). Services get tracers from the
// global API; an SDK is registered only when the standard OTel variables ask for an exporter
// (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_TRACES_EXPORTER=otlp),
// and spans then go out over OTLP http/protobuf with W3C trace context. Otherwise tracing is off:
// hot paths test `tracingOn()` first and make no span objects at all.
//
// Context crosses processes as a W3C `traceparent` string: in HTTP headers, in gRPC messages
// (ExecuteRequest.traceparent), in the bus Op, and in the NATS headers of a change.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node';
import type { Env } from './config.js';

const SCOPE_VERSION = '0.1.0';

export { SpanKind };
export type { Context, Link, ReadableSpan, Span, SpanExporter };

let on = false;

/** True once an SDK is registered in this process (startTracing). */
export function tracingOn(): boolean {
  return on;
}

export function tracer(scope: string): Tracer {
  return trace.getTracer(`seqline.${scope}`, SCOPE_VERSION);
}

/** Whether the environment asks for traces to be exported (the standard OTel variables). */
export function tracingRequested(env: Env): boolean {
  if (env['OTEL_SDK_DISABLED'] === 'true' || env['OTEL_TRACES_EXPORTER'] === 'none') return false;
  const set = (name: string): boolean => (env[name] ?? '').trim() !== '';
  return set('OTEL_EXPORTER_OTLP_ENDPOINT') || set('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') || env['OTEL_TRACES_EXPORTER'] === 'otlp';
}

export interface Tracing {
  /** Exports the spans still buffered, then stops the SDK. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** service.name when OTEL_SERVICE_NAME is unset. */
  readonly serviceName: string;
  /** Default: OTLP http/protobuf, configured by the OTEL_EXPORTER_OTLP_* variables, batched. */
  readonly exporter?: SpanExporter;
  /** Export each span as it ends (tests), instead of in batches. */
  readonly immediate?: boolean;
  readonly env?: Env;
}

/**
 * Registers the SDK as the process's global tracer provider (context manager and W3C propagator
 * included). The SDK is loaded here, not at start-up: a process without tracing never loads it
 * (about 0.2 to 0.5 s and some memory saved). The OTLP exporter reads its own OTEL_EXPORTER_OTLP_*
 * variables (URL, headers, timeout) from the process environment.
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  const env = options.env ?? process.env;
  const [{ BatchSpanProcessor, NodeTracerProvider, SimpleSpanProcessor }, { resourceFromAttributes }] = await Promise.all([import('@opentelemetry/sdk-trace-node'), import('@opentelemetry/resources')]);
  const exporter = options.exporter ?? new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
  const processor = options.immediate === true ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter);
  const serviceName = env['OTEL_SERVICE_NAME'] ?? options.serviceName;
  const provider = new NodeTracerProvider({ resource: resourceFromAttributes({ 'service.name': serviceName }), spanProcessors: [processor] });
  provider.register();
  on = true;
  return {
    shutdown: async () => {
      on = false;
      await provider.shutdown().catch(() => {}); // an unreachable collector must not fail the exit
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** The W3C traceparent of `ctx` (default: the active context); '' when tracing is off or no span is in it. */
export function traceparentOf(ctx: Context = context.active()): string {
  if (!on) return '';
  const carrier: { traceparent?: string } = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent ?? '';
}

/** The active context with `span` in it (for traceparentOf and child spans). */
export function contextWith(span: Span): Context {
  return trace.setSpan(context.active(), span);
}

/** Runs `fn` with `span` active (child spans and traceparentOf() see it); plain `fn()` without a span. */
export function inSpan<T>(span: Span | undefined, fn: () => T): T {
  return span === undefined ? fn() : context.with(contextWith(span), fn);
}

/** A context whose parent is the span named by `traceparent` (the root context for '' or garbage). */
export function contextOf(traceparent: string | undefined): Context {
  if (traceparent === undefined || traceparent === '') return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** A link to the span named by `traceparent`, if it names one. */
export function linkTo(traceparent: string): Link | undefined {
  const sc = trace.getSpanContext(contextOf(traceparent));
  return sc === undefined ? undefined : { context: sc };
}

export interface SpanOptions {
  readonly kind?: SpanKind;
  readonly parent?: Context;
  readonly links?: Link[];
  readonly attributes?: Attributes;
}

/** Starts a span (not made active); undefined when tracing is off, so callers pay one test. */
export function startSpan(t: Tracer, name: string, options: SpanOptions = {}): Span | undefined {
  if (!on) return undefined;
  return t.startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, ...(options.links ? { links: options.links } : {}), ...(options.attributes ? { attributes: options.attributes } : {}) }, options.parent ?? context.active());
}

/** Ends `span` with an error status when `err` is set. */
export function endSpan(span: Span | undefined, err?: unknown): void {
  if (span === undefined) return;
  if (err !== undefined) {
    const error = err instanceof Error ? err : new Error('non-Error thrown', { cause: err });
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  }
  span.end();
}

/** Runs `fn` in a span made active (its context is what `traceparentOf()` sees); plain `fn()` when tracing is off. */
export async function withSpan<T>(t: Tracer, name: string, options: SpanOptions, fn: (span: Span | undefined) => Promise<T>): Promise<T> {
  const span = startSpan(t, name, options);
  if (span === undefined) return fn(undefined);
  try {
    const result = await context.with(trace.setSpan(options.parent ?? context.active(), span), () => fn(span));
    endSpan(span);
    return result;
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
}

/** The trace and span ids of the active span, for log records; undefined when there is none. */
export function activeIds(): { trace_id: string; span_id: string } | undefined {
  if (!on) return undefined;
  const sc = trace.getActiveSpan()?.spanContext();
  return sc === undefined ? undefined : { trace_id: sc.traceId, span_id: sc.spanId };
}
