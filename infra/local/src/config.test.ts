import { parseConfig } from '@seqline/runtime';
import { describe, expect, it } from 'vitest';
import { localClusterPorts, localStackSchema, parseStartArgs } from './config.js';

describe('npm start arguments', () => {
  it('turns --cluster into SEQLINE_LOCAL_NATS_CLUSTER and leaves the rest of the environment as it is', () => {
    const command = parseStartArgs(['--cluster'], { SEQLINE_DATA_DIR: '/tmp/x' });
    expect(command).toEqual({ kind: 'start', env: { SEQLINE_DATA_DIR: '/tmp/x', SEQLINE_LOCAL_NATS_CLUSTER: 'true' } });
    if (command.kind !== 'start') throw new Error('unreachable');
    expect(parseConfig(localStackSchema, command.env)).toMatchObject({ natsCluster: true, natsPort: 14222, natsClusterPort: 14248, dataDir: '/tmp/x' });
  });

  it('starts one nats-server without flags, unless the environment asks for the cluster', () => {
    expect(parseStartArgs([], { SEQLINE_DATA_DIR: '/tmp/x' })).toEqual({ kind: 'start', env: { SEQLINE_DATA_DIR: '/tmp/x' } });
    expect(parseConfig(localStackSchema, {}).natsCluster).toBe(false);
    expect(parseConfig(localStackSchema, { SEQLINE_LOCAL_NATS_CLUSTER: '1' }).natsCluster).toBe(true);
  });

  it('answers --help and -h, and refuses unknown arguments', () => {
    expect(parseStartArgs(['--help'], {})).toEqual({ kind: 'help' });
    expect(parseStartArgs(['-h', '--cluster'], {})).toEqual({ kind: 'help' });
    expect(() => parseStartArgs(['--clustr'], {})).toThrow(/Unknown option '--clustr'/);
    expect(() => parseStartArgs(['cluster'], {})).toThrow(/Unexpected argument 'cluster'/);
  });

  it('gives the three nodes consecutive client and route ports, or free ones for port 0', () => {
    expect(localClusterPorts({ natsPort: 14222, natsClusterPort: 14248 })).toEqual({ ports: [14222, 14223, 14224], clusterPorts: [14248, 14249, 14250] });
    expect(localClusterPorts({ natsPort: 0, natsClusterPort: 0 })).toEqual({});
  });
});
