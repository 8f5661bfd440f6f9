// Frames written to one socket within one tick go out in one system call (docs/architecture.md
// §4 step 4; the pacing of docs/protocol.md §4.4 is unchanged): the first write of a tick corks
// the socket and the end of the tick uncorks it, so Node hands the kernel every frame of that
// tick in one writev instead of one per frame (a change reaching several subscriptions of one
// socket, say). `ws` corks each frame's header and payload itself; corks nest, so its own uncork
// leaves ours in place. Unsent bytes still count in the socket's buffered amount, so the
// SLOW_CONSUMER limit sees them, and each write's callback runs once its bytes are written, as
// before, only up to one tick later.
import type { Writable } from 'node:stream';

const corked = new WeakSet<Writable>();

function uncork(socket: Writable): void {
  corked.delete(socket);
  socket.uncork();
}

/** Holds `socket`'s writes until the current tick ends (process.nextTick), then writes them at once. */
export function corkForTick(socket: Writable): void {
  if (corked.has(socket)) return;
  corked.add(socket);
  socket.cork();
  process.nextTick(uncork, socket);
}
