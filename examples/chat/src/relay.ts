// The chat's relay: a `service` account that delivers what members wrote (their chat.outbox
// partitions) into every member's chat.messages partition, acting for each user with
// `EXECUTE AS USER` (docs/protocol.md §3; the design is in schema.ts).
//
// A user's partition cannot be subscribed to by anyone else, so the relay polls: every
// `intervalMs` it reads, for each member of a room, the outbox rows past the `_seq` it last saw
// for them. Each message goes to each member under the message's id with the Idempotency-Key
// `<id>:<member>`, so a retried delivery applies once; after a restart (cursors start again at
// 0) an insert of an id the member has already is refused by the primary key and skipped.
// A message to a room its author is not a member of, or to no room, is dropped; a delivery the
// gateway refuses (not a network failure) is reported and skipped, and so is a member whose
// outbox it refuses to read (reported once until it can be read).
import { createClient, SeqlineError, type Row } from '@seqline/client/node';
import { ROOMS_SQL, roomOf, type Room } from './schema.js';
import { read, write } from './sql.js';

export interface RelayOptions {
  readonly url: string;
  /** A `service` account (seed.ts RELAY_USER). */
  readonly auth: { readonly user: string; readonly password: string };
  readonly intervalMs?: number;
  /** A failed round (it is retried at the next); default: ignored. */
  readonly onError?: (error: unknown) => void;
}

export interface Relay {
  /** Deliveries (one per message and member) the gateway accepted since the start, idempotent replays included. */
  readonly delivered: () => number;
  stop(): Promise<void>;
}

const NAME = /^[A-Za-z0-9_]+$/;
/** How the gateway words a primary-key conflict (relay.int.test.ts checks it). */
export const DUPLICATE = /duplicate|already exists|unique/i;
const BATCH = 200;

export function startRelay(options: RelayOptions): Relay {
  const client = createClient({ url: options.url, auth: options.auth });
  const cursors = new Map<string, bigint>();
  /** Members whose outbox the gateway refused to read, reported already. */
  const unreadable = new Set<string>();
  const stopper = new AbortController();
  let delivered = 0;

  const deliver = async (message: Row, author: string, room: Room): Promise<void> => {
    for (const member of room.members.filter((m) => NAME.test(m))) {
      const insert = `EXECUTE AS USER '${member}' (INSERT INTO chat.messages (id, room_id, author, body) VALUES ($1, $2, $3, $4))`;
      try {
        await write(client, insert, [message['id'], room.id, author, message['body']], `${String(message['id'])}:${member}`);
        delivered++;
      } catch (err) {
        if (err instanceof SeqlineError && DUPLICATE.test(err.message)) continue;
        // Refused for this member (no such user, say): reported and skipped, so it blocks nobody.
        // Anything else (the gateway unreachable or failing): the round stops here and the next
        // retries from the same cursor.
        if (!refused(err)) throw err;
        options.onError?.(err);
      }
    }
  };

  const round = async (): Promise<void> => {
    const rooms = new Map((await read(client, ROOMS_SQL)).map((row) => [String(row['id']), roomOf(row)]));
    const users = new Set([...rooms.values()].flatMap((r) => r.members.filter((m) => NAME.test(m))));
    for (const user of users) {
      const after = cursors.get(user) ?? 0n;
      let rows: Row[];
      try {
        rows = await read(client, `EXECUTE AS USER '${user}' (SELECT id, room_id, body, _seq FROM chat.outbox WHERE _seq > ${after} ORDER BY _seq LIMIT ${BATCH})`);
        unreadable.delete(user);
      } catch (err) {
        // A member the relay may not act for (not a user, say) must not hold up the others: it
        // is skipped, tried again each round, and reported once until it can be read.
        if (!refused(err)) throw err;
        if (!unreadable.has(user)) options.onError?.(err);
        unreadable.add(user);
        continue;
      }
      for (const row of rows) {
        const room = rooms.get(String(row['room_id']));
        if (room !== undefined && room.members.includes(user)) await deliver(row, user, room);
        cursors.set(user, BigInt(row['_seq'] as bigint));
      }
    }
  };

  const loop = (async () => {
    while (!stopper.signal.aborted) {
      try {
        await round();
      } catch (err) {
        if (!stopper.signal.aborted) options.onError?.(err);
      }
      await sleep(options.intervalMs ?? 250, stopper.signal);
    }
  })();

  return {
    delivered: () => delivered,
    stop: async () => {
      stopper.abort();
      await loop;
      client.close();
    },
  };
}

/** The gateway refused the statement itself (4xx but 429): retrying cannot help. */
function refused(err: unknown): boolean {
  const status = err instanceof SeqlineError ? err.status : undefined;
  return status !== undefined && status >= 400 && status < 500 && status !== 429;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
