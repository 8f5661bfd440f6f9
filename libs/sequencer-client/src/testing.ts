// A stand-in sequencer for other packages' integration tests: a real gRPC server speaking the
// Sequencer contract (docs/architecture.md §5), minting ids with one SeqIdGenerator. It has no
// worker-id lease and no high-water mark, so ids are unique only within one instance: the real
// service (services/sequencer) is tested on its own, and with storage in e2e.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { sequencerPb } from '@seqline/proto';
import { SeqIdGenerator } from '@seqline/seq';
import { allocateIdsHandler } from './contract.js';

export interface TestSequencer extends AsyncDisposable {
  /** `127.0.0.1:<port>`, for SEQLINE_SEQUENCER_ADDR. */
  readonly address: string;
  stop(): Promise<void>;
}

/** `port`: a fixed one, to start it again on the same address after stop() (default: any free port). */
export async function startTestSequencer(options: { readonly workerId?: number; readonly port?: number } = {}): Promise<TestSequencer> {
  const workerId = options.workerId ?? 1;
  const generator = new SeqIdGenerator({ workerId });
  const server = new Server();
  const implementation: sequencerPb.SequencerServer = {
    allocateIds: allocateIdsHandler((count, callback) => callback(null, { ranges: generator.allocate(count).map((r) => ({ first: r.first, count: r.count })), workerId })),
  };
  server.addService(sequencerPb.SequencerService, implementation);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
  return {
    address: `127.0.0.1:${port}`,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
