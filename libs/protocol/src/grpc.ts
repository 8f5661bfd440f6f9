// Calling a unary gRPC method as a promise with a deadline; a failure becomes the ProtocolError
// the other service chose (or UNAVAILABLE / INTERNAL_ERROR), so callers answer exactly that.
import { Metadata, type CallOptions, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { ProtocolError } from './errors.js';

export type UnaryMethod<Req, Res> = (req: Req, metadata: Metadata, options: Partial<CallOptions>, callback: (err: ServiceError | null, res: Res) => void) => ClientUnaryCall;

export function unaryCall<Req, Res>(method: UnaryMethod<Req, Res>, req: Req, deadlineMs: number, now: () => number = Date.now): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(req, new Metadata(), { deadline: now() + deadlineMs }, (err, res) => (err ? reject(ProtocolError.fromGrpc(err)) : resolve(res)));
  });
}
