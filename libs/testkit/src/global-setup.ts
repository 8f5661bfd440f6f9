// vitest globalSetup for the integration tier (*.int.test.ts, see vitest.shared.ts): one
// nats-server with JetStream and one PostgreSQL for the whole run, both on free ports of
// 127.0.0.1 with throwaway directories in os.tmpdir().
//
// Test files read the URLs with testEnv() (vitest `inject('seqline')`); they are also in
// SEQLINE_TEST_NATS_URL / SEQLINE_TEST_POSTGRES_URL for child processes a test may start.
// The teardown stops both servers and removes their directories. A missing nats-server fails
// the run at once with the install hint, before PostgreSQL is started.
//
// This module runs in vitest's main process, where importing runtime values from 'vitest' is
// not allowed: it imports types only from there and from test-env.ts.
import type { TestProject } from 'vitest/node';
import { resolveNatsBinary, startNats, type NatsServer } from './nats-server.js';
import { startPostgres, type PostgresServer } from './postgres-server.js';
import type { TestEnv } from './test-env.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const natsBinary = await resolveNatsBinary();
  const [nats, pg] = await Promise.allSettled([startNats({ binary: natsBinary }), startPostgres()]);
  if (nats.status === 'rejected' || pg.status === 'rejected') {
    await stopAll([nats, pg].flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])));
    const reasons = [nats, pg].flatMap((result): unknown[] => (result.status === 'rejected' ? [result.reason] : []));
    if (reasons.length === 1) throw reasons[0];
    throw new AggregateError(reasons, `test services did not start: ${reasons.map(String).join('; ')}`);
  }
  const env: TestEnv = { natsUrl: nats.value.url, postgresUrl: pg.value.url };
  project.provide('seqline', env);
  process.env['SEQLINE_TEST_NATS_URL'] = env.natsUrl;
  process.env['SEQLINE_TEST_POSTGRES_URL'] = env.postgresUrl;
  return async () => {
    delete process.env['SEQLINE_TEST_NATS_URL'];
    delete process.env['SEQLINE_TEST_POSTGRES_URL'];
    await stopAll([nats.value, pg.value]);
  };
}

/** Disposes every server even when one of them fails to stop; rethrows the first failure. */
async function stopAll(servers: ReadonlyArray<NatsServer | PostgresServer>): Promise<void> {
  const results = await Promise.allSettled(servers.map((server) => server[Symbol.asyncDispose]()));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}
