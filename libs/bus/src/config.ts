// Configuration fields every service that talks to JetStream declares the same way.
import { int } from '@seqline/runtime';

/** Replicas of every JetStream stream and key-value bucket a service creates (3 on a 3-node cluster). */
export const natsReplicasField = int({
  env: 'SEQLINE_NATS_REPLICAS',
  default: 1,
  min: 1,
  max: 5,
  description: 'replicas of every JetStream stream and key-value bucket the service creates (1 on a single nats-server; 3 on a 3-node cluster); existing ones are moved to this count',
});
