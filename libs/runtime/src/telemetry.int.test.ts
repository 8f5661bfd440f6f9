// Tracing switched on as serviceMain does it, exporting over OTLP http/protobuf to a local
// HTTP server standing in for a collector; logs made inside a span carry its ids. And the ops
// endpoint: /metrics in the Prometheus text format, /readyz from the checks.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryLogger } from './log.js';
import { Counter, newRegistry, startOpsServer } from './metrics.js';
import { SpanKind, startSpan, startTracing, tracer, tracingOn, tracingRequested, withSpan } from './telemetry.js';

afterEach(() => vi.unstubAllEnvs());

describe('tracing', () => {
  it('is requested only by the OTel variables that name an OTLP exporter', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' })).toBe(false);
  });

  it('off: no span objects, no ids in logs', async () => {
    expect(tracingOn()).toBe(false);
    expect(startSpan(tracer('t'), 'x')).toBeUndefined();
    const logger = memoryLogger();
    await withSpan(tracer('t'), 'x', {}, async (span) => {
      expect(span).toBeUndefined();
      logger.info('inside');
    });
    expect(Object.keys(logger.records[0]!).sort()).toEqual(['level', 'msg', 'service', 'time']);
  });

  it('on: spans go to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces as protobuf, and logs inside a span carry its trace_id and span_id', async () => {
    const received: { path: string; type: string; bytes: number; service: boolean }[] = [];
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        received.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', bytes: body.length, service: body.includes('seqline-test-svc') });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', endpoint);
    const tracing = await startTracing({ serviceName: 'seqline-test-svc', env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } });
    try {
      const logger = memoryLogger();
      let ids: { trace: string; span: string } | undefined;
      await withSpan(tracer('t'), 'work', { kind: SpanKind.SERVER }, async (span) => {
        ids = { trace: span!.spanContext().traceId, span: span!.spanContext().spanId };
        logger.info('inside');
      });
      logger.info('outside');
      expect(logger.records.map((r) => [r['msg'], r['trace_id'], r['span_id']])).toEqual([
        ['inside', ids!.trace, ids!.span],
        ['outside', undefined, undefined],
      ]);
    } finally {
      await tracing.shutdown(); // flushes the batch
      collector.close();
    }
    expect(tracingOn()).toBe(false);
    expect(received.map((r) => [r.path, r.type, r.service])).toEqual([['/v1/traces', 'application/x-protobuf', true]]);
  });
});

describe('ops endpoint', () => {
  it('serves /metrics (the process defaults and the registry) and the health paths from its checks', async () => {
    const registry = newRegistry();
    const counter = new Counter({ name: 'seqline_test_things_total', help: 'things', registers: [registry] });
    counter.inc(3);
    let ready = false;
    const ops = await startOpsServer({ host: '127.0.0.1', port: 0, version: '9.9.9', registry, checks: { service: () => { if (!ready) throw new Error('starting'); } } });
    try {
      const metrics = await fetch(`${ops.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const text = await metrics.text();
      expect(text).toContain('\nseqline_test_things_total 3\n');
      expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
      const starting = await fetch(`${ops.url}/readyz`);
      expect([starting.status, await starting.json()]).toEqual([503, { status: 'unhealthy', version: '9.9.9', checks: { service: 'starting' } }]);
      ready = true;
      for (const path of ['/health', '/healthz', '/readyz']) expect((await fetch(`${ops.url}${path}`)).status).toBe(200);
      expect((await fetch(`${ops.url}/other`)).status).toBe(404);
    } finally {
      await ops.close();
    }
  });
});
