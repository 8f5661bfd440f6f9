// @seqline/testkit: real NATS (JetStream) and PostgreSQL for tests, on free ports, with
// per-test names and databases that clean up after themselves (`await using`).
//
// Integration tests (*.int.test.ts) get one NATS and one PostgreSQL per run from
// global-setup.ts and reach them with testEnv(); startNats/startPostgres start extra servers
// for tests that need to stop, kill or restart one; startNatsCluster a JetStream cluster of several
// (optionally with its routes through TcpProxy, so a node can be partitioned from the others).
export { freePort, pause, uniqueName, waitFor, type WaitForOptions } from './support.js';
export { NATS_SERVER_MISSING, startNats, type NatsServer, type StartNatsOptions } from './nats-server.js';
export { startNatsCluster, type NatsCluster, type NatsClusterNode, type NatsRoute, type StartNatsClusterOptions } from './nats-cluster.js';
export { type RouteLink } from './nats-route-mesh.js';
export { TcpProxy, type TcpProxyCounts, type TcpProxyOptions } from './tcp-proxy.js';
export { startPostgres, type PostgresMode, type PostgresServer, type StartPostgresOptions } from './postgres-server.js';
export { serverCanReach, serverOsUser, type OsUser } from './postgres-common.js';
export { trustedDirectory } from './postgres-cache.js';
export { POSTGRES_MISSING } from './postgres-system.js';
export { EMBEDDED_POSTGRES_MISSING } from './postgres-embedded.js';
export {
  createTestDatabase,
  deleteStreamsWithPrefix,
  natsConnection,
  readSubject,
  TEST_RUNTIME_PASSWORD,
  TEST_RUNTIME_ROLE,
  testEnv,
  type StoredMessage,
  type TestDatabase,
  type TestEnv,
} from './test-env.js';
