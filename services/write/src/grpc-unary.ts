// Calling a unary gRPC method as a promise with a deadline; failures become ProtocolErrors
// (the code the other service chose, or UNAVAILABLE / INTERNAL_ERROR).
import { Metadata, type CallOptions, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { ProtocolError } from '@seqline/protocol';

type Method<Req, Res> = (req: Req, metadata: Metadata, options: Partial<CallOptions>, callback: (err: ServiceError | null, res: Res) => void) => ClientUnaryCall;

export function unaryCall<Req, Res>(method: Method<Req, Res>, req: Req, deadlineMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(req, new Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(ProtocolError.fromGrpc(err)) : resolve(res)));
  });
}
