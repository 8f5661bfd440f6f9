// The relay against the whole stack: a message alice writes to her outbox reaches the
// partition of every member of the room, hers included, exactly once, and nobody else's; a
// message to a room she is not in is dropped; a restarted relay goes on where the consumer group
// left off and delivers nothing twice.
import { login, ok, sql } from '@seqline/e2e/client';
import { startStack, type Stack } from '@seqline/e2e/stack';
import type { SeqlineError } from '@seqline/client/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DUPLICATE, startRelay, type Relay } from './relay.js';
import { RELAY_USER, seedChat } from './seed.js';
import { SEND_SQL } from './schema.js';

const PASSWORD = 'chat-demo-pass';
const RELAY_PASSWORD = 'chat-relay-pass';
let stack: Stack;
const tokens: Record<string, string> = {};
const relays: Relay[] = [];

beforeAll(async () => {
  stack = await startStack();
  expect(await seedChat({ url: stack.url, admin: stack.admin, password: PASSWORD, relayPassword: RELAY_PASSWORD })).toEqual(['alice', 'bob', 'carol', RELAY_USER]);
  expect(await seedChat({ url: stack.url, admin: stack.admin, password: PASSWORD, relayPassword: RELAY_PASSWORD })).toEqual([]);
  for (const user of ['alice', 'bob', 'carol']) tokens[user] = await login(stack.url, user, PASSWORD);
});

afterAll(async () => {
  for (const relay of relays) await relay.stop();
  await stack?.[Symbol.asyncDispose]();
});

async function messages(user: string): Promise<unknown[][]> {
  const [result] = await ok(stack.url, tokens[user]!, 'SELECT id, room_id, author, body FROM chat.messages ORDER BY _seq');
  return result!['rows'] as unknown[][];
}

/**
 * A member's messages by id: the relay delivers each author's messages in order, but two
 * authors' may come in either order (the consumer group splits authors between lanes).
 */
async function byId(user: string): Promise<unknown[][]> {
  return (await messages(user)).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
}

describe('the chat relay', () => {
  it('delivers each message once to every member of its room and to nobody else', async () => {
    const errors: unknown[] = [];
    relays.push(startRelay({ url: stack.url, auth: { user: RELAY_USER, password: RELAY_PASSWORD }, waitMs: 1000, onError: (e) => errors.push(e) }));
    await ok(stack.url, tokens['alice']!, SEND_SQL, ['m1', 'alice-bob', 'hi bob']);
    await ok(stack.url, tokens['carol']!, SEND_SQL, ['m2', 'alice-bob', 'carol is not in this room']);
    await ok(stack.url, tokens['bob']!, SEND_SQL, ['m3', 'team', "it's bob, 'quoted'"]);
    const team = ['m3', 'team', 'bob', "it's bob, 'quoted'"];
    await expect.poll(() => byId('carol'), { timeout: 15_000 }).toEqual([team]);
    await expect.poll(() => byId('alice'), { timeout: 15_000 }).toEqual([['m1', 'alice-bob', 'alice', 'hi bob'], team]);
    await expect.poll(() => byId('bob'), { timeout: 15_000 }).toEqual([['m1', 'alice-bob', 'alice', 'hi bob'], team]);
    expect(relays[0]!.delivered()).toBe(5);
    expect(errors).toEqual([]);

    // A restarted relay goes on where the group left off: a message written while none ran,
    // and one after, are delivered; nothing is delivered twice.
    await relays[0]!.stop();
    relays.length = 0;
    await ok(stack.url, tokens['bob']!, SEND_SQL, ['m5', 'alice-bob', 'while no relay ran']);
    relays.push(startRelay({ url: stack.url, auth: { user: RELAY_USER, password: RELAY_PASSWORD }, waitMs: 1000, onError: (e) => errors.push(e) }));
    await ok(stack.url, tokens['alice']!, SEND_SQL, ['m4', 'team', 'after the restart']);
    // m5 to 2 members, m4 to 3: each member has each message once.
    await expect.poll(() => relays[0]!.delivered(), { timeout: 15_000 }).toBe(5);
    const m4 = ['m4', 'team', 'alice', 'after the restart'];
    const m5 = ['m5', 'alice-bob', 'bob', 'while no relay ran'];
    expect(await byId('carol')).toEqual([team, m4]);
    expect(await byId('alice')).toEqual([['m1', 'alice-bob', 'alice', 'hi bob'], team, m4, m5]);
    expect(await byId('bob')).toEqual([['m1', 'alice-bob', 'alice', 'hi bob'], team, m4, m5]);
    expect(errors).toEqual([]);
  });

  it('reports and skips a member the gateway refuses, delivering to the others once', async () => {
    const admin = await login(stack.url, stack.admin.user, stack.admin.password);
    // A service may act for users only: acting as the DBA is refused.
    await ok(stack.url, admin, `INSERT INTO chat.rooms (id, name, members) VALUES ('ghosts', 'ghosts', 'alice,${stack.admin.user},bob')`);
    for (const relay of relays.splice(0)) await relay.stop();
    const errors: { code: string; status: number | undefined }[] = [];
    relays.push(startRelay({ url: stack.url, auth: { user: RELAY_USER, password: RELAY_PASSWORD }, waitMs: 1000, onError: (e) => errors.push({ code: (e as SeqlineError).code, status: (e as SeqlineError).status }) }));
    // Delivering to the admin member is refused (reported per message); it does not hold up bob.
    for (const id of ['g1', 'g2', 'g3']) {
      await ok(stack.url, tokens['alice']!, SEND_SQL, [id, 'ghosts', `anyone? (${id})`]);
      await expect.poll(() => messages('bob'), { timeout: 15_000 }).toContainEqual([id, 'ghosts', 'alice', `anyone? (${id})`]);
    }
    expect((await messages('alice')).filter((m) => m[1] === 'ghosts').map((m) => m[0])).toEqual(['g1', 'g2', 'g3']);
    expect(errors).toEqual(Array.from({ length: 3 }, () => ({ code: 'PERMISSION_DENIED', status: 403 })));
  });

  it('recognises the refusal of an id a member has already (a delivery replayed after its idempotency key expired)', async () => {
    const again = await sql(stack.url, tokens['bob']!, "INSERT INTO chat.messages (id, room_id, author, body) VALUES ('m1', 'alice-bob', 'alice', 'hi bob')");
    expect(again.status).toBe(400);
    expect(again.body.error?.message).toMatch(DUPLICATE);
  });
});
