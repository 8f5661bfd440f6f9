import { credentials } from '@grpc/grpc-js';
import { healthPb } from '@seqline/proto';
import { describe, expect, it } from 'vitest';
import { startGrpcServer } from './grpc.js';
import { startHealthServer } from './health.js';

describe('gRPC health', () => {
  it('reports SERVING, then NOT_SERVING once shutting down, and NOT_FOUND for unknown services', async () => {
    const server = await startGrpcServer({ host: '127.0.0.1', port: 0, services: [] });
    const client = new healthPb.HealthClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
    const check = (service: string) =>
      new Promise<{ status?: number; code?: number }>((resolve) =>
        client.check({ service }, (err, res) => resolve(err ? { code: err.code } : { status: res.status })),
      );
    try {
      expect(await check('')).toEqual({ status: healthPb.HealthCheckResponse_ServingStatus.SERVING });
      expect(await check('nope')).toEqual({ code: 5 });
      server.health.setAll(false);
      expect(await check('')).toEqual({ status: healthPb.HealthCheckResponse_ServingStatus.NOT_SERVING });
    } finally {
      client.close();
      await server.shutdown(100);
    }
  });
});

describe('HTTP health', () => {
  it('answers 200 when every check passes and 503 naming the failing check', async () => {
    let natsUp = true;
    const server = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      version: '0.1.0',
      checks: { nats: () => { if (!natsUp) throw new Error('disconnected'); } },
    });
    try {
      const ok = await fetch(`${server.url}/health`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ status: 'healthy', version: '0.1.0', checks: { nats: 'ok' } });
      natsUp = false;
      const bad = await fetch(`${server.url}/health`);
      expect(bad.status).toBe(503);
      expect(await bad.json()).toEqual({ status: 'unhealthy', version: '0.1.0', checks: { nats: 'disconnected' } });
      expect((await fetch(`${server.url}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
