// A strict TypeScript consumer of the installed @seqline/client: packages.int.test.ts type-checks
// it with tsc (strict, exactOptionalPropertyTypes, skipLibCheck off; no @types/ws) under
// moduleResolution nodenext and bundler. Each @ts-expect-error must be an error, so the
// declarations cannot quietly turn into `any`.
import { compareSeqId, createClient, memoryStore, parseSeqId, SeqlineError, type ClientOptions, type LiveInfo, type Row, type SeqId, type Status, type Store } from '@seqline/client';
import { createClient as createNodeClient, fileStore } from '@seqline/client/node';

const store: Store = memoryStore();
const options: ClientOptions = { url: 'http://127.0.0.1:8080', auth: { user: 'alice', password: 'alice-pass-1' }, store, backoff: { baseMs: 100, capMs: 5_000 } };
const client = createClient(options);
const status: Status = client.status;
const seen: Row[] = [];
const stop: () => void = client.live(
  'SELECT id, title FROM app.tickets WHERE status = $1',
  (rows: Row[], info: LiveInfo) => {
    const state: 'stored' | 'loading' | 'ready' = info.status;
    const cursor: bigint | undefined = info.cursor;
    if (state === 'ready' && cursor !== undefined) seen.push(...rows);
  },
  { params: ['open'], keyColumns: ['id'], limit: 50, onError: (err: SeqlineError) => void err.code },
);
const unsubscribe: () => void = client.onStatus((s) => void (s === 'open'));

const first: SeqId = parseSeqId('123');
const order: number = compareSeqId(first, parseSeqId('124'));

async function write(): Promise<string | undefined> {
  try {
    await client.query('INSERT INTO app.tickets (title) VALUES ($1)', ['typed']);
    return undefined;
  } catch (err) {
    if (err instanceof SeqlineError) {
      const code: string = err.code;
      return code;
    }
    throw err;
  }
}

const nodeClient = createNodeClient({ url: 'http://127.0.0.1:8080', auth: { jwt: 'token' }, store: fileStore('.seqline/alice.json'), bigint: 'string' });

// @ts-expect-error: exactOptionalPropertyTypes: an optional option is absent, never undefined
createClient({ url: 'http://127.0.0.1:8080', auth: { jwt: 'token' }, store: undefined });
// @ts-expect-error: a SeqId is a branded bigint, not any bigint
const notSeq: SeqId = 5n;
// @ts-expect-error: live() wants a callback
client.live('SELECT 1', 'not a function');

export { first, nodeClient, notSeq, order, status, stop, unsubscribe, write };
