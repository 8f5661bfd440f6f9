import { describe, expect, it } from 'vitest';
import { createLogger } from './log.js';

describe('createLogger', () => {
  it('writes one JSON object per line with bound fields, filtered by level', () => {
    const lines: string[] = [];
    const log = createLogger({ service: 'seq', level: 'info', sink: (l) => lines.push(l), now: () => new Date(0) });
    log.debug('hidden');
    log.child({ workerId: 3 }).info('started', { port: 50051, last: 5n });
    expect(lines).toEqual(['{"time":"1970-01-01T00:00:00.000Z","level":"info","service":"seq","msg":"started","workerId":3,"port":50051,"last":"5"}']);
  });

  it('serializes errors with name, message and code', () => {
    const lines: string[] = [];
    const log = createLogger({ service: 's', sink: (l) => lines.push(l) });
    log.error('boom', { err: Object.assign(new Error('bad'), { code: 'E1' }) });
    const record = JSON.parse(lines[0] ?? '{}') as { err: { name: string; message: string; code: string; stack: string } };
    expect(record.err.name).toBe('Error');
    expect(record.err.message).toBe('bad');
    expect(record.err.code).toBe('E1');
    expect(record.err.stack).toContain('log.test.ts');
  });
});
