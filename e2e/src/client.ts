// A minimal HTTP client for the tests: exactly what a KalamDB client sends.
export interface Reply<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
}

/** How long a test waits for an HTTP answer (a loaded CI machine is slow, never this slow). */
const REQUEST_TIMEOUT_MS = 60_000;

export async function post<T = Record<string, unknown>>(url: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Reply<T>> {
  const init: RequestInit = { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) };
  // A request left unanswered fails the test with its URL, not the whole test's timeout.
  const res = await fetch(url, { ...init, signal: signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).catch((err: unknown) => {
    throw new Error(`POST ${url}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  });
  return { status: res.status, body: (await res.json()) as T };
}

export async function login(base: string, user: string, password: string): Promise<string> {
  const r = await post<{ access_token?: string }>(`${base}/v1/api/auth/login`, { username: user, password });
  if (r.status !== 200 || r.body.access_token === undefined) throw new Error(`login ${user} failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.access_token;
}

export interface SqlBody extends Record<string, unknown> {
  readonly status: 'success' | 'error';
  readonly results: readonly Record<string, unknown>[];
  readonly error?: { readonly code: string; readonly message: string };
}

export function sql(base: string, token: string, text: string, params?: readonly unknown[], headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Reply<SqlBody>> {
  return post<SqlBody>(`${base}/v1/api/sql`, params === undefined ? { sql: text } : { sql: text, params }, { authorization: `Bearer ${token}`, ...headers }, signal);
}

/** Runs SQL and returns its results, failing the test with the server's error otherwise. */
export async function ok(base: string, token: string, text: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]> {
  const r = await sql(base, token, text, params);
  if (r.status !== 200 || r.body.status !== 'success') throw new Error(`${text}\n→ ${r.status} ${JSON.stringify(r.body)}`);
  return [...r.body.results];
}
