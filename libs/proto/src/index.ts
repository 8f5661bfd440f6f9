// Generated gRPC services and bus messages (ts-proto over proto/**/*.proto), one namespace per
// proto file. Regenerate with `npm run proto`; the test run fails when src/gen is stale.
export * as sequencerPb from './gen/seqline/v1/sequencer.js';
export * as busPb from './gen/seqline/v1/bus.js';
export * as storagePb from './gen/seqline/v1/storage.js';
export * as writePb from './gen/seqline/v1/write.js';
export * as healthPb from './gen/grpc/health/v1/health.js';
