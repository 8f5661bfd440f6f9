import { projectConfig } from '../../vitest.shared.ts';

// The client's tests need only a local gRPC server, not NATS or PostgreSQL.
export default projectConfig(import.meta.dirname, { services: false });
