// The chat's relay: a `service` account that delivers what members wrote (their chat.outbox
// partitions) into every member's chat.messages partition, acting for each user with
// `EXECUTE AS USER` (docs/protocol.md §3; the design is in schema.ts).
//
// It consumes the changes of chat.outbox, whoever wrote them, as a member of the consumer group
// `chat-relay` (docs/protocol.md §2, "Change consumers"): a message reaches the relay once its
// write commits, each author's in order, with no polling. Several relays split the authors
// between them; a relay that stops or dies leaves what it had not acknowledged to the group,
// and a restarted one goes on where the group left off. Delivery is at least once, so each
// message goes to each member under the message's id with the Idempotency-Key `<id>:<member>`
// (a redelivered message applies once), and an insert of an id the member has already (its key
// expired) is refused by the primary key and skipped.
// A message to a room its author is not a member of, or to no room, is dropped; a delivery the
// gateway refuses (not a network failure) is reported and skipped. Any other failure leaves the
// message unacknowledged: it is handled again after a backoff, before its author's next ones.
import { createClient, SeqlineError, type ConsumedChange } from '@seqline/client/node';
import { ROOMS_SQL, roomOf, type Room } from './schema.js';
import { read, write } from './sql.js';

export interface RelayOptions {
  readonly url: string;
  /** A `service` account (seed.ts RELAY_USER). */
  readonly auth: { readonly user: string; readonly password: string };
  /** How long one fetch of the consumer waits for a message (and so how long `stop()` may take); default 10 s. */
  readonly waitMs?: number;
  /** A failure (a refused delivery, skipped; anything else, retried); default: ignored. */
  readonly onError?: (error: unknown) => void;
}

export interface Relay {
  /** Deliveries (one per message and member) the gateway accepted since the start, idempotent replays included. */
  readonly delivered: () => number;
  stop(): Promise<void>;
}

/** The consumer group of every relay. */
export const RELAY_GROUP = 'chat-relay';
const NAME = /^[A-Za-z0-9_]+$/;
/** How the gateway words a primary-key conflict (relay.int.test.ts checks it). */
export const DUPLICATE = /duplicate|already exists|unique/i;

export function startRelay(options: RelayOptions): Relay {
  const client = createClient({ url: options.url, auth: options.auth });
  let delivered = 0;

  const deliver = async (message: Readonly<Record<string, unknown>>, author: string, room: Room): Promise<void> => {
    for (const member of room.members.filter((m) => NAME.test(m))) {
      const insert = `EXECUTE AS USER '${member}' (INSERT INTO chat.messages (id, room_id, author, body) VALUES ($1, $2, $3, $4))`;
      try {
        await write(client, insert, [message['id'], room.id, author, message['body']], `${String(message['id'])}:${member}`);
        delivered++;
      } catch (err) {
        if (err instanceof SeqlineError && DUPLICATE.test(err.message)) continue;
        // Refused for this member (no such user, say): reported and skipped, so it blocks nobody.
        // Anything else (the gateway unreachable or failing) fails the handler: the message is
        // handled again, and the members served already get it once (the idempotency key).
        if (!refused(err)) throw err;
        options.onError?.(err);
      }
    }
  };

  /** An author's write to their outbox: each message inserted goes to the members of its room. */
  const relay = async (change: ConsumedChange): Promise<void> => {
    const messages = change.rows.flatMap((row) => (row.kind === 'insert' && row.new !== undefined ? [row.new] : []));
    if (messages.length === 0) return;
    const rooms = new Map((await read(client, ROOMS_SQL)).map((row) => [String(row['id']), roomOf(row)]));
    for (const message of messages) {
      const room = rooms.get(String(message['room_id']));
      if (room !== undefined && room.members.includes(change.owner)) await deliver(message, change.owner, room);
    }
  };

  const consumer = client.consume('chat.outbox', RELAY_GROUP, relay, {
    start: 'earliest',
    ...(options.waitMs === undefined ? {} : { waitMs: options.waitMs }),
    onError: (err) => options.onError?.(err),
  });
  consumer.done.catch((err: unknown) => options.onError?.(err)); // refused for good (a role, say)

  return {
    delivered: () => delivered,
    stop: async () => {
      await consumer.stop();
      client.close();
    },
  };
}

/** The gateway refused the statement itself (4xx but 429): retrying cannot help. */
function refused(err: unknown): boolean {
  const status = err instanceof SeqlineError ? err.status : undefined;
  return status !== undefined && status >= 400 && status < 500 && status !== 429;
}
