// Change consumers (docs/protocol.md §2 "Change consumers", docs/architecture.md §4a) on the real
// stack: two workers of one group split the table's owners between them and see each owner's
// changes in order; a worker that dies holding changes loses them to the other worker after the
// deadline, not before; a worker stopped and replaced, through another gateway that is then
// killed, loses nothing and repeats nothing; only service and system accounts consume; names
// that could address another subject or consumer are refused; the group and fetch limits hold.
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { shardOf } from '@seqline/bus';
import { createClient, type ConsumedChange, type SeqlineClient } from '@seqline/client/node';
import { natsConnection } from '@seqline/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, ok, post } from './client.js';
import { startStack, type Stack } from './stack.js';

const ACK_WAIT_MS = 4000;
const LANES = 4;
const MAX_FETCH = 5;
const PASSWORD = 'consume-password';

let stack: Stack;
let admin: string;
let service: string;
/** One user per lane and two more, so both workers of a split group get owners. */
const owners: string[] = [];
const tokens = new Map<string, string>();
const clients: SeqlineClient[] = [];

beforeAll(async () => {
  stack = await startStack({ env: { SEQLINE_CONSUME_ACK_WAIT_MS: String(ACK_WAIT_MS), SEQLINE_CONSUME_LANES: String(LANES), SEQLINE_CONSUME_MAX_FETCH: String(MAX_FETCH), SEQLINE_CONSUME_MAX_GROUPS: '2' } });
  admin = await login(stack.url, stack.admin.user, stack.admin.password);
  for (let i = 0; owners.length < 6; i++) {
    const name = `owner${i}`;
    const lanes = new Set(owners.map((o) => shardOf(o, LANES)));
    if (lanes.size < LANES && lanes.has(shardOf(name, LANES))) continue; // first one owner per lane
    owners.push(name);
  }
  const users = owners.map((o) => `CREATE USER ${o} WITH PASSWORD '${PASSWORD}' ROLE user`).join('; ');
  await ok(stack.url, admin, `CREATE NAMESPACE cq; CREATE USER svc WITH PASSWORD '${PASSWORD}' ROLE service; ${users}`);
  for (const t of ['split', 'dead', 'restart', 'limits']) await ok(stack.url, admin, `CREATE TABLE cq.${t} (id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), n INT NOT NULL) WITH (TYPE = 'USER')`);
  service = await login(stack.url, 'svc', PASSWORD);
  for (const o of owners) tokens.set(o, await login(stack.url, o, PASSWORD));
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await stack?.[Symbol.asyncDispose]();
});

/** `count` inserts per owner, interleaved across owners, n = 1…count. */
async function write(table: string, count: number, from = 1): Promise<void> {
  for (let n = from; n < from + count; n++) {
    await Promise.all(owners.map((o) => ok(stack.url, tokens.get(o)!, `INSERT INTO cq.${table} (n) VALUES ($1)`, [n])));
  }
}

function svcClient(url = stack.url): SeqlineClient {
  const client = createClient({ url, auth: { user: 'svc', password: PASSWORD } });
  clients.push(client);
  return client;
}

interface Handled {
  readonly worker: string;
  readonly owner: string;
  readonly n: number;
  readonly at: number;
}

function recorder(into: Handled[], worker: string): (change: ConsumedChange) => void {
  return (change) => {
    for (const row of change.rows) into.push({ worker, owner: change.owner, n: Number(row.new?.['n']), at: Date.now() });
  };
}

const key = (h: { owner: string; n: number }): string => `${h.owner}#${h.n}`;
const everything = (count: number): string[] => owners.flatMap((o) => Array.from({ length: count }, (_, i) => `${o}#${i + 1}`)).sort();

async function consume(body: Record<string, unknown>, token = service): Promise<{ status: number; body: Record<string, unknown> }> {
  return post(`${stack.url}/v1/api/consume`, body, { authorization: `Bearer ${token}` });
}

describe('change consumers', () => {
  it('splits a group between two workers, each owner to one worker, every change once and in order per owner', async () => {
    const handled: Handled[] = [];
    const a = svcClient().consume('cq.split', 'billing', recorder(handled, 'a'), { worker: 'a', start: 'earliest', waitMs: 1000 });
    const b = svcClient().consume('cq.split', 'billing', recorder(handled, 'b'), { worker: 'b', start: 'earliest', waitMs: 1000 });
    // Both workers hold their share before anything is written.
    await using nc = await natsConnection(stack.natsUrls);
    const kv = await new Kvm(nc).open(`${stack.prefix}_consumers`);
    await expect
      .poll(async () => {
        const state = JSON.parse((await kv.get('g.cq.split.billing'))?.string() ?? '{"lanes":[]}') as { lanes: { holder: string | null }[] };
        return state.lanes.map((l) => l.holder).sort();
      }, { timeout: 20_000 })
      .toEqual(['a', 'a', 'b', 'b']);
    await write('split', 10);
    await expect.poll(() => handled.length, { timeout: 30_000 }).toBe(owners.length * 10);
    await Promise.all([a.stop(), b.stop()]);
    expect(handled.map(key).sort()).toEqual(everything(10)); // every change, once
    for (const o of owners) {
      const mine = handled.filter((h) => h.owner === o);
      expect(mine.map((h) => h.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // in order
      expect(new Set(mine.map((h) => h.worker)).size).toBe(1); // by one worker
    }
    expect(new Set(handled.map((h) => h.worker))).toEqual(new Set(['a', 'b'])); // both worked
  }, 90_000);

  it('redelivers the changes a dead worker held to the other worker after the deadline, not before', async () => {
    await write('dead', 3);
    const started = Date.now();
    const held = await consume({ table: 'cq.dead', group: 'mailer', worker: 'dead', start: 'earliest', limit: 50 });
    expect(held.status).toBe(200);
    const heldChanges = held.body['changes'] as ConsumedChange[];
    expect(heldChanges.length).toBeGreaterThan(0);
    expect(heldChanges.length).toBeLessThanOrEqual(MAX_FETCH); // limit 50 is capped by SEQLINE_CONSUME_MAX_FETCH
    const heldKeys = heldChanges.map((c) => `${c.owner}#${String(c.rows[0]!.new!['n'])}`);
    // The dead worker never acks; the live one gets everything, the dead one's changes after its lease ran out.
    const handled: Handled[] = [];
    const live = svcClient().consume('cq.dead', 'mailer', recorder(handled, 'live'), { worker: 'live', waitMs: 1000 });
    await expect.poll(() => handled.length, { timeout: 30_000 }).toBe(owners.length * 3);
    await live.stop();
    expect(handled.map(key).sort()).toEqual(everything(3));
    for (const k of heldKeys) expect(handled.find((h) => key(h) === k)!.at - started).toBeGreaterThanOrEqual(ACK_WAIT_MS);
    for (const o of owners) expect(handled.filter((h) => h.owner === o).map((h) => h.n)).toEqual([1, 2, 3]);
    // The dead worker's token acks nothing now: its lane was rewound for the live worker.
    const late = await post(`${stack.url}/v1/api/consume/ack`, { token: heldChanges[0]!.token }, { authorization: `Bearer ${service}` });
    expect(late.status).toBe(409);
    expect((late.body['error'] as { code: string }).code).toBe('LEASE_EXPIRED');
  }, 90_000);

  it('keeps the position across a restart of the worker and of its gateway: nothing lost, nothing repeated', async () => {
    await write('restart', 5);
    const other = await stack.spawn('gateway');
    const first: Handled[] = [];
    const one = svcClient(other.url).consume('cq.restart', 'audit', recorder(first, 'one'), { worker: 'one', start: 'earliest', waitMs: 1000 });
    await expect.poll(() => first.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(8);
    await one.stop();
    await other.kill('SIGKILL');
    const second: Handled[] = [];
    const two = svcClient().consume('cq.restart', 'audit', recorder(second, 'two'), { worker: 'two', waitMs: 1000 });
    await write('restart', 2, 6);
    await expect.poll(() => first.length + second.length, { timeout: 30_000 }).toBe(owners.length * 7);
    await two.stop();
    expect([...first, ...second].map(key).sort()).toEqual(everything(7));
    for (const o of owners) expect([...first, ...second].filter((h) => h.owner === o).map((h) => h.n)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  }, 120_000);

  it('lets only service and system accounts consume', async () => {
    for (const token of [tokens.get(owners[0]!)!, admin]) {
      const r = await consume({ table: 'cq.limits', group: 'g', worker: 'w' }, token);
      expect(r.status).toBe(403);
      expect((r.body['error'] as { code: string }).code).toBe('PERMISSION_DENIED');
    }
    const forged = await post(`${stack.url}/v1/api/consume/ack`, { token: 'eyJ4IjoxfQ.AAAA' }, { authorization: `Bearer ${service}` });
    expect(forged.status).toBe(400);
    expect((forged.body['error'] as { code: string }).code).toBe('INVALID_INPUT');
  });

  it('refuses names that could address another subject or consumer, and creates nothing for them', async () => {
    await using nc = await natsConnection(stack.natsUrls);
    const jsm = await jetstreamManager(nc);
    const consumers = async (): Promise<number> => {
      let n = 0;
      for await (const _ of jsm.consumers.list(stack.names.changesStream)) n++;
      return n;
    };
    const before = await consumers();
    const hostile: Record<string, unknown>[] = [
      { table: 'cq.limits', group: 'a.b', worker: 'w' },
      { table: 'cq.limits', group: '*', worker: 'w' },
      { table: 'cq.limits', group: '>', worker: 'w' },
      { table: 'cq.limits', group: 'a b', worker: 'w' },
      { table: 'cq.limits', group: 'x'.repeat(65), worker: 'w' },
      { table: 'cq.limits', group: 'g', worker: 'w.*' },
      { table: 'cq.*', group: 'g', worker: 'w' },
      { table: 'cq.>', group: 'g', worker: 'w' },
      { table: 'cq.limits.x', group: 'g', worker: 'w' },
      { table: '*.limits', group: 'g', worker: 'w' },
    ];
    for (const body of hostile) {
      const r = await consume(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect((r.body['error'] as { code: string }).code, JSON.stringify(body)).toBe('INVALID_INPUT');
    }
    for (const table of ['cq.nothing', 'system.users']) {
      const r = await consume({ table, group: 'g', worker: 'w' });
      expect(r.status).toBe(400);
      expect((r.body['error'] as { code: string }).code).toBe('TABLE_NOT_FOUND');
    }
    expect(await consumers()).toBe(before);
  });

  it('holds the configured limit of groups per table, and a dropped group frees its place', async () => {
    for (const group of ['one', 'two']) expect((await consume({ table: 'cq.limits', group, worker: 'w' })).status).toBe(200);
    const third = await consume({ table: 'cq.limits', group: 'three', worker: 'w' });
    expect(third.status).toBe(400);
    expect((third.body['error'] as { code: string }).code).toBe('INVALID_PARAMETER');
    const dropped = await post(`${stack.url}/v1/api/consume/drop`, { table: 'cq.limits', group: 'one' }, { authorization: `Bearer ${service}` });
    expect(dropped.body).toEqual({ dropped: true });
    expect((await consume({ table: 'cq.limits', group: 'three', worker: 'w' })).status).toBe(200);
  });
});
