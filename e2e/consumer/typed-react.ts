// A strict TypeScript consumer of the installed @seqline/react (with @types/react), type-checked
// by packages.int.test.ts next to typed.ts. Each @ts-expect-error must be an error.
import { createClient, type ExecuteResult, type Row, type SeqlineError } from '@seqline/client';
import { SeqlineProvider, useConnectionStatus, useExecute, useLiveQuery, useQuery, type LiveSnapshot } from '@seqline/react';
import { createElement, type ReactNode } from 'react';

function Tickets(): ReactNode {
  const live: LiveSnapshot = useLiveQuery('SELECT id, title FROM app.tickets WHERE status = $1', ['open'], { keyColumns: ['id'], limit: 50 });
  const rows: readonly Row[] = live.rows;
  const status: 'loading' | 'stored' | 'ready' | 'error' = live.status;
  const failure: SeqlineError | undefined = live.error;
  const once = useQuery('SELECT COUNT(*) AS n FROM app.tickets');
  const { execute, pending } = useExecute();
  const online: boolean = useConnectionStatus() === 'open';
  const close = (id: unknown): Promise<ExecuteResult> => execute('UPDATE app.tickets SET status = $1 WHERE id = $2', ['closed', id], { idempotencyKey: `close-${String(id)}` });
  // @ts-expect-error: params are an array
  useLiveQuery('SELECT 1', 'not params');
  return createElement(
    'ul',
    { 'data-pending': pending, 'data-online': online, 'data-status': status, 'data-error': failure?.code, 'data-count': once.rows.length },
    rows.map((row) => createElement('li', { key: String(row['id']), onClick: () => void close(row['id']) }, String(row['title']))),
  );
}

const client = createClient({ url: 'http://127.0.0.1:8080', auth: { user: 'alice', password: 'alice-pass-1' } });
export const app: ReactNode = createElement(SeqlineProvider, { client }, createElement(Tickets));
