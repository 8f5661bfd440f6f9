import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { memoryLogger } from './log.js';
import { EXIT, runService, type Service } from './service.js';

function fakeService(calls: string[], fail?: Error): Service & { finish(): void } {
  let finish = (): void => {};
  const running = new Promise<void>((resolve, reject) => {
    finish = () => (fail ? reject(fail) : resolve());
  });
  return {
    id: 'fake',
    run: () => running,
    drain: async () => void calls.push('drain'),
    stop: async () => {
      calls.push('stop');
      finish();
    },
    finish,
  };
}

describe('runService', () => {
  it('drains then stops on SIGTERM and exits 0', async () => {
    const calls: string[] = [];
    const signals = new EventEmitter();
    const exit = runService(async () => fakeService(calls), { logger: memoryLogger(), signals });
    await Promise.resolve();
    await Promise.resolve();
    signals.emit('SIGTERM');
    expect(await exit).toBe(EXIT.ok);
    expect(calls).toEqual(['drain', 'stop']);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('exits with EX_CONFIG and names the variable on a configuration error', async () => {
    const logger = memoryLogger();
    const code = await runService(() => Promise.reject(new ConfigError(['X_PORT must be at most 65535, got 70000'])), { logger });
    expect(code).toBe(EXIT.config);
    expect(logger.records[0]?.['problems']).toEqual(['X_PORT must be at most 65535, got 70000']);
  });

  it('exits 1 when the service fails while running', async () => {
    const calls: string[] = [];
    const svc = fakeService(calls, new Error('lost lease'));
    const logger = memoryLogger();
    const exit = runService(async () => svc, { logger, signals: new EventEmitter() });
    svc.finish();
    expect(await exit).toBe(EXIT.failure);
    expect(logger.records.map((r) => r['msg'])).toEqual(['service failed']);
  });
});
