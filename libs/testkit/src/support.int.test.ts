// freePort hands out a port that can really be bound (I/O, hence the integration tier).
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from './index.js';
import { nonEphemeralRange } from './support.js';

async function listenOn(port: number, host: string): Promise<AsyncDisposable & { readonly port: number }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('freePort', () => {
  it('returns a port that can be bound on 127.0.0.1', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    await using server = await listenOn(port, '127.0.0.1');
    expect(server.port).toBe(port);
  });

  it('returns a port for another host too', async () => {
    const port = await freePort('0.0.0.0');
    await using server = await listenOn(port, '0.0.0.0');
    expect(server.port).toBe(port);
  });

  it('hands out ports below the ephemeral range, so no port-0 listener or outgoing connection takes them', async () => {
    const [low, high] = nonEphemeralRange();
    const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(low);
      expect(port).toBeLessThanOrEqual(high);
    }
    expect(new Set(ports).size).toBe(50);
  });

  it('does not hand out a port that is in use', async () => {
    await using held = await listenOn(0, '127.0.0.1');
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(ports).not.toContain(held.port);
  });
});
