// A browser app on the installed @seqline/client and @seqline/react, bundled by
// packages.int.test.ts with esbuild (platform browser, nothing external) and run in Chromium.
// The page's hash carries the gateway URL and a user; the app inserts and selects, follows a live
// query until its own insert arrives as a change, then renders a React list with useLiveQuery,
// writes with useExecute until the list shows the write, and leaves what it saw in
// window.result (or window.failure).
import { createClient, SeqlineError } from '@seqline/client';
import { SeqlineProvider, useExecute, useLiveQuery } from '@seqline/react';
import { createElement as h, useEffect } from 'react';
import { createRoot } from 'react-dom/client';

const { url, user, password } = JSON.parse(decodeURIComponent(location.hash.slice(1)));
const rowsOf = (result) => (Array.isArray(result) ? result : result.rows);
const plain = (rows) => rows.map(({ _seq, ...row }) => ({ ...Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? `${v}n` : v])), ...(_seq === undefined ? {} : { _seq: typeof _seq }) }));

async function main() {
  const client = createClient({ url, auth: { user, password } });
  await client.query('INSERT INTO browser_app.notes (id, body) VALUES ($1, $2)', [10, 'from the browser']);
  const selected = plain(rowsOf(await client.query('SELECT id, body, _seq FROM browser_app.notes ORDER BY id')));
  const refused = await client.query('SELECT * FROM browser_app.missing').then(
    () => 'no error',
    (err) => ({ seqlineError: err instanceof SeqlineError, code: err.code, status: err.status }),
  );
  const live = await new Promise((resolve, reject) => {
    let inserted = false;
    const stop = client.live('SELECT id, body FROM browser_app.notes', (rows, info) => {
      if (info.status !== 'ready') return;
      if (!inserted) {
        inserted = true;
        client.query('INSERT INTO browser_app.notes (id, body) VALUES ($1, $2)', [11, 'live in the browser']).catch(reject);
      }
      if (rows.length === 2) {
        stop();
        resolve(plain(rows));
      }
    }, { onError: reject });
  });
  const react = await renderNotes(client);
  client.close();
  return { selected, refused, live, react, userAgent: navigator.userAgent.includes('Chrome') };
}

/** Mounts <Notes> and resolves with the list's items once its own write shows in it. */
function renderNotes(client) {
  return new Promise((resolve, reject) => {
    const element = document.createElement('ul');
    document.body.append(element);
    const root = createRoot(element);
    let written = false;
    function Notes() {
      const { rows, status, error } = useLiveQuery('SELECT id, body FROM browser_app.notes');
      const { execute } = useExecute();
      useEffect(() => {
        if (error !== undefined) reject(error);
        if (status !== 'ready') return;
        if (!written) {
          written = true;
          execute('INSERT INTO browser_app.notes (id, body) VALUES ($1, $2)', [12, 'from react']).catch(reject);
        } else if (rows.length === 3) {
          // The DOM has committed this render: read what the user sees.
          const items = [...element.querySelectorAll('li')].map((li) => li.textContent);
          root.unmount();
          resolve(items);
        }
      }, [rows, status, error, execute]);
      return rows.map((row) => h('li', { key: String(row.id) }, row.body));
    }
    root.render(h(SeqlineProvider, { client }, h(Notes)));
  });
}

main().then(
  (result) => (window.result = result),
  (err) => (window.failure = String(err?.stack ?? err)),
);
