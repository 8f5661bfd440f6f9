// The chat's demo data: the tables (schema.ts), users alice, bob and carol, the relay's
// `service` account, and two rooms: alice & bob, and a group of the three. Safe on every start:
// IF NOT EXISTS for the tables, existing users and rooms are left alone.
import { createClient, type SeqlineClient } from '@seqline/client/node';
import { ignoreExisting } from '@seqline/dashboard';
import { MESSAGES_DDL, NAMESPACE_DDL, OUTBOX_DDL, ROOMS_DDL } from './schema.js';
import { read, write } from './sql.js';

export const DEMO_USERS = ['alice', 'bob', 'carol'] as const;
export const RELAY_USER = 'chat_relay';
export const DEMO_ROOMS = [
  { id: 'alice-bob', name: 'alice & bob', members: 'alice,bob' },
  { id: 'team', name: 'team', members: 'alice,bob,carol' },
] as const;

export interface ChatSeedOptions {
  /** The gateway's base URL. */
  readonly url: string;
  /** A DBA (the local stack's admin). */
  readonly admin: { readonly user: string; readonly password: string };
  /** The demo users' password (8 or more letters, digits or _.~-). */
  readonly password: string;
  /** The relay account's password (same rule). */
  readonly relayPassword: string;
}

/** Seeds the chat; returns the users it created now (the others existed). */
export async function seedChat(options: ChatSeedOptions): Promise<string[]> {
  for (const pw of [options.password, options.relayPassword]) {
    if (!/^[\w.~-]{8,}$/.test(pw)) throw new Error('the chat passwords must be 8 or more letters, digits or _.~-');
  }
  const client = createClient({ url: options.url, auth: options.admin });
  try {
    for (const ddl of [NAMESPACE_DDL, ROOMS_DDL, OUTBOX_DDL, MESSAGES_DDL]) await write(client, ddl);
    const created: string[] = [];
    for (const user of DEMO_USERS) {
      if (await ignoreExisting(write(client, `CREATE USER ${user} WITH PASSWORD '${options.password}' ROLE user`))) created.push(user);
    }
    if (await ignoreExisting(write(client, `CREATE USER ${RELAY_USER} WITH PASSWORD '${options.relayPassword}' ROLE service`))) created.push(RELAY_USER);
    await addRooms(client);
    return created;
  } finally {
    client.close();
  }
}

async function addRooms(client: SeqlineClient): Promise<void> {
  const existing = new Set((await read(client, 'SELECT id FROM chat.rooms')).map((r) => String(r['id'])));
  for (const room of DEMO_ROOMS) {
    if (!existing.has(room.id)) await write(client, 'INSERT INTO chat.rooms (id, name, members) VALUES ($1, $2, $3)', [room.id, room.name, room.members]);
  }
}

