// gRPC server plumbing shared by the services: bind, the standard health service, graceful
// shutdown (stop accepting calls, let in-flight calls finish, then force after a deadline).
import { Metadata, Server, ServerCredentials, status, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { healthPb } from '@seqline/proto';

const { HealthService, HealthCheckResponse_ServingStatus: Serving } = healthPb;
type ServingStatus = healthPb.HealthCheckResponse_ServingStatus;

/** One grpc.health.v1 check of the overall status (""): true when it answers SERVING in time. */
export function grpcServing(client: healthPb.HealthClient, timeoutMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) =>
    client.check({ service: '' }, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => resolve(err === null && res?.status === Serving.SERVING)),
  );
}

/** The standard grpc.health.v1 service. The overall status is under the name "". */
export class GrpcHealth {
  readonly #status = new Map<string, ServingStatus>();
  readonly #watchers = new Set<{ service: string; send: (s: ServingStatus) => void }>();

  set(service: string, serving: boolean): void {
    const next = serving ? Serving.SERVING : Serving.NOT_SERVING;
    if (this.#status.get(service) === next) return;
    this.#status.set(service, next);
    for (const w of this.#watchers) if (w.service === service) w.send(next);
  }

  /** NOT_SERVING everywhere, e.g. when draining. */
  setAll(serving: boolean): void {
    for (const name of [...this.#status.keys()]) this.set(name, serving);
  }

  readonly implementation: healthPb.HealthServer = {
    check: (call, callback) => {
      const s = this.#status.get(call.request.service);
      if (s === undefined) callback({ code: status.NOT_FOUND, details: `unknown service ${JSON.stringify(call.request.service)}` });
      else callback(null, { status: s });
    },
    watch: (call) => {
      const send = (s: ServingStatus): void => void call.write({ status: s });
      const watcher = { service: call.request.service, send };
      this.#watchers.add(watcher);
      send(this.#status.get(call.request.service) ?? Serving.SERVICE_UNKNOWN);
      call.on('cancelled', () => this.#watchers.delete(watcher));
      call.on('close', () => this.#watchers.delete(watcher));
    },
  };
}

export interface GrpcServer {
  readonly server: Server;
  readonly port: number;
  readonly health: GrpcHealth;
  /** Stops accepting calls, waits for in-flight ones up to `graceMs`, then cancels the rest. Idempotent. */
  shutdown(graceMs?: number): Promise<void>;
}

export interface GrpcServiceEntry {
  readonly name: string;
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
}

export async function startGrpcServer(options: {
  readonly host: string;
  readonly port: number;
  readonly services: readonly GrpcServiceEntry[];
  readonly maxMessageBytes?: number;
}): Promise<GrpcServer> {
  const maxBytes = options.maxMessageBytes ?? 16 * 1024 * 1024;
  const server = new Server({ 'grpc.max_receive_message_length': maxBytes, 'grpc.max_send_message_length': maxBytes });
  const health = new GrpcHealth();
  server.addService(HealthService, health.implementation);
  for (const s of options.services) server.addService(s.definition, s.implementation);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  health.set('', true);
  for (const s of options.services) health.set(s.name, true);
  let done: Promise<void> | undefined;
  const shutdown = (graceMs = 10_000): Promise<void> =>
    (done ??= new Promise<void>((resolve) => {
      health.setAll(false);
      const force = setTimeout(() => server.forceShutdown(), graceMs);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    }));
  return { server, port, health, shutdown };
}
