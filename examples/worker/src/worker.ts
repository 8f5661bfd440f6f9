// An audit worker: a `service` account that consumes every change of the USER table
// `app.tickets`, whoever owns the row, as a member of the consumer group `audit`, and writes one
// row per row change into the SHARED table `app.ticket_audit` (docs/protocol.md §2, "Change
// consumers"). Start as many as you like: the group splits the owners between them, each
// owner's changes arrive in order, and a worker that dies leaves its changes to the others.
//
// Delivery is at least once, so the handler is idempotent: an audit row's key is
// `<owner>:<_seq>`, and an insert the primary key refuses was done by an earlier delivery.
import { createClient, SeqlineError, type ConsumedChange, type Consumer, type SeqlineClient } from '@seqline/client/node';

export const SCHEMA_SQL = [
  'CREATE NAMESPACE IF NOT EXISTS app',
  "CREATE TABLE IF NOT EXISTS app.tickets (id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), title TEXT NOT NULL, status TEXT DEFAULT 'open') WITH (TYPE = 'USER')",
  "CREATE TABLE IF NOT EXISTS app.ticket_audit (id TEXT PRIMARY KEY, owner TEXT NOT NULL, kind TEXT NOT NULL, ticket_id BIGINT NOT NULL, status TEXT, seq BIGINT NOT NULL) WITH (TYPE = 'SHARED', ACCESS_LEVEL = 'PRIVATE')",
].join('; ');

const AUDIT_SQL = 'INSERT INTO app.ticket_audit (id, owner, kind, ticket_id, status, seq) VALUES ($1, $2, $3, $4, $5, $6)';
const DUPLICATE = /duplicate|already exists|unique/i;

export interface WorkerOptions {
  readonly url: string;
  /** A `service` account. */
  readonly auth: { readonly user: string; readonly password: string };
  /** This worker's id in the group (unique per running worker); default a random one. */
  readonly worker?: string;
  readonly onError?: (error: unknown) => void;
}

export interface AuditWorker {
  readonly consumer: Consumer;
  stop(): Promise<void>;
}

export function startAuditWorker(options: WorkerOptions): AuditWorker {
  const client = createClient({ url: options.url, auth: options.auth });
  const consumer = client.consume('app.tickets', 'audit', (change) => audit(client, change), {
    start: 'earliest',
    waitMs: 5000,
    ...(options.worker === undefined ? {} : { worker: options.worker }),
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  });
  return {
    consumer,
    async stop() {
      await consumer.stop();
      client.close();
    },
  };
}

async function audit(client: SeqlineClient, change: ConsumedChange): Promise<void> {
  for (const row of change.rows) {
    const image = row.new ?? row.old ?? {};
    try {
      const id = `${change.owner}:${row.seq}`;
      await client.execute(AUDIT_SQL, [id, change.owner, row.kind, image['id'], image['status'] ?? null, row.seq], { idempotencyKey: `audit:${id}` });
    } catch (err) {
      if (!(err instanceof SeqlineError && DUPLICATE.test(err.message))) throw err; // else: done by an earlier delivery
    }
  }
}
