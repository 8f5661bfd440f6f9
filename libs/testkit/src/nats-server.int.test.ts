// startNats on its own: JetStream data survives kill + restart, stop is idempotent, dispose
// removes the store, and a missing binary or a taken port fail with a clear message.
import { existsSync } from 'node:fs';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NATS_SERVER_MISSING, natsConnection, startNats } from './index.js';
import { uniqueName } from './support.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('startNats', () => {
  it('keeps JetStream data across kill() and restart()', async () => {
    await using server = await startNats();
    const name = uniqueName('tk_restart');
    {
      await using nc = await natsConnection(server.url);
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name, subjects: [`${name}.*`] });
      const js = jetstream(nc);
      for (const body of ['m1', 'm2', 'm3']) await js.publish(`${name}.m`, body);
    }

    await server.kill();
    await expect(natsConnection(server.url, { reconnect: false })).rejects.toThrow();
    await server.restart();

    await using nc = await natsConnection(server.url);
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info(name)).state).toMatchObject({ messages: 3, first_seq: 1, last_seq: 3 });
    const stored = await Promise.all([1, 2, 3].map((seq) => jsm.streams.getMessage(name, { seq })));
    expect(stored.map((m) => m?.string())).toEqual(['m1', 'm2', 'm3']);
  });

  it('stops idempotently and removes its store directory on dispose', async () => {
    const server = await startNats();
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    expect(existsSync(server.storeDir)).toBe(true);

    await Promise.all([server.stop(), server.stop()]);
    await server.stop();
    await expect(natsConnection(server.url, { reconnect: false })).rejects.toThrow();

    await server[Symbol.asyncDispose]();
    expect(existsSync(server.storeDir)).toBe(false);
  });

  it('rejects a bogus binary with the install hint', async () => {
    await expect(startNats({ binary: '/nonexistent/nats-server' })).rejects.toThrow(NATS_SERVER_MISSING);
    expect(NATS_SERVER_MISSING).toBe(
      'nats-server not found: install it with `apt-get install nats-server` (Debian/Ubuntu) or set SEQLINE_NATS_SERVER to its path',
    );
  });

  it('rejects a bogus SEQLINE_NATS_SERVER with the install hint', async () => {
    vi.stubEnv('SEQLINE_NATS_SERVER', '/nonexistent/nats-server');
    await expect(startNats()).rejects.toThrow(`${NATS_SERVER_MISSING} (looked for: /nonexistent/nats-server)`);
  });

  it('reports the server output when it cannot listen', async () => {
    await using first = await startNats();
    await expect(startNats({ port: first.port })).rejects.toThrow(/exited \(exit code 1\) before accepting connections[\s\S]*address already in use/);
  });
});
