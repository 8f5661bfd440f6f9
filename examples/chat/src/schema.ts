// The chat's tables and the SQL the page and the relay send (docs/protocol.md §3), in one place.
//
// Seqline's access model decides the design (README, **Security**): a user reads and writes only
// their own partition of a USER table and only reads SHARED tables; `service` writes shared
// tables and may act for users (`EXECUTE AS USER`). So:
//
//   chat.rooms     SHARED, PUBLIC  who is in which room; written by the seed (a DBA), read by
//                                  everyone: the authority on membership, no user can change it
//   chat.outbox    USER            what a user wrote: their own partition, so the page writes it
//                                  directly, offline too (the client's queue, an idempotency key)
//   chat.messages  USER            each member's copy of every message of their rooms, written by
//                                  the relay; private: nobody outside the room can read it
//
// The relay (relay.ts, a `service` account) consumes every new outbox row and copies
// each into the partition of every member of its room, author included, under the message's
// id (a primary key), so a message is delivered once however often it is relayed.
export const NAMESPACE_DDL = 'CREATE NAMESPACE IF NOT EXISTS chat';
export const ROOMS_DDL = "CREATE TABLE IF NOT EXISTS chat.rooms (id TEXT PRIMARY KEY, name TEXT NOT NULL, members TEXT NOT NULL) WITH (TYPE='SHARED', ACCESS_LEVEL='PUBLIC')";
export const OUTBOX_DDL = "CREATE TABLE IF NOT EXISTS chat.outbox (id TEXT PRIMARY KEY, room_id TEXT NOT NULL, body TEXT NOT NULL, written_at TIMESTAMP DEFAULT NOW()) WITH (TYPE='USER')";
export const MESSAGES_DDL = "CREATE TABLE IF NOT EXISTS chat.messages (id TEXT PRIMARY KEY, room_id TEXT NOT NULL, author TEXT NOT NULL, body TEXT NOT NULL, delivered_at TIMESTAMP DEFAULT NOW()) WITH (TYPE='USER')";

/** Every room; the page shows those listing the user (`members` is a comma-separated list). */
export const ROOMS_SQL = 'SELECT id, name, members FROM chat.rooms';
/** A room's delivered messages, in delivery (`_seq`) order. */
export const MESSAGES_SQL = 'SELECT id, author, body FROM chat.messages WHERE room_id = $1';
/** What this user wrote to a room (those not delivered yet show as "sending"). */
export const OUTBOX_SQL = 'SELECT id, body FROM chat.outbox WHERE room_id = $1';
/** $1 message id (a UUID, also the write's idempotency key), $2 room id, $3 text. */
export const SEND_SQL = 'INSERT INTO chat.outbox (id, room_id, body) VALUES ($1, $2, $3)';

export const MAX_BODY = 2000;

export interface Room {
  readonly id: string;
  readonly name: string;
  readonly members: readonly string[];
}

export function roomOf(row: Record<string, unknown>): Room {
  return {
    id: String(row['id']),
    name: String(row['name']),
    members: String(row['members'])
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== ''),
  };
}
