// The HTTP routes (docs/protocol.md §2) as one table, and matching a request against it. Matching is
// on the exact path (no trailing-slash or case folding: one resource, one URL), the query
// string ignored. HEAD is accepted wherever GET is (load balancers probe with it; Node sends
// no body for HEAD). OPTIONS on a known path is a CORS preflight.

export const ROUTES = {
  '/v1/api/sql': { POST: 'sql' },
  '/v1/api/consume': { POST: 'consume' },
  '/v1/api/consume/ack': { POST: 'consumeAck' },
  '/v1/api/consume/release': { POST: 'consumeRelease' },
  '/v1/api/consume/drop': { POST: 'consumeDrop' },
  '/v1/api/auth/login': { POST: 'login' },
  '/v1/api/auth/refresh': { POST: 'refresh' },
  '/v1/api/auth/logout': { POST: 'logout' },
  '/v1/api/auth/me': { GET: 'me' },
  '/v1/api/auth/setup': { POST: 'setup' },
  '/v1/api/auth/status': { GET: 'status' },
  '/health': { GET: 'health' },
  '/v1/api/healthcheck': { GET: 'health' },
} as const satisfies Readonly<Record<string, Readonly<Partial<Record<'GET' | 'POST', string>>>>>;

type Routes = typeof ROUTES;
export type RouteName = { [P in keyof Routes]: Routes[P][keyof Routes[P]] }[keyof Routes];

export type RouteMatch =
  | { readonly kind: 'route'; readonly name: RouteName; readonly path: string }
  | { readonly kind: 'preflight'; readonly allow: readonly string[]; readonly path: string }
  | { readonly kind: 'method_not_allowed'; readonly allow: readonly string[]; readonly path: string }
  | { readonly kind: 'not_found'; readonly path: string };

/** The path of a request target: origin-form (`/a?b`) or absolute-form (`http://h/a?b`). */
export function pathOf(target: string): string {
  let path = target;
  if (!path.startsWith('/')) {
    try {
      path = new URL(path).pathname;
    } catch {
      return path;
    }
  }
  const end = path.search(/[?#]/);
  return end === -1 ? path : path.slice(0, end);
}

function isRoutePath(path: string): path is keyof Routes {
  return Object.hasOwn(ROUTES, path);
}

export function matchRoute(method: string, target: string): RouteMatch {
  const path = pathOf(target);
  if (!isRoutePath(path)) return { kind: 'not_found', path };
  const methods: Readonly<Partial<Record<string, RouteName>>> = ROUTES[path];
  const allow = Object.keys(methods);
  if (methods.GET !== undefined) allow.push('HEAD');
  if (method === 'OPTIONS') return { kind: 'preflight', allow: [...allow, 'OPTIONS'], path };
  const name = methods[method === 'HEAD' ? 'GET' : method];
  return name === undefined ? { kind: 'method_not_allowed', allow, path } : { kind: 'route', name, path };
}
