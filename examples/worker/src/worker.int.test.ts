// The audit worker against the whole stack: two workers audit every change of every owner's
// tickets exactly once (the group splits the owners; an audit row is keyed by owner and _seq),
// and a worker started after the others stopped resumes where the group left off.
import { createClient } from '@seqline/client/node';
import { login, ok } from '@seqline/e2e/client';
import { startStack, type Stack } from '@seqline/e2e/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_SQL, startAuditWorker, type AuditWorker } from './worker.js';

const PASSWORD = 'worker-demo-pass';
const USERS = ['ana', 'ben', 'cho'];
let stack: Stack;
let admin: string;
const tokens: Record<string, string> = {};
const workers: AuditWorker[] = [];

beforeAll(async () => {
  stack = await startStack({ env: { SEQLINE_CONSUME_ACK_WAIT_MS: '2000' } });
  admin = await login(stack.url, stack.admin.user, stack.admin.password);
  await ok(stack.url, admin, `${SCHEMA_SQL}; CREATE USER auditor WITH PASSWORD '${PASSWORD}' ROLE service; ${USERS.map((u) => `CREATE USER ${u} WITH PASSWORD '${PASSWORD}' ROLE user`).join('; ')}`);
  for (const u of USERS) tokens[u] = await login(stack.url, u, PASSWORD);
}, 120_000);

afterAll(async () => {
  for (const w of workers) await w.stop();
  await stack?.[Symbol.asyncDispose]();
});

const auditor = { user: 'auditor', password: PASSWORD };

async function audited(): Promise<string[]> {
  const client = createClient({ url: stack.url, auth: auditor });
  try {
    const { rows } = await client.query('SELECT owner, kind, status FROM app.ticket_audit ORDER BY owner, seq');
    return rows.map((r) => `${String(r['owner'])} ${String(r['kind'])} ${String(r['status'])}`);
  } finally {
    client.close();
  }
}

describe('the audit worker', () => {
  it('audits every change of every owner once, in order, across workers and a restart', async () => {
    workers.push(startAuditWorker({ url: stack.url, auth: auditor, worker: 'one' }), startAuditWorker({ url: stack.url, auth: auditor, worker: 'two' }));
    for (const u of USERS) {
      await ok(stack.url, tokens[u]!, "INSERT INTO app.tickets (id, title) VALUES (1, 'first')");
      await ok(stack.url, tokens[u]!, "UPDATE app.tickets SET status = 'closed' WHERE id = 1");
    }
    const firstRound = USERS.flatMap((u) => [`${u} insert open`, `${u} update closed`]);
    await expect.poll(audited, { timeout: 30_000 }).toEqual(firstRound);
    for (const w of workers.splice(0)) await w.stop();
    for (const u of USERS) await ok(stack.url, tokens[u]!, 'DELETE FROM app.tickets WHERE id = 1');
    workers.push(startAuditWorker({ url: stack.url, auth: auditor, worker: 'three' }));
    await expect.poll(audited, { timeout: 30_000 }).toEqual(USERS.flatMap((u) => [`${u} insert open`, `${u} update closed`, `${u} delete closed`]));
  }, 90_000);
});
