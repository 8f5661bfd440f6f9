// The gateway's backend addresses: host:port as before, and gRPC targets that name several
// storage or write instances; anything else is refused at start-up with the variable's name.
import { ConfigError, parseConfig } from '@seqline/runtime';
import { describe, expect, it } from 'vitest';
import { gatewayConfigSchema } from './config.js';

const base = { SEQLINE_JWT_SECRET: 'x'.repeat(64) };

describe('SEQLINE_STORAGE_ADDR / SEQLINE_WRITE_ADDR', () => {
  it.each(['127.0.0.1:50052', 'storage:50052', '[::1]:50052', 'dns:///storage-headless:50052', 'dns:storage:50052', 'ipv4:127.0.0.1:1,127.0.0.1:2'])('accepts %s', (addr) => {
    const config = parseConfig(gatewayConfigSchema, { ...base, SEQLINE_STORAGE_ADDR: addr, SEQLINE_WRITE_ADDR: addr });
    expect([config.storageAddr, config.writeAddr]).toEqual([addr, addr]);
  });

  it.each(['storage', 'http://storage:50052', 'ipv4:storage:1', 'ipv4:127.0.0.1:1,', 'storage:50052 ', 'dns:///a b:1'])('refuses %j', (addr) => {
    expect(() => parseConfig(gatewayConfigSchema, { ...base, SEQLINE_STORAGE_ADDR: addr })).toThrow(ConfigError);
    expect(() => parseConfig(gatewayConfigSchema, { ...base, SEQLINE_STORAGE_ADDR: addr })).toThrow(/SEQLINE_STORAGE_ADDR/);
  });
});
