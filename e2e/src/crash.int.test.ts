// Issue 3 crash safety. During a run of 1,000 writes a component dies (storage or write by
// SIGKILL, or the NATS server restarts) and comes back. Afterwards: every acknowledged write is
// in PostgreSQL exactly once (an unacknowledged one may be there or not), every row change is
// on its subject exactly once, and each subject's prev_seq chain has no hole.
import { startNats, testEnv } from '@seqline/testkit';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { expectChain, readChanges } from './changes.js';
import { sql } from './client.js';
import { eventsFixture } from './events.js';
import { startStack, type Stack } from './stack.js';

const WRITES = 1000;
const USERS = ['u1', 'u2', 'u3'] as const;

/** Sends WRITES inserts (10 at a time, each retried while unavailable); calls `disrupt` once `at` were acknowledged. */
async function writeThrough(stack: Stack, tokens: Record<string, string>, at: number, disrupt: () => Promise<void>): Promise<Map<string, Set<number>>> {
  const acked = new Map<string, Set<number>>(USERS.map((u) => [u, new Set<number>()]));
  let next = 0;
  let ackedCount = 0;
  let disruption: Promise<void> | undefined;
  const lane = async (): Promise<void> => {
    while (next < WRITES) {
      const i = next++;
      const user = USERS[i % USERS.length]!;
      // Like a real client: an unavailable answer is retried with the same Idempotency-Key,
      // which must apply the write at most once whatever happened to the earlier attempt.
      for (let attempt = 0; attempt < 100; attempt++) {
        const r = await sql(stack.url, tokens[user]!, 'INSERT INTO app.events (id, body) VALUES ($1, $2)', [i, `event ${i}`], { 'idempotency-key': `w-${i}` }).catch(() => undefined);
        if (r?.status === 200) {
          acked.get(user)!.add(i);
          if (++ackedCount === at) disruption = disrupt();
          break;
        }
        if (r !== undefined && r.status !== 503) throw new Error(`write ${i}: ${r.status} ${JSON.stringify(r.body)}`);
        await new Promise((done) => setTimeout(done, 100));
      }
    }
  };
  await Promise.all(Array.from({ length: 10 }, lane));
  await disruption;
  return acked;
}

async function verify(stack: Stack, acked: Map<string, Set<number>>): Promise<void> {
  const db = postgres(stack.postgresUrl, { max: 1 });
  try {
    for (const [user, ids] of acked) {
      const rows = await db<{ id: number }[]>`SELECT id FROM app.events WHERE _user_id = ${user} AND NOT _deleted ORDER BY id`;
      const stored = rows.map((r) => r.id);
      expect(new Set(stored).size).toBe(stored.length);
      for (const id of ids) expect(stored).toContain(id);
      const changes = await readChanges(stack.names.changesStream, stack.names.changes(user, 'app', 'events'), stack.natsUrl);
      expectChain(changes);
      const changed = changes.flatMap((c) => c.rows.map((r) => (JSON.parse(r.newJson) as { id: number }).id)).sort((a, b) => a - b);
      expect(changed).toEqual(stored);
    }
    const total = [...acked.values()].reduce((n, s) => n + s.size, 0);
    expect(total).toBe(WRITES);
  } finally {
    await db.end();
  }
}

describe('crash safety', () => {
  it('storage killed with SIGKILL mid-run and restarted', async () => {
    await using stack = await startStack({ processes: ['storage'] });
    const tokens = await eventsFixture(stack, USERS);
    const acked = await writeThrough(stack, tokens, 300, async () => {
      await stack.children.get('storage')!.kill('SIGKILL');
      await stack.spawn('storage');
    });
    await verify(stack, acked);
  });

  it('write killed with SIGKILL mid-run and restarted', async () => {
    await using stack = await startStack({ processes: ['write'] });
    const tokens = await eventsFixture(stack, USERS);
    const acked = await writeThrough(stack, tokens, 300, async () => {
      await stack.children.get('write')!.kill('SIGKILL');
      await stack.spawn('write');
    });
    await verify(stack, acked);
  });

  it('the NATS server restarted mid-run', async () => {
    await using nats = await startNats();
    await using stack = await startStack({ natsUrl: nats.url });
    expect(nats.url).not.toBe(testEnv().natsUrl);
    const tokens = await eventsFixture(stack, USERS);
    const acked = await writeThrough(stack, tokens, 300, async () => {
      await nats.stop();
      await nats.restart();
    });
    await verify(stack, acked);
  });
});
