// TcpProxy over real sockets: it forwards bytes both ways; block() destroys the open connections
// and accepts-then-destroys new ones (the target never sees them); unblock() forwards again;
// close() frees the port; a target that is down only closes the connection concerned.
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TcpProxy } from './tcp-proxy.js';

/** A target that greets each connection with `hi` and answers each chunk with `echo:<chunk>`. */
async function startTarget(): Promise<{ server: Server; port: number; sockets: Socket[] } & AsyncDisposable> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.write('hi;');
    socket.on('data', (chunk) => socket.write(`echo:${chunk.toString()};`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    sockets,
    [Symbol.asyncDispose]: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A client socket that records what it received and whether it closed. */
function client(port: number): { socket: Socket; received: () => string; closed: () => boolean } {
  const socket = connect({ host: '127.0.0.1', port });
  let received = '';
  let closed = false;
  socket.on('error', () => undefined);
  socket.on('data', (chunk) => (received += chunk.toString()));
  socket.on('close', () => (closed = true));
  return { socket, received: () => received, closed: () => closed };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(): Promise<{ proxy: TcpProxy; target: Awaited<ReturnType<typeof startTarget>> }> {
  const target = await startTarget();
  const proxy = await TcpProxy.start(target.port);
  cleanups.push(async () => target[Symbol.asyncDispose](), () => proxy.close());
  return { proxy, target };
}

describe('TcpProxy', () => {
  it('forwards bytes both ways, one upstream connection per client', async () => {
    const { proxy, target } = await setup();
    expect(proxy.port).not.toBe(target.port);
    expect(proxy.targetPort).toBe(target.port);
    const a = client(proxy.port);
    await expect.poll(a.received).toBe('hi;');
    a.socket.write('ping');
    await expect.poll(a.received).toBe('hi;echo:ping;');
    const b = client(proxy.port);
    await expect.poll(b.received).toBe('hi;');
    expect(proxy.counts).toEqual({ accepted: 2, refused: 0, open: 2 });
    expect(target.sockets.map((s) => s.remotePort).sort()).toEqual(proxy.upstreamPorts().sort());
    a.socket.destroy();
    await expect.poll(() => proxy.counts.open).toBe(1);
    await expect.poll(() => target.sockets[0]!.destroyed).toBe(true);
  });

  it('block() destroys open connections and refuses new ones until unblock()', async () => {
    const { proxy, target } = await setup();
    const before = client(proxy.port);
    await expect.poll(before.received).toBe('hi;');
    proxy.block();
    expect(proxy.blocked).toBe(true);
    await expect.poll(before.closed).toBe(true);
    await expect.poll(() => target.sockets[0]!.destroyed).toBe(true);

    const during = client(proxy.port);
    await expect.poll(during.closed).toBe(true);
    expect(during.received()).toBe('');
    expect(target.sockets).toHaveLength(1);
    expect(proxy.counts).toEqual({ accepted: 2, refused: 1, open: 0 });

    proxy.unblock();
    expect(proxy.blocked).toBe(false);
    const after = client(proxy.port);
    await expect.poll(after.received).toBe('hi;');
    after.socket.write('again');
    await expect.poll(after.received).toBe('hi;echo:again;');
    expect(target.sockets).toHaveLength(2);
    expect(proxy.counts).toEqual({ accepted: 3, refused: 1, open: 1 });
  });

  it('close() destroys connections and frees the port; a second close() is a no-op', async () => {
    const { proxy } = await setup();
    const a = client(proxy.port);
    await expect.poll(a.received).toBe('hi;');
    await proxy.close();
    await proxy.close();
    await expect.poll(a.closed).toBe(true);
    proxy.unblock();
    expect(proxy.blocked).toBe(true);
    const rebound = createServer();
    rebound.listen({ port: proxy.port, host: '127.0.0.1', exclusive: true });
    await once(rebound, 'listening');
    await new Promise<void>((resolve) => rebound.close(() => resolve()));
  });

  it('a target that is down closes only that connection, and forwarding resumes when it is back', async () => {
    const { proxy, target } = await setup();
    const port = target.port;
    await target[Symbol.asyncDispose]();
    const refused = client(proxy.port);
    await expect.poll(refused.closed).toBe(true);
    expect(refused.received()).toBe('');
    expect(proxy.counts).toEqual({ accepted: 1, refused: 0, open: 0 });

    const back = createServer((socket) => socket.end('back;'));
    back.listen({ port, host: '127.0.0.1' });
    await once(back, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => back.close(() => resolve())));
    const again = client(proxy.port);
    await expect.poll(again.received).toBe('back;');
    await expect.poll(again.closed).toBe(true);
    expect(proxy.counts.open).toBe(0);
  });
});
