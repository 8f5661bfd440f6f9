// The support dashboard in the browser. An agent signs in; the page then shows the agent's
// tickets live (the 50 most recently updated, newest first), a form to create one, a status select per ticket, the connection's
// status and the last `_seq` it has. Everything goes through @seqline/client (its browser entry):
// one client per signed-in agent, whose rows, cursor and offline writes are kept in localStorage
// under the agent's name, so a reload shows them at once and resumes from the cursor.
import { createClient, SeqlineError, webStorageStore, type LiveInfo, type Row, type SeqlineClient, type Status } from '@seqline/client';
import { CREATE_SQL, PRIORITIES, SET_STATUS_SQL, TICKETS_SQL, ticketViews } from '../view.js';
import { renderTickets } from './tickets.js';

interface Config {
  /** The gateway's base URL (served by the dashboard's server as config.json). */
  readonly gatewayUrl: string;
}

interface Session {
  readonly client: SeqlineClient;
  readonly stop: () => void;
}

let session: Session | undefined;

function el<T extends HTMLElement = HTMLElement>(testid: string): T {
  const found = document.querySelector<T>(`[data-testid="${testid}"]`);
  if (found === null) throw new Error(`the page has no [data-testid="${testid}"]`);
  return found;
}

function showError(error: unknown): void {
  const box = el('error');
  box.textContent = error instanceof SeqlineError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
  box.hidden = false;
}

function clearError(): void {
  el('error').hidden = true;
}

function showConnection(status: Status): void {
  const badge = el('connection');
  badge.dataset['status'] = status;
  badge.textContent = status;
}

function showTickets(client: SeqlineClient, rows: Row[], info: LiveInfo): void {
  const views = ticketViews(rows);
  renderTickets(el<HTMLTableSectionElement>('tickets'), views, (id, status) => {
    client.execute(SET_STATUS_SQL, [status, id]).then(clearError, showError);
  });
  el('ticket-count').textContent = String(views.length);
  el('empty').hidden = views.length > 0;
  el('last-seq').textContent = info.cursor?.toString() ?? '–';
  el('dashboard').dataset['live'] = info.status;
}

async function signIn(config: Config, user: string, password: string): Promise<void> {
  const client = createClient({ url: config.gatewayUrl, auth: { user, password }, store: webStorageStore('seqline-dashboard:'), onError: showError });
  try {
    await client.query('SELECT id FROM app.tickets LIMIT 1'); // logs in, and checks the table is there
  } catch (err) {
    client.close();
    showError(err);
    return;
  }
  clearError();
  client.onStatus(showConnection);
  const stop = client.live(TICKETS_SQL, (rows, info) => showTickets(client, rows, info), { onError: showError });
  session = { client, stop };
  showConnection(client.status);
  el('user').textContent = user;
  el<HTMLFormElement>('login-form').reset();
  el('login-form').hidden = true;
  el('meta').hidden = false;
  el('dashboard').hidden = false;
  el<HTMLInputElement>('new-title').focus();
}

/** Signing out closes the client and removes this agent's stored rows and queued writes. */
function signOut(): void {
  session?.stop();
  void session?.client.clear();
  session = undefined;
  el('tickets').replaceChildren();
  el('meta').hidden = true;
  el('dashboard').hidden = true;
  el('login-form').hidden = false;
}

/** A text field of a form ('' when absent). */
function field(form: HTMLFormElement, name: string): string {
  const value = new FormData(form).get(name);
  return typeof value === 'string' ? value : '';
}

function wire(config: Config): void {
  el<HTMLSelectElement>('new-priority').replaceChildren(...PRIORITIES.map((p) => new Option(p.label, String(p.value), false, p.value === 3)));
  const login = el<HTMLFormElement>('login-form');
  login.addEventListener('submit', (event) => {
    event.preventDefault();
    void signIn(config, field(login, 'user'), field(login, 'password'));
  });
  const create = el<HTMLFormElement>('create-form');
  create.addEventListener('submit', (event) => {
    event.preventDefault();
    const title = field(create, 'title').trim();
    if (session === undefined || title === '') return;
    // Offline, the write waits in the client's outbox and this settles once it is applied.
    session.client.execute(CREATE_SQL, [title, Number(field(create, 'priority'))]).then(clearError, showError);
    create.reset();
    el<HTMLSelectElement>('new-priority').value = '3';
  });
  el('logout').addEventListener('click', signOut);
}

async function main(): Promise<void> {
  const res = await fetch('config.json');
  if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`);
  wire((await res.json()) as Config);
}

main().catch(showError);
