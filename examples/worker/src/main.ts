// Runs one audit worker until SIGINT or SIGTERM: SEQLINE_URL (default http://127.0.0.1:8080),
// SEQLINE_USER and SEQLINE_PASSWORD (a service account), SEQLINE_WORKER (optional).
import { startAuditWorker } from './worker.js';

const user = process.env['SEQLINE_USER'];
const password = process.env['SEQLINE_PASSWORD'];
if (user === undefined || password === undefined) {
  console.error('set SEQLINE_USER and SEQLINE_PASSWORD to a service account');
  process.exit(78);
}
const worker = startAuditWorker({
  url: process.env['SEQLINE_URL'] ?? 'http://127.0.0.1:8080',
  auth: { user, password },
  ...(process.env['SEQLINE_WORKER'] === undefined ? {} : { worker: process.env['SEQLINE_WORKER'] }),
  onError: (err) => console.error('audit worker:', err instanceof Error ? err.message : err),
});
console.error(`audit worker ${worker.consumer.worker} consuming app.tickets`);
const stop = (): void => {
  void worker.stop().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
worker.consumer.done.catch((err: unknown) => {
  console.error('audit worker stopped:', err instanceof Error ? err.message : err);
  process.exit(1);
});
