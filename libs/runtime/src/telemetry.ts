// OpenTelemetry API hooks. Services get tracers and meters from the global API; until an SDK
// is registered (exporting comes later) they are no-ops, so instrumented code costs ~nothing.
import { metrics, SpanStatusCode, trace, type Meter, type Span, type Tracer } from '@opentelemetry/api';

const SCOPE_VERSION = '0.1.0';

export function tracer(scope: string): Tracer {
  return trace.getTracer(`seqline.${scope}`, SCOPE_VERSION);
}

export function meter(scope: string): Meter {
  return metrics.getMeter(`seqline.${scope}`, SCOPE_VERSION);
}

/** Runs `fn` in an active span that records an exception and an error status on failure. */
export async function withSpan<T>(t: Tracer, name: string, fn: (span: Span) => Promise<T>): Promise<T> {
  return t.startActiveSpan(name, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}
