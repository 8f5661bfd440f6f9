import { describe, expect, it } from 'vitest';
import { RunningState } from './running-state.js';
import { ServiceHost } from './service-host.js';

class Probe extends ServiceHost<{ port: number }> {
  readonly id = 'probe';
  readonly calls: string[] = [];
  constructor(private readonly startError?: Error) {
    super(new RunningState('probe'));
  }
  protected async startUp(): Promise<{ port: number }> {
    this.calls.push('startUp');
    if (this.startError) throw this.startError;
    return { port: 1234 };
  }
  protected async shutdown(): Promise<void> {
    this.calls.push('shutdown');
  }
  crash(err: Error): void {
    this.fail(err);
  }
}

describe('ServiceHost', () => {
  it('starts once, reports ready, and stops once however often stop is called', async () => {
    const s = new Probe();
    const running = s.run();
    expect(s.run()).toBe(running);
    expect(await s.ready).toEqual({ port: 1234 });
    await Promise.all([s.stop(), s.stop(), s.drain()]);
    await running;
    expect(s.calls).toEqual(['startUp', 'shutdown']);
  });

  it('rejects ready and run with the start-up error, after shutting down what was acquired', async () => {
    const s = new Probe(new Error('no NATS'));
    await expect(s.run()).rejects.toThrow('no NATS');
    await expect(s.ready).rejects.toThrow('no NATS');
    expect(s.calls).toEqual(['startUp', 'shutdown']);
  });

  it('makes run reject with a failure that happens while serving', async () => {
    const s = new Probe();
    const running = s.run();
    await s.ready;
    s.crash(new Error('lease lost'));
    await expect(running).rejects.toThrow('lease lost');
    expect(s.calls).toEqual(['startUp', 'shutdown']);
  });
});
