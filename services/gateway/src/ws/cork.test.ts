import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { corkForTick, unsentBeforeTick } from './cork.js';

/** A socket that records each system call it would make: one write, or one writev of several chunks. */
function recordingSocket(): { socket: Writable; calls: string[][] } {
  const calls: string[][] = [];
  const socket = new Writable({
    decodeStrings: false,
    write(chunk: string, _encoding, done) {
      calls.push([chunk]);
      done();
    },
    writev(chunks, done) {
      calls.push(chunks.map((c) => String(c.chunk)));
      done();
    },
  });
  return { socket, calls };
}

describe('corkForTick', () => {
  it("writes one tick's frames in one call, the next tick's in another, and calls each write's callback once written", async () => {
    const { socket, calls } = recordingSocket();
    const written: string[] = [];
    const frame = (data: string): void => {
      corkForTick(socket, 0);
      // As ws writes a frame: header and payload under its own cork.
      socket.cork();
      socket.write(`h:${data}`);
      socket.write(data, () => written.push(data));
      socket.uncork();
    };
    frame('a');
    frame('b');
    frame('c');
    expect(calls).toEqual([]);
    expect(socket.writableLength).toBe(3 * 'h:a'.length + 3); // unsent, and counted as such
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual([['h:a', 'a', 'h:b', 'b', 'h:c', 'c']]);
    expect(written).toEqual(['a', 'b', 'c']);
    frame('d');
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual([['h:a', 'a', 'h:b', 'b', 'h:c', 'c'], ['h:d', 'd']]);
    expect(written).toEqual(['a', 'b', 'c', 'd']);
  });

  it('leaves a socket its caller corked corked until the caller uncorks it', async () => {
    const { socket, calls } = recordingSocket();
    socket.cork();
    corkForTick(socket, 0);
    socket.write('x');
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual([]);
    socket.uncork();
    expect(calls).toEqual([['x']]);
  });

  it("keeps what was unsent when the tick's first write was held, until the tick ends", async () => {
    const { socket } = recordingSocket();
    expect(unsentBeforeTick(socket)).toBeUndefined();
    corkForTick(socket, 100);
    socket.write('x'.repeat(1000));
    corkForTick(socket, 1100); // a later frame of the same tick: the held bytes are not backlog
    expect(unsentBeforeTick(socket)).toBe(100);
    await new Promise((resolve) => setImmediate(resolve));
    expect(unsentBeforeTick(socket)).toBeUndefined();
  });
});
