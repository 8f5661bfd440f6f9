// Zero clients for the peers benchmark, speaking Zero's sync protocol (zero-protocol, version 51,
// as @rocicorp/zero 1.9's client does) over `ws`, like the Seqline clients speak Seqline's: the
// benchmark compares servers, and a thousand full Zero clients (Replicache, a local IVM copy of
// every row each) in the one bench process would measure the clients' CPU instead. Each socket is
// its own client group (a separate browser), authenticated by an HS256 JWT whose `sub` is its
// user, with one desired query: the AST of `zql.messages.orderBy('id')`.
//
// Protocol, as used here: the socket's subprotocol carries the initConnection message (with the
// desired query and the client schema) and the token; the server answers ["connected", …], then
// sends pokes: ["pokeStart", …], ["pokePart", {rowsPatch, gotQueriesPatch}], ["pokeEnd", …]. A
// query is in place (hydrated) at the pokeEnd of the poke whose gotQueriesPatch puts it.
import { createHmac } from 'node:crypto';
import WebSocket from 'ws';
import { type ClientEvents, SocketFleet, timeSnapshot } from './fleet.ts';
import type { OnChange } from './peer.ts';

const PROTOCOL = 51;
const QUERY_HASH = 'own-messages';
const AST = { table: 'messages', orderBy: [['id', 'asc']] };
const CLIENT_SCHEMA = { tables: { messages: { columns: { body: { type: 'string' }, id: { type: 'number' }, n: { type: 'number' }, owner: { type: 'string' } }, primaryKey: ['id'] } } };

type RowOp = { op: 'put'; tableName: string; value: { n?: unknown } } | { op: 'update' | 'del' | 'clear'; tableName?: string };
type Down =
  | ['connected', unknown]
  | ['pokeStart', unknown]
  | ['pokePart', { rowsPatch?: RowOp[]; gotQueriesPatch?: { op: string; hash?: string }[] }]
  | ['pokeEnd', { cancel?: boolean }]
  | ['pong', unknown]
  | ['error', unknown];

/** An HS256 JWT for `sub`, signed with `secret` (zero-cache's ZERO_AUTH_SECRET). */
export function zeroToken(secret: string, sub: string): string {
  const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, iat: now, exp: now + 24 * 3600 })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** The connect URL and subprotocol of client `id` of `user` (Zero's encodeSecProtocols: base64 of the JSON, URI-encoded). */
function connection(url: string, id: string, user: string, token: string): { href: string; protocol: string } {
  const q = new URLSearchParams({ clientID: `c${id}`, clientGroupID: `g${id}`, userID: user, baseCookie: '', ts: String(performance.now()), lmid: '0', wsid: `w${id}`, profileID: `p${id}` });
  const init = ['initConnection', { desiredQueriesPatch: [{ op: 'put', hash: QUERY_HASH, ast: AST }], clientSchema: CLIENT_SCHEMA }];
  const json = JSON.stringify({ initConnectionMessage: init, authToken: token });
  return { href: `${url}/sync/v${PROTOCOL}/connect?${q}`, protocol: encodeURIComponent(Buffer.from(json, 'utf8').toString('base64')) };
}

/** Zero client `id` of `user`: its rows (their `n`) and errors to `events`, ready when its query is hydrated. */
export function connectZero(url: string, id: string, user: string, token: string, events: ClientEvents): WebSocket {
  const { href, protocol } = connection(url, id, user, token);
  const ws = new WebSocket(href, protocol, { perMessageDeflate: false });
  let gotQuery = false;
  let hydrated = false;
  ws.on('message', (data: Buffer) => {
    const at = performance.now();
    const m = JSON.parse(data.toString('utf8')) as Down;
    switch (m[0]) {
      case 'pokePart':
        for (const op of m[1].rowsPatch ?? []) {
          if (op.op === 'put') events.onRow(Number(op.value.n), at);
          else if (op.op !== 'update') events.onError(`a ${op.op} row patch`);
        }
        if (m[1].gotQueriesPatch?.some((q) => q.op === 'put' && q.hash === QUERY_HASH)) gotQuery = true;
        return;
      case 'pokeEnd':
        if (m[1].cancel === true) events.onError('a cancelled poke');
        if (gotQuery && !hydrated) {
          hydrated = true;
          events.onReady();
        }
        return;
      case 'error':
        events.onError(JSON.stringify(m[1]).slice(0, 300));
        return;
      default:
        return;
    }
  });
  ws.on('error', (err) => events.onError(err.message));
  return ws;
}

/** `count` Zero clients (client g of user g % users); resolves once every query is hydrated. Zero's client pings when idle. */
export function openZeroClients(url: string, secret: string, users: number, count: number, onChange: OnChange): Promise<SocketFleet> {
  const tokens = Array.from({ length: users }, (_, u) => zeroToken(secret, `user${u}`));
  return SocketFleet.open(count, (g, events) => connectZero(url, String(g), `user${g % users}`, tokens[g % users]!, events), onChange, (ws) => ws.send('["ping",{}]'));
}

/** ms from a new Zero client of `user` connecting to its query hydrated with exactly `rows` rows. */
export function zeroSnapshot(url: string, secret: string, user: string, rows: number): Promise<number> {
  return timeSnapshot(rows, (_, events) => connectZero(url, `snap${Date.now()}`, user, zeroToken(secret, user), events));
}
