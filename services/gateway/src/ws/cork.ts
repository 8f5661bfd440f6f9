// Frames written to one socket within one tick go out in one system call (docs/architecture.md
// §4 step 4; the pacing of docs/protocol.md §4.4 is unchanged): the first write of a tick corks
// the socket and the end of the tick uncorks it, so Node hands the kernel every frame of that
// tick in one writev instead of one per frame (a change reaching several subscriptions of one
// socket, say). `ws` corks each frame's header and payload itself; corks nest, so its own uncork
// leaves ours in place. Each write's callback runs once its bytes are written, as before, only up
// to one tick later. The SLOW_CONSUMER limit must not count the frames held for this tick (a
// healthy client sent a burst larger than the limit in one tick would look slow): it reads the
// bytes left unsent before the tick began, `unsentBeforeTick`.
import type { Writable } from 'node:stream';

/** Sockets corked for the current tick, with the bytes they still held unsent when corked. */
const corked = new WeakMap<Writable, number>();

function uncork(socket: Writable): void {
  corked.delete(socket);
  socket.uncork();
}

/**
 * Holds `socket`'s writes until the current tick ends (process.nextTick), then writes them at
 * once. `unsent` is what the socket's writer still held unsent before this write (for `ws`, its
 * `bufferedAmount`), kept for `unsentBeforeTick`.
 */
export function corkForTick(socket: Writable, unsent: number): void {
  if (corked.has(socket)) return;
  corked.set(socket, unsent);
  socket.cork();
  process.nextTick(uncork, socket);
}

/** The bytes left unsent before this tick's first held write, or undefined when nothing is held. */
export function unsentBeforeTick(socket: Writable): number | undefined {
  return corked.get(socket);
}
