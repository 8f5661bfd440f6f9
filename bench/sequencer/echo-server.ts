// A trivial grpc-js unary echo (bytes in, same bytes out) in its own process: the transport's
// limit that AllocateIds is compared with. No protobuf: the request buffer is the response.
import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';

export const echoDefinition: ServiceDefinition = {
  echo: {
    path: '/bench.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const server = new Server();
  server.addService(echoDefinition, {
    echo: (call: { request: Buffer }, callback: (err: null, res: Buffer) => void) => callback(null, call.request),
  });
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    process.stdout.write(`${port}\n`);
  });
  process.on('SIGTERM', () => server.forceShutdown());
}
