// The benchmarks' HTTP client for POST /v1/api/sql and login. node:http with a keep-alive agent
// rather than fetch: the load generator shares the two cores with the stack, and undici's fetch
// costs about twice the CPU per request.
import { Agent, request } from 'node:http';

export interface HttpReply {
  readonly status: number;
  readonly text: string;
}

export class SqlClient {
  readonly #url: string;
  readonly #agent: Agent;

  constructor(url: string, maxSockets: number) {
    this.#url = url;
    this.#agent = new Agent({ keepAlive: true, maxSockets });
  }

  /** POST /v1/api/sql as the holder of `token`. */
  sql(token: string, sql: string, params?: readonly unknown[]): Promise<HttpReply> {
    return this.#post('/v1/api/sql', token, params === undefined ? { sql } : { sql, params });
  }

  /** Logs in; resolves with the access token. */
  async login(user: string, password: string): Promise<string> {
    const r = await this.#post('/v1/api/auth/login', undefined, { username: user, password });
    const token = r.status === 200 ? (JSON.parse(r.text) as { access_token?: unknown }).access_token : undefined;
    if (typeof token !== 'string') throw new Error(`login of ${user} failed: ${r.status} ${r.text.slice(0, 200)}`);
    return token;
  }

  /** Runs setup statements one by one; throws on the first that fails. */
  async setup(token: string, statements: readonly string[]): Promise<void> {
    for (const s of statements) {
      const r = await this.sql(token, s);
      if (r.status !== 200) throw new Error(`bench setup failed: ${s}: ${r.status} ${r.text}`);
    }
  }

  close(): void {
    this.#agent.destroy();
  }

  #post(path: string, token: string | undefined, body: unknown): Promise<HttpReply> {
    const payload = JSON.stringify(body);
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    return new Promise((resolve, reject) => {
      const req = request(`${this.#url}${path}`, { method: 'POST', agent: this.#agent, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }
}

/**
 * The write and live benchmarks' data: table bench.messages (a USER table) and `users` users
 * (user0…), created as the admin; resolves with each user's access token, in order.
 */
export async function setUpMessages(client: SqlClient, admin: { readonly user: string; readonly password: string }, users: number): Promise<string[]> {
  await client.setup(await client.login(admin.user, admin.password), [
    'CREATE NAMESPACE bench',
    "CREATE TABLE bench.messages (id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), body TEXT NOT NULL, n INT) WITH (TYPE='USER')",
    ...Array.from({ length: users }, (_, i) => `CREATE USER user${i} WITH PASSWORD 'password-${i}' ROLE user`),
  ]);
  return Promise.all(Array.from({ length: users }, (_, i) => client.login(`user${i}`, `password-${i}`)));
}
