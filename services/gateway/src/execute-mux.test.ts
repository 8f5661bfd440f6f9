// ExecuteMux against a real grpc-js server whose ExecuteStream handler the test scripts:
// answers are matched by id in any order, error codes come through, a call without an answer
// fails UNAVAILABLE at its deadline, and a broken stream fails its calls and is replaced.
import { credentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { writePb } from '@seqline/proto';
import { ProtocolError } from '@seqline/protocol';
import { startGrpcServer, type GrpcServer } from '@seqline/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { ExecuteMux } from './execute-mux.js';

type Stream = ServerDuplexStream<writePb.ExecuteStreamRequest, writePb.ExecuteStreamResponse>;

/** Calls each call a message carries (the mux sends the calls of one tick as one batch). */
function onCalls(call: Stream, handler: (r: writePb.ExecuteStreamRequest) => void): void {
  call.on('data', (m: writePb.ExecuteStreamRequest) => (m.batch.length > 0 ? m.batch : [m]).forEach(handler));
}

const request = (sql: string): writePb.ExecuteRequest => writePb.ExecuteRequest.create({ sql, caller: { userId: 'alice', role: 'user' } });

/** `deadlineMs`: the mux's per-call deadline; long unless the test is about it (a loaded machine is slow). */
async function serve(onStream: (call: Stream) => void, deadlineMs = 30_000): Promise<{ server: GrpcServer; mux: ExecuteMux; client: writePb.WriteClient; streams: () => number }> {
  let streams = 0;
  const implementation: writePb.WriteServer = {
    execute: (_call, callback) => callback(null, { resultJson: '{}' }),
    executeStream: (call) => {
      streams++;
      onStream(call);
    },
  };
  const server = await startGrpcServer({ host: '127.0.0.1', port: 0, services: [{ name: 'seqline.v1.Write', definition: writePb.WriteService, implementation }] });
  const client = new writePb.WriteClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
  return { server, client, mux: new ExecuteMux(client, deadlineMs), streams: () => streams };
}

const open: { server: GrpcServer; mux: ExecuteMux; client: writePb.WriteClient }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    o.mux.close();
    o.client.close();
    await o.server.shutdown(100);
  }
});

describe('ExecuteMux', () => {
  it('matches answers to calls by id, in any order, over one stream', async () => {
    const s = await serve((call) => {
      const got: writePb.ExecuteStreamRequest[] = [];
      onCalls(call, (r: writePb.ExecuteStreamRequest) => {
        got.push(r);
        if (got.length < 3) return;
        for (const g of got.reverse()) call.write({ id: g.id, resultJson: JSON.stringify({ echo: g.request?.sql }), errorCode: '', errorMessage: '', batch: [] });
      });
    });
    open.push(s);
    const answers = await Promise.all(['a', 'b', 'c'].map((sql) => s.mux.execute(request(sql))));
    expect(answers).toEqual(['{"echo":"a"}', '{"echo":"b"}', '{"echo":"c"}']);
    expect(s.streams()).toBe(1);
  });

  it('sends the calls of one tick as one message and takes answers batched the same way', async () => {
    const messages: writePb.ExecuteStreamRequest[] = [];
    const s = await serve((call) =>
      call.on('data', (m: writePb.ExecuteStreamRequest) => {
        messages.push(m);
        const batch = m.batch.map((r) => ({ id: r.id, resultJson: JSON.stringify(r.request?.sql), errorCode: '', errorMessage: '', batch: [] }));
        call.write({ id: 0n, resultJson: '', errorCode: '', errorMessage: '', batch });
      }),
    );
    open.push(s);
    const answers = await Promise.all(['a', 'b', 'c'].map((sql) => s.mux.execute(request(sql))));
    expect(answers).toEqual(['"a"', '"b"', '"c"']);
    expect(messages.map((m) => [m.id, m.request, m.batch.map((r) => [r.id, r.request?.sql])])).toEqual([
      [
        0n,
        undefined,
        [
          [1n, 'a'],
          [2n, 'b'],
          [3n, 'c'],
        ],
      ],
    ]);
  });

  it('rejects with the code and message the write service answered', async () => {
    const s = await serve((call) => onCalls(call, (r: writePb.ExecuteStreamRequest) => call.write({ id: r.id, resultJson: '', errorCode: 'TABLE_NOT_FOUND', errorMessage: 'table app.x does not exist', batch: [] })));
    open.push(s);
    const err = await s.mux.execute(request('INSERT INTO app.x VALUES (1)')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect([(err as ProtocolError).code, (err as ProtocolError).message]).toEqual(['TABLE_NOT_FOUND', 'table app.x does not exist']);
  });

  it('fails a call with no answer by its deadline with UNAVAILABLE, and a late answer is ignored', async () => {
    let late: (() => void) | undefined;
    const s = await serve((call) => onCalls(call, (r: writePb.ExecuteStreamRequest) => {
      if (r.request?.sql === 'slow') late = () => call.write({ id: r.id, resultJson: '"late"', errorCode: '', errorMessage: '', batch: [] });
      else call.write({ id: r.id, resultJson: '"fast"', errorCode: '', errorMessage: '', batch: [] });
    }), 500);
    open.push(s);
    const t0 = Date.now();
    const err = await s.mux.execute(request('slow')).catch((e: unknown) => e);
    expect((err as ProtocolError).code).toBe('UNAVAILABLE');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(490);
    late?.();
    expect(await s.mux.execute(request('fast'))).toBe('"fast"');
  });

  it('fails the calls of a broken stream with UNAVAILABLE and opens a new stream for the next call', async () => {
    const s = await serve((call) =>
      onCalls(call, (r: writePb.ExecuteStreamRequest) => {
        if (r.request?.sql === 'break') call.end(); // the write service went away mid-call
        else call.write({ id: r.id, resultJson: '"ok"', errorCode: '', errorMessage: '', batch: [] });
      }),
    );
    open.push(s);
    const err = await s.mux.execute(request('break')).catch((e: unknown) => e);
    expect((err as ProtocolError).code).toBe('UNAVAILABLE');
    expect(await s.mux.execute(request('next'))).toBe('"ok"');
    expect(s.streams()).toBe(2);
  });
});
