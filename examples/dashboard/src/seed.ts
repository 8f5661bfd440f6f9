// The dashboard's demo data: namespace `app`, the USER table `app.tickets` (each agent's tickets
// are that agent's own partition, so "assigned to them" needs no WHERE), agents with a few
// tickets each. Safe to run on every start: the DDL says IF NOT EXISTS, a table made before the
// dashboard existed gets its missing columns, and an agent that exists already is left alone,
// tickets included.
import { createClient, SeqlineError, type SeqlineClient } from '@seqline/client/node';

export const DEMO_AGENTS = ['agent1', 'agent2'] as const;

export const TICKETS_DDL =
  "CREATE TABLE IF NOT EXISTS app.tickets (id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), title TEXT NOT NULL, status TEXT DEFAULT 'open', priority INT, updated_at TIMESTAMP DEFAULT NOW()) WITH (TYPE='USER')";

/**
 * Columns the dashboard reads that an older app.tickets (README's, the e2e fixture's) may lack.
 * ADD COLUMN takes only a constant DEFAULT, so the dashboard's writes set updated_at themselves.
 */
const ADDED_COLUMNS = ['priority INT', 'updated_at TIMESTAMP'];

const DEMO_TICKETS: readonly (readonly [title: string, priority: number, status: string])[] = [
  ['Cannot reset my password', 1, 'open'],
  ['Invoice shows the wrong VAT number', 2, 'pending'],
  ['Export to CSV is slow', 3, 'open'],
  ['Typo on the pricing page', 4, 'solved'],
];

export interface SeedOptions {
  /** The gateway's base URL. */
  readonly url: string;
  /** A DBA (the local stack's admin). */
  readonly admin: { readonly user: string; readonly password: string };
  /** The demo agents' password (at least 8 characters). */
  readonly password: string;
  readonly agents?: readonly string[];
}

/** Seeds the demo; returns the agents it created now (the others existed). */
export async function seedDemo(options: SeedOptions): Promise<string[]> {
  if (!/^[\w.~-]{8,}$/.test(options.password)) throw new Error('the demo password must be 8 or more letters, digits or _.~-');
  const created: string[] = [];
  await withClient(options.url, options.admin, async (admin) => {
    await admin.query('CREATE NAMESPACE IF NOT EXISTS app');
    await admin.query(TICKETS_DDL);
    for (const column of ADDED_COLUMNS) await ignoreExisting(admin.query(`ALTER TABLE app.tickets ADD COLUMN ${column}`));
    for (const agent of options.agents ?? DEMO_AGENTS) {
      if (await ignoreExisting(admin.query(`CREATE USER ${agent} WITH PASSWORD '${options.password}' ROLE user`))) created.push(agent);
    }
  });
  for (const [i, agent] of created.entries()) {
    await withClient(options.url, { user: agent, password: options.password }, async (client) => {
      // Each agent gets three of the four, so the two lists differ.
      for (const [title, priority, status] of DEMO_TICKETS.filter((_t, j) => j !== i % DEMO_TICKETS.length)) {
        await client.execute('INSERT INTO app.tickets (title, priority, status, updated_at) VALUES ($1, $2, $3, NOW())', [title, priority, status]);
      }
    });
  }
  return created;
}

async function withClient(url: string, auth: { user: string; password: string }, use: (client: SeqlineClient) => Promise<void>): Promise<void> {
  const client = createClient({ url, auth });
  try {
    await use(client);
  } finally {
    client.close();
  }
}

/** True when the statement ran; false when what it creates is there already. */
export async function ignoreExisting(statement: Promise<unknown>): Promise<boolean> {
  try {
    await statement;
    return true;
  } catch (err) {
    if (err instanceof SeqlineError && /already exists/.test(err.message)) return false;
    throw err;
  }
}
