// Traces and metrics of the whole stack (docs/operations.md "Metrics and traces"). The four
// services run in this process, so one tracer provider with an in-memory exporter sees every
// span: one write must make ONE trace, request → write → op publish → apply → change publish →
// delivery, with exact parents and links. The metrics are read over HTTP from each service's
// ops endpoint, as Prometheus scrapes them, and must move by exactly what one write does.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import { SpanKind, startTracing, type ReadableSpan, type Tracing } from '@seqline/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, sql } from './client.js';
import { startStack, type Stack } from './stack.js';
import { ticketsFixture } from './tickets.js';
import { openSocket, type WsClient } from './ws-client.js';

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let stack: Stack;
let alice: string;

beforeAll(async () => {
  tracing = await startTracing({ serviceName: 'seqline-e2e', exporter, immediate: true });
  stack = await startStack();
  ({ alice } = await ticketsFixture(stack));
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
  await tracing?.shutdown();
});

/** A socket of alice's with one live subscription to her tickets. */
async function subscribed(id: string): Promise<WsClient> {
  const ws = await openSocket(stack.url, { token: alice, pingMs: 1000 });
  ws.send({ type: 'subscribe', subscription: { id, sql: 'SELECT id, title FROM app.tickets' } });
  await expect.poll(() => ws.messages.some((m) => m['type'] === 'subscription_ack'), { timeout: 20_000 }).toBe(true);
  return ws;
}

describe('tracing', () => {
  it('one write is one trace: HTTP request → write.execute → op.publish → apply.op (linked to apply.batch) → change.publish → change.deliver', async () => {
    const ws = await subscribed('traced');
    exporter.reset();
    const callerTrace = '0af7651916cd43dd8448eb211c80319c';
    const callerSpan = 'b7ad6b7169203331';
    const reply = await sql(stack.url, alice, 'INSERT INTO app.tickets (title) VALUES ($1)', ['traced'], { traceparent: `00-${callerTrace}-${callerSpan}-01` });
    expect(reply.status).toBe(200);
    await expect.poll(() => ws.messages.filter((m) => m['type'] === 'change').length, { timeout: 20_000 }).toBe(1);
    const one = (name: string): ReadableSpan => {
      const found = exporter.getFinishedSpans().filter((s) => s.name === name);
      expect(found.map((s) => s.name)).toEqual([name]);
      return found[0]!;
    };
    await expect.poll(() => exporter.getFinishedSpans().some((s) => s.name === 'change.deliver'), { timeout: 20_000 }).toBe(true);
    const http = one('POST sql');
    const execute = one('write.execute');
    const publish = one('op.publish');
    const applyOp = one('apply.op');
    const batch = one('apply.batch');
    const changePublish = one('change.publish');
    const deliver = one('change.deliver');
    const id = (s: ReadableSpan) => s.spanContext().spanId;
    const parent = (s: ReadableSpan) => s.parentSpanContext?.spanId;
    // The caller's trace is continued, and every span of the chain is in it but the batch's.
    for (const s of [http, execute, publish, applyOp, changePublish, deliver]) expect(s.spanContext().traceId).toBe(callerTrace);
    expect(parent(http)).toBe(callerSpan);
    expect(parent(execute)).toBe(id(http));
    expect(parent(publish)).toBe(id(execute));
    expect(parent(applyOp)).toBe(id(publish));
    expect(parent(changePublish)).toBe(id(applyOp));
    expect(parent(deliver)).toBe(id(changePublish));
    // The batch is a trace of its own (it may hold ops of many requests), linked both ways.
    expect(batch.spanContext().traceId).not.toBe(callerTrace);
    expect(parent(batch)).toBeUndefined();
    expect(batch.links.map((l) => l.context.spanId)).toEqual([id(publish)]);
    expect(applyOp.links.map((l) => l.context.spanId)).toEqual([id(batch)]);
    expect([http, execute, publish, applyOp, changePublish, deliver].map((s) => [s.instrumentationScope.name, s.kind])).toEqual([
      ['seqline.gateway', SpanKind.SERVER],
      ['seqline.write', SpanKind.SERVER],
      ['seqline.write', SpanKind.PRODUCER],
      ['seqline.storage', SpanKind.CONSUMER],
      ['seqline.storage', SpanKind.PRODUCER],
      ['seqline.gateway', SpanKind.CONSUMER],
    ]);
    expect(http.attributes).toMatchObject({ 'http.route': 'sql', 'http.response.status_code': 200 });
    expect(deliver.attributes).toEqual({ 'seqline.subscription': 'traced' });
    ws.ws.close();
    await ws.closed;
  });
});

/** One scrape of an ops endpoint: each series (`name{labels}` exactly as exposed) → its value. */
async function scrape(base: string): Promise<Map<string, number>> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const series = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

type Scrapes = Record<'sequencer' | 'storage' | 'write' | 'gateway', Map<string, number>>;

async function scrapeAll(): Promise<Scrapes> {
  const [sequencer, storage, write, gateway] = await Promise.all(['sequencer', 'storage', 'write', 'gateway'].map((name) => scrape(stack.ops[name]!)));
  return { sequencer: sequencer!, storage: storage!, write: write!, gateway: gateway! };
}

describe('metrics', () => {
  it('every service serves /metrics and health on its ops port; one write moves each counter by exactly one', async () => {
    for (const name of ['sequencer', 'storage', 'write', 'gateway']) {
      const health = await fetch(`${stack.ops[name]}/readyz`);
      expect([name, health.status]).toEqual([name, 200]);
    }
    const ws = await subscribed('metered');
    // Sockets of earlier tests are gone once the server has seen them close.
    await expect.poll(async () => (await scrape(stack.ops['gateway']!)).get('seqline_gateway_websockets{state="authenticated"}'), { timeout: 20_000 }).toBe(1);
    const before = await scrapeAll();
    await ok(stack.url, alice, 'INSERT INTO app.tickets (title) VALUES ($1)', ['metered']);
    await expect.poll(() => ws.messages.filter((m) => m['type'] === 'change').length, { timeout: 20_000 }).toBe(1);
    // The outbox row is published (and counted) after the op's result is sent: wait for it.
    await expect.poll(async () => (await scrape(stack.ops['storage']!)).get('seqline_storage_changes_published_total')! - before.storage.get('seqline_storage_changes_published_total')!, { timeout: 20_000 }).toBe(1);
    const after = await scrapeAll();
    const moved = (service: keyof Scrapes, series: string): number => (after[service].get(series) ?? NaN) - (before[service].get(series) ?? 0);
    expect({
      http: moved('gateway', 'seqline_gateway_http_request_duration_seconds_count{route="sql",status="200"}'),
      gatewayWrite: moved('gateway', 'seqline_gateway_write_duration_seconds_count{code="ok"}'),
      deliveries: moved('gateway', 'seqline_gateway_deliveries_total'),
      execute: moved('write', 'seqline_write_execute_duration_seconds_count{statement="write",code="ok"}'),
      applied: moved('storage', 'seqline_storage_ops_applied_total{result="ok"}'),
      batches: moved('storage', 'seqline_storage_apply_batch_ops_count'),
      batchOps: moved('storage', 'seqline_storage_apply_batch_ops_sum'),
      lag: moved('storage', 'seqline_storage_apply_lag_seconds_count'),
      published: moved('storage', 'seqline_storage_changes_published_total'),
    }).toEqual({ http: 1, gatewayWrite: 1, deliveries: 1, execute: 1, applied: 1, batches: 1, batchOps: 1, lag: 1, published: 1 });
    expect(after.storage.get('seqline_storage_outbox_depth')).toBe(0);
    expect(after.gateway.get('seqline_gateway_subscriptions{state="live"}')).toBe(1);
    expect(after.gateway.get('seqline_gateway_subscriptions{state="loading"}')).toBe(0);
    expect(after.gateway.get('seqline_gateway_change_tails')).toBe(1);
    for (const service of ['sequencer', 'storage', 'write', 'gateway'] as const) {
      expect([service, after[service].get('seqline_nats_connected'), after[service].get('seqline_nats_reconnects_total')]).toEqual([service, 1, 0]);
      expect(after[service].has('process_cpu_user_seconds_total')).toBe(true);
    }
    // The README lists every metric a service exposes.
    const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
    const families = new Set(Object.values(after).flatMap((m) => [...m.keys()].filter((k) => k.startsWith('seqline_')).map((k) => k.split('{')[0]!)));
    const undocumented = [...families].filter((f) => !readme.includes(`| \`${f}\` |`) && !readme.includes(`| \`${f.replace(/_(bucket|sum|count)$/, '')}\` |`));
    expect(undocumented).toEqual([]);
    expect(families.size).toBeGreaterThan(20);
    // A resume from the last _seq is served from JetStream history: catch-ups by path move.
    const last = String((ws.messages.find((m) => m['type'] === 'change')!['rows'] as Record<string, unknown>[])[0]!['_seq']);
    ws.send({ type: 'subscribe', subscription: { id: 'resumed', sql: 'SELECT id, title FROM app.tickets', options: { from: last } } });
    await expect.poll(() => ws.messages.filter((m) => m['type'] === 'subscription_ack').length, { timeout: 20_000 }).toBe(2);
    const resumed = await scrape(stack.ops['gateway']!);
    expect(['history', 'compacted', 'reset'].map((path) => resumed.get(`seqline_gateway_catchups_total{path="${path}"}`)! - after.gateway.get(`seqline_gateway_catchups_total{path="${path}"}`)!)).toEqual([1, 0, 0]);
    ws.ws.close();
    await ws.closed;
  });
});
