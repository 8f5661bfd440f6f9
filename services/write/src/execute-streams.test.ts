// ExecuteStreams over a real grpc-js server and client: calls are answered by id (those of a
// batch message each, the answers of one tick in one message), and a drain answers new calls
// UNAVAILABLE, lets the call in flight finish, then ends the stream.
import { credentials, Metadata } from '@grpc/grpc-js';
import { writePb } from '@seqline/proto';
import { ProtocolError } from '@seqline/protocol';
import { startGrpcServer, type GrpcServer } from '@seqline/runtime';
import { describe, expect, it } from 'vitest';
import { ExecuteStreams } from './execute-streams.js';

/** A grpc-js server whose ExecuteStream is `streams`, and a client of it. */
async function serve(streams: ExecuteStreams): Promise<{ server: GrpcServer; client: writePb.WriteClient }> {
  const implementation: writePb.WriteServer = { execute: (_c, cb) => cb(null, { resultJson: '' }), executeStream: streams.handle };
  const server = await startGrpcServer({ host: '127.0.0.1', port: 0, services: [{ name: 'seqline.v1.Write', definition: writePb.WriteService, implementation }] });
  return { server, client: new writePb.WriteClient(`127.0.0.1:${server.port}`, credentials.createInsecure()) };
}

describe('ExecuteStreams', () => {
  it('runs each call of a batch message and writes the answers ready in one tick as one message', async () => {
    const streams = new ExecuteStreams((req) => {
      if (req.sql === 'bad') return Promise.reject(new ProtocolError('INVALID_SQL', 'no'));
      if (req.sql === 'tx') return Promise.reject(new ProtocolError('SQL_EXECUTION_ERROR', 'duplicate', { statement: 2 }));
      return Promise.resolve(JSON.stringify(req.sql));
    });
    const { server, client } = await serve(streams);
    try {
      const call = client.executeStream(new Metadata());
      const messages: writePb.ExecuteStreamResponse[] = [];
      call.on('data', (r: writePb.ExecuteStreamResponse) => messages.push(r));
      const batch = ['a', 'bad', 'c', 'tx'].map((sql, i) => ({ id: BigInt(i + 1), request: writePb.ExecuteRequest.create({ sql }), batch: [] }));
      call.write({ id: 0n, request: undefined, batch });
      await expect.poll(() => messages.length).toBe(1);
      expect(messages[0]!.batch.map((a) => [a.id, a.resultJson, a.errorCode, a.errorStatement])).toEqual([
        [1n, '"a"', '', undefined],
        [2n, '', 'INVALID_SQL', undefined],
        [3n, '"c"', '', undefined],
        [4n, '', 'SQL_EXECUTION_ERROR', 2],
      ]);
      call.end();
    } finally {
      client.close();
      await server.shutdown(100);
    }
  });

  it('drains: new calls get UNAVAILABLE, the call in flight is answered, then the stream ends', async () => {
    const held = new Map<string, (result: string) => void>();
    const streams = new ExecuteStreams((req) => {
      if (req.sql === 'bad') return Promise.reject(new ProtocolError('INVALID_SQL', 'no'));
      return new Promise((resolve) => held.set(req.sql, resolve));
    });
    const { server, client } = await serve(streams);
    try {
      const call = client.executeStream(new Metadata());
      const answers: writePb.ExecuteStreamResponse[] = [];
      const ended = new Promise<void>((resolve) => call.on('end', resolve));
      call.on('data', (r: writePb.ExecuteStreamResponse) => answers.push(...(r.batch.length > 0 ? r.batch : [r])));
      const send = (id: bigint, sql: string): void => void call.write({ id, request: writePb.ExecuteRequest.create({ sql }), batch: [] });
      send(1n, 'bad');
      send(2n, 'held');
      await expect.poll(() => answers.length).toBe(1);
      await expect.poll(() => held.size).toBe(1);
      const drained = streams.drain();
      send(3n, 'after drain');
      await expect.poll(() => answers.length).toBe(2);
      held.get('held')!('"done"');
      await Promise.all([ended, drained]);
      expect(answers.map((a) => [a.id, a.resultJson, a.errorCode])).toEqual([
        [1n, '', 'INVALID_SQL'],
        [3n, '', 'UNAVAILABLE'],
        [2n, '"done"', ''],
      ]);
      expect(held.size).toBe(1); // the call sent after the drain never ran
    } finally {
      client.close();
      await server.shutdown(100);
    }
  });
});
