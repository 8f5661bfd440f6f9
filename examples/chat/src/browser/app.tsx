// The chat in the browser, on @seqline/react. A user signs in; the page lists the rooms they
// are a member of (chat.rooms, shared) and shows the chosen room's messages live (their own
// chat.messages partition, filled by the relay), with what they wrote and the relay has not
// delivered yet marked "sending". Each signed-in user gets one client whose rows, cursors and
// offline writes live in localStorage under the user's name: a reload shows the messages at once
// and resumes every live query from its stored cursor, and a message written offline is sent
// once (its id is its idempotency key) when the gateway is reachable again. A banner says when
// the connection is down. The design of the tables is in ../schema.ts.
import { createClient, SeqlineError, webStorageStore, type Row, type SeqlineClient } from '@seqline/client';
import { SeqlineProvider, useConnectionStatus, useExecute, useLiveQuery } from '@seqline/react';
import { StrictMode, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { MAX_BODY, MESSAGES_SQL, OUTBOX_SQL, ROOMS_SQL, roomOf, SEND_SQL, type Room } from '../schema.js';

interface Config {
  /** The gateway's base URL (served as config.json). */
  readonly gatewayUrl: string;
}

interface Session {
  readonly user: string;
  readonly client: SeqlineClient;
}

function describe(error: unknown): string {
  if (error instanceof SeqlineError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function App({ config }: { config: Config }): ReactNode {
  const [session, setSession] = useState<Session | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const signIn = async (user: string, password: string): Promise<void> => {
    const client = createClient({ url: config.gatewayUrl, auth: { user, password }, store: webStorageStore(`seqline-chat:${user}:`), onError: (e) => setError(describe(e)) });
    try {
      await client.query('SELECT id FROM chat.rooms LIMIT 1'); // logs in, and checks the tables are there
    } catch (err) {
      client.close();
      setError(describe(err));
      return;
    }
    setError(undefined);
    setSession({ user, client });
  };
  const signOut = (): void => {
    session?.client.close();
    setSession(undefined);
  };
  return (
    <>
      {error === undefined ? null : (
        <div className="error" data-testid="error" role="alert">
          {error}
        </div>
      )}
      {session === undefined ? (
        <Login onSubmit={(user, password) => void signIn(user, password)} />
      ) : (
        <SeqlineProvider client={session.client}>
          <Chat user={session.user} onSignOut={signOut} onError={(e) => setError(describe(e))} />
        </SeqlineProvider>
      )}
    </>
  );
}

function Login({ onSubmit }: { onSubmit: (user: string, password: string) => void }): ReactNode {
  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const field = (name: string): string => (event.currentTarget.elements.namedItem(name) as HTMLInputElement).value;
    onSubmit(field('user'), field('password'));
  };
  return (
    <form className="login" onSubmit={submit}>
      <h1>Seqline chat</h1>
      <input name="user" placeholder="user (alice, bob, carol)" autoComplete="username" required data-testid="login-user" />
      <input name="password" type="password" placeholder="password" autoComplete="current-password" required data-testid="login-password" />
      <button type="submit" data-testid="login-submit">
        Sign in
      </button>
    </form>
  );
}

function Chat({ user, onSignOut, onError }: { user: string; onSignOut: () => void; onError: (error: unknown) => void }): ReactNode {
  const status = useConnectionStatus();
  const live = useLiveQuery(ROOMS_SQL);
  const rooms = useMemo(() => live.rows.map(roomOf).filter((r) => r.members.includes(user)), [live.rows, user]);
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const room = rooms.find((r) => r.id === chosen) ?? rooms[0];
  return (
    <div data-testid="chat" data-user={user}>
      <header>
        <h1>Seqline chat · {user}</h1>
        <span className="status" data-testid="connection" data-status={status}>
          {status}
        </span>
        <button type="button" onClick={onSignOut} data-testid="sign-out">
          Sign out
        </button>
      </header>
      {status === 'reconnecting' || status === 'closed' ? (
        <div className="banner" data-testid="offline-banner" role="status">
          Offline: new messages will be sent when the connection is back.
        </div>
      ) : null}
      <main>
        <nav>
          {rooms.map((r) => (
            <button key={r.id} type="button" aria-current={r.id === room?.id} onClick={() => setChosen(r.id)} data-testid="room" data-id={r.id}>
              {r.name}
              <small>{r.members.join(', ')}</small>
            </button>
          ))}
        </nav>
        {room === undefined ? <p>No rooms yet.</p> : <RoomView key={room.id} room={room} user={user} onError={onError} />}
      </main>
    </div>
  );
}

interface Shown {
  readonly id: string;
  readonly author: string;
  readonly body: string;
  /** delivered: in the room; sending: in the user's outbox, not relayed yet; queued: not at the gateway yet. */
  readonly state: 'delivered' | 'sending' | 'queued';
}

function RoomView({ room, user, onError }: { room: Room; user: string; onError: (error: unknown) => void }): ReactNode {
  const params = [room.id];
  const messages = useLiveQuery(MESSAGES_SQL, params);
  const outbox = useLiveQuery(OUTBOX_SQL, params);
  const { execute } = useExecute();
  const [queued, setQueued] = useState<readonly Row[]>([]);
  const shown = useMemo(() => merge(messages.rows, outbox.rows, queued, user), [messages.rows, outbox.rows, queued, user]);
  const send = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const input = event.currentTarget.elements.namedItem('body') as HTMLInputElement;
    const body = input.value.trim();
    if (body === '') return;
    input.value = '';
    const id = crypto.randomUUID();
    setQueued((q) => [...q, { id, body }]);
    execute(SEND_SQL, [id, room.id, body], { idempotencyKey: id })
      .catch(onError)
      .finally(() => setQueued((q) => q.filter((m) => m['id'] !== id)));
  };
  return (
    <section className="room" data-testid="room-view" data-id={room.id} data-live={messages.status}>
      <ol className="messages" data-testid="messages">
        {shown.map((m) => (
          <li key={m.id} className={`${m.author === user ? 'mine' : ''} ${m.state === 'delivered' ? '' : 'pending'}`} data-testid="message" data-id={m.id} data-state={m.state}>
            <span className="author">
              {m.author}
              {m.state === 'delivered' ? '' : ` · ${m.state}`}
            </span>
            <span className="body">{m.body}</span>
          </li>
        ))}
      </ol>
      <form className="composer" onSubmit={send}>
        <input name="body" placeholder={`Message ${room.name}`} maxLength={MAX_BODY} autoComplete="off" data-testid="composer-input" />
        <button type="submit" data-testid="composer-send">
          Send
        </button>
      </form>
      <footer className="meta">
        last _seq <span data-testid="last-seq">{messages.lastSeq?.toString() ?? '–'}</span>
      </footer>
    </section>
  );
}

/** Delivered messages in delivery order, then the user's own not delivered yet. */
function merge(delivered: readonly Row[], outbox: readonly Row[], queued: readonly Row[], user: string): Shown[] {
  const shown: Shown[] = delivered.map((m) => ({ id: String(m['id']), author: String(m['author']), body: String(m['body']), state: 'delivered' }));
  const seen = new Set(shown.map((m) => m.id));
  for (const [rows, state] of [[outbox, 'sending'], [queued, 'queued']] as const) {
    for (const m of rows) {
      const id = String(m['id']);
      if (seen.has(id)) continue;
      seen.add(id);
      shown.push({ id, author: user, body: String(m['body']), state });
    }
  }
  return shown;
}

const config = (await (await fetch('config.json')).json()) as Config;
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App config={config} />
  </StrictMode>,
);
