// The node:http plumbing of the gateway (no framework): route → handler → reply, plus what
// every response needs: CORS headers, `Connection: close` when the connection must not be
// reused (a body we did not read, a draining server), and a last-resort catch so a bug answers
// 500 'internal error' (logged with its stack) instead of hanging the request.
//
// Lifecycle: `listen` binds (port 0 = any free port); `drain` stops accepting connections,
// closes idle keep-alive ones and lets requests in flight finish, each on a connection that
// then closes; `destroy` closes every connection at once. WebSocket upgrades can be attached
// to `nodeServer` ('upgrade' event); without a listener an upgrade is an ordinary request.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { contextOf, endSpan, inSpan, SpanKind, startSpan, tracer, tracingOn, type Logger, type Span } from '@seqline/runtime';
import type { GatewayMetrics } from '../metrics.js';
import { readBody, type BodyResult } from './body.js';
import type { Handler, RequestContext } from './context.js';
import { corsHeaders, preflightHeaders, type AllowedOrigins } from './cors.js';
import { methodNotAllowedReply, notFoundReply, sqlErrorReply, type Reply } from './reply.js';
import { matchRoute, type RouteMatch, type RouteName } from './router.js';

const TRACER = tracer('gateway');

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly handlers: Readonly<Record<RouteName, Handler>>;
  readonly corsOrigins: AllowedOrigins;
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  /** Monotonic ms (request start, `took`). */
  readonly monotonic: () => number;
  /** Request latency by route and status. */
  readonly metrics?: GatewayMetrics;
}

export class HttpServer {
  readonly #server: Server;
  readonly #options: HttpServerOptions;
  #draining = false;
  #closed: Promise<void> | undefined;

  private constructor(options: HttpServerOptions) {
    this.#options = options;
    this.#server = createServer((req, res) => this.#onRequest(req, res));
    this.#server.on('error', (err) => options.logger.error('HTTP server error', { err }));
  }

  static async listen(options: HttpServerOptions): Promise<HttpServer> {
    const http = new HttpServer(options);
    await new Promise<void>((resolve, reject) => {
      http.#server.once('error', reject);
      http.#server.listen(options.port, options.host, () => {
        http.#server.off('error', reject);
        resolve();
      });
    });
    return http;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get nodeServer(): Server {
    return this.#server;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Stops accepting; resolves when every request in flight was answered and its connection closed. */
  drain(): Promise<void> {
    this.#draining = true;
    this.#closed ??= new Promise((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    return this.#closed;
  }

  /** Closes every connection now. Idempotent. */
  async destroy(): Promise<void> {
    const closed = this.drain();
    this.#server.closeAllConnections();
    await closed;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const startedAt = this.#options.monotonic();
    let body: Promise<BodyResult> | undefined;
    const ctx: RequestContext = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      remoteAddress: req.socket.remoteAddress,
      startedAt,
      readBody: () => (body ??= readBody(req, this.#options.maxBodyBytes)),
    };
    const match = matchRoute(ctx.method, ctx.path);
    const route = match.kind === 'route' ? match.name : match.kind;
    // The request's span continues the caller's trace (a `traceparent` header), if any. Health
    // probes (every few seconds from each load balancer) make no traces.
    const span = tracingOn() && route !== 'health' ? startSpan(TRACER, `${ctx.method} ${route}`, { kind: SpanKind.SERVER, parent: contextOf(header(req.headers.traceparent)), attributes: { 'http.route': route, 'http.request.method': ctx.method } }) : undefined;
    inSpan(span, () => this.#route(ctx, match)).then(
      (reply) => this.#send(req, res, reply, body !== undefined, { route, span, startedAt }),
      (err: unknown) => {
        this.#options.logger.error('HTTP handler failed', { err, method: ctx.method, path: ctx.path });
        this.#send(req, res, sqlErrorReply({ code: 'INTERNAL_ERROR', message: 'internal error' }, this.#options.monotonic() - startedAt), body !== undefined, { route, span, startedAt });
      },
    );
  }

  async #route(ctx: RequestContext, match: RouteMatch): Promise<Reply> {
    const took = (): number => this.#options.monotonic() - ctx.startedAt;
    switch (match.kind) {
      case 'not_found':
        return notFoundReply(match.path, took());
      case 'method_not_allowed':
        return methodNotAllowedReply(match.allow, took());
      case 'preflight':
        return { status: 204, headers: preflightHeaders(originOf(ctx), this.#options.corsOrigins, match.allow), body: '' };
      case 'route':
        return this.#options.handlers[match.name](ctx);
    }
  }

  #send(req: IncomingMessage, res: ServerResponse, reply: Reply, bodyRead: boolean, request: { route: string; span: Span | undefined; startedAt: number }): void {
    const { route, span } = request;
    this.#options.metrics?.httpSeconds.observe({ route, status: reply.status }, (this.#options.monotonic() - request.startedAt) / 1000);
    if (span !== undefined) {
      span.setAttribute('http.response.status_code', reply.status);
      endSpan(span);
    }
    if (res.headersSent || res.destroyed) return;
    const headers: Record<string, string> = { ...corsHeaders(req.headers.origin, this.#options.corsOrigins), ...reply.headers };
    // An unread body would have to be read and thrown away before the next request on this
    // connection; closing is cheaper and bounded.
    const unreadBody = !bodyRead && hasBody(req) && !req.readableEnded;
    if (reply.close === true || this.#draining || unreadBody) headers.connection = 'close';
    res.writeHead(reply.status, headers);
    res.end(reply.body);
  }
}

function originOf(ctx: RequestContext): string | undefined {
  const origin = ctx.headers.origin;
  return Array.isArray(origin) ? origin[0] : origin;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
