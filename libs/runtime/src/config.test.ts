import { describe, expect, it } from 'vitest';
import { bool, describeConfig, int, oneOf, optionalInt, parseConfig, port, str, urls } from './config.js';
import { ConfigError } from './errors.js';

const schema = {
  host: str({ env: 'X_HOST', default: '127.0.0.1', description: 'address to bind' }),
  port: port({ env: 'X_PORT', default: 50051, description: 'gRPC port' }),
  workerId: optionalInt({ env: 'X_WORKER_ID', min: 0, max: 1023, description: 'worker id; unset = leased' }),
  verbose: bool({ env: 'X_VERBOSE', default: false, description: 'debug logs' }),
  level: oneOf({ env: 'X_LEVEL', values: ['debug', 'info'] as const, default: 'info', description: 'log level' }),
  nats: urls({ env: 'X_NATS', default: ['nats://127.0.0.1:4222'], protocols: ['nats', 'tls'], description: 'NATS servers' }),
  secret: str({ env: 'X_SECRET', description: 'required secret', secret: true }),
};

describe('parseConfig', () => {
  it('applies defaults and parses values', () => {
    const c = parseConfig(schema, { X_SECRET: 's', X_PORT: '7000', X_VERBOSE: 'yes', X_NATS: 'nats://a:1, nats://b:2' });
    expect(c).toEqual({ host: '127.0.0.1', port: 7000, workerId: undefined, verbose: true, level: 'info', nats: ['nats://a:1', 'nats://b:2'], secret: 's' });
  });

  it('reports every bad variable by name at once', () => {
    let caught: unknown;
    try {
      parseConfig(schema, { X_PORT: '70000', X_WORKER_ID: '1024', X_VERBOSE: 'maybe', X_LEVEL: 'trace', X_NATS: 'http://x:1' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems).toEqual([
      'X_PORT must be at most 65535, got 70000',
      'X_WORKER_ID must be at most 1023, got 1024',
      'X_VERBOSE must be true or false, got "maybe"',
      'X_LEVEL must be one of debug, info, got "trace"',
      'X_NATS must use nats or tls://, got "http://x:1"',
      'X_SECRET is required',
    ]);
  });

  it('rejects non-integers', () => {
    expect(() => parseConfig({ n: int({ env: 'N', description: 'n' }) }, { N: '1.5' })).toThrow('N must be an integer, got "1.5"');
  });

  it('describes the schema without revealing secrets', () => {
    const text = describeConfig(schema);
    expect(text.split('\n')).toHaveLength(7);
    expect(text).toContain('X_PORT');
    expect(text).toMatch(/X_SECRET\s+\(unset\)\s+required secret/);
    const withSecretDefault = describeConfig({ s: str({ env: 'S', default: 'hunter2', secret: true, description: 'pw' }) });
    expect(withSecretDefault).not.toContain('hunter2');
  });
});
