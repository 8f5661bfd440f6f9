// What a route handler sees of a request, and what it answers. The node:http plumbing
// (server.ts) builds the context; handlers never touch sockets, so they are unit-testable
// with a plain object.
import type { BodyResult } from './body.js';
import type { Reply } from './reply.js';

export interface RequestContext {
  readonly method: string;
  readonly path: string;
  /** Lower-cased header names, as node:http gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The socket's peer address (not X-Forwarded-For). */
  readonly remoteAddress: string | undefined;
  /** Monotonic ms when the request arrived (for `took`). */
  readonly startedAt: number;
  /** Reads the body once, within the configured size limit. */
  readBody(): Promise<BodyResult>;
}

export type Handler = (ctx: RequestContext) => Promise<Reply>;

/** A header's single value (the first, if repeated). */
export function header(ctx: RequestContext, name: string): string | undefined {
  const value = ctx.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
