// CORS (Fetch standard): which browser origins may call the API. With `*` any origin may, but
// without credentials (no cookies): a browser then sends the refresh cookie only to
// same-origin pages, and apps use the Bearer token they got from login. With a list, a listed
// origin is echoed back and credentials are allowed, so a separately hosted admin UI can use
// the refresh cookie; any other origin gets no CORS headers and the browser blocks it.
import type { Headers } from './reply.js';

export type AllowedOrigins = readonly string[] | '*';

const ALLOWED_HEADERS = 'Authorization, Content-Type, Idempotency-Key';
const MAX_AGE_S = '600';

/** Headers for an actual (non-preflight) response. */
export function corsHeaders(origin: string | undefined, allowed: AllowedOrigins): Headers {
  if (allowed === '*') return origin === undefined ? {} : { 'access-control-allow-origin': '*' };
  if (origin === undefined || !allowed.includes(origin)) return { vary: 'Origin' };
  return { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' };
}

/** Headers for a preflight (OPTIONS) answer; empty of CORS grants when the origin is not allowed. */
export function preflightHeaders(origin: string | undefined, allowed: AllowedOrigins, methods: readonly string[]): Headers {
  const base = corsHeaders(origin, allowed);
  if (!('access-control-allow-origin' in base)) return base;
  return {
    ...base,
    'access-control-allow-methods': methods.join(', '),
    'access-control-allow-headers': ALLOWED_HEADERS,
    'access-control-max-age': MAX_AGE_S,
  };
}
