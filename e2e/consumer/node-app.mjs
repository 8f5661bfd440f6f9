// A plain Node app on the installed @seqline/client, run by packages.int.test.ts with `node` (no
// tsx) in a project outside the repository. The admin creates a namespace, a USER table and a
// user; the user inserts and selects, is refused a CREATE (a SeqlineError with the server's
// code), then follows a live query: after its snapshot it inserts a row and waits for the change.
// Prints one JSON line of what it saw. Configuration comes from the environment.
import { createClient, SeqlineError } from '@seqline/client/node';

const { SEQLINE_URL: url, ADMIN_USER, ADMIN_PASSWORD } = process.env;
const DEADLINE_MS = 30_000;
// query() gives the first result's rows; once it returns every statement's result, `rows` is the first's.
const rowsOf = (result) => (Array.isArray(result) ? result : result.rows);
// BIGINT cells come as bigint: print them as strings, and _seq only as its type.
const plain = (rows) => rows.map(({ _seq, ...row }) => ({ ...Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? `${v}n` : v])), ...(_seq === undefined ? {} : { _seq: typeof _seq }) }));

const admin = createClient({ url, auth: { user: ADMIN_USER, password: ADMIN_PASSWORD } });
await admin.query('CREATE NAMESPACE node_app');
await admin.query("CREATE TABLE node_app.notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL) WITH (TYPE='USER')");
await admin.query("CREATE USER carol WITH PASSWORD 'carol-pass-1' ROLE user");
admin.close();

const carol = createClient({ url, auth: { user: 'carol', password: 'carol-pass-1' } });
await carol.query('INSERT INTO node_app.notes (id, body) VALUES ($1, $2)', [1, 'first']);
const selected = plain(rowsOf(await carol.query('SELECT id, body, _seq FROM node_app.notes ORDER BY id')));
const refused = await carol.query('CREATE TABLE node_app.other (id BIGINT PRIMARY KEY)').then(
  () => 'no error',
  (err) => ({ seqlineError: err instanceof SeqlineError, code: err.code, status: err.status }),
);

const statuses = [];
const live = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no change within ${DEADLINE_MS} ms; statuses ${statuses.join(',')}`)), DEADLINE_MS);
  let inserted = false;
  const stop = carol.live('SELECT id, body FROM node_app.notes', (rows, info) => {
    statuses.push(info.status);
    if (info.status !== 'ready') return;
    if (!inserted) {
      inserted = true;
      carol.query('INSERT INTO node_app.notes (id, body) VALUES ($1, $2)', [2, 'second']).catch(reject);
    }
    if (rows.length === 2) {
      clearTimeout(timer);
      stop();
      resolve(plain(rows));
    }
  }, { onError: reject });
});
carol.close();
process.stdout.write(`${JSON.stringify({ selected, refused, live, lastStatus: statuses.at(-1) })}\n`);
