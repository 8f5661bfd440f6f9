// The nemesis: injects one fault at a time into the chaos cluster, picked by the seeded random
// source, and records each as fault-start / fault-end in the history. Kinds:
//
//   kill        SIGKILL a service (gateway, write, storage replica, sequencer), restart it later
//   pause       SIGSTOP a service for seconds, then SIGCONT (a GC pause, a frozen VM)
//   nats-kill   SIGKILL one NATS node, restart it on the same store (it catches up from peers)
//   nats-partition  cut one NATS node's routes to the others, then heal
//   pg-restart  restart PostgreSQL (every connection cut, every in-flight transaction lost)
//   clock-skew  set one sequencer's clock back or forward by seconds, then restore it
//
// A fault lasts `min..max` ms; between faults the cluster gets a quiet gap. Every fault is undone
// before the next starts, so at most one is active (the campaign measures recovery from each).
import { pause } from '@seqline/testkit';
import type { ChaosCluster, ServiceName } from './cluster.js';
import { retry, SERVICE_NAMES } from './cluster.js';
import type { HistoryWriter } from './history.js';

export const FAULT_KINDS = ['kill', 'pause', 'nats-kill', 'nats-partition', 'pg-restart', 'clock-skew'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface NemesisOptions {
  readonly cluster: ChaosCluster;
  readonly history: HistoryWriter;
  readonly random: () => number;
  /** Shortest and longest time a fault stays active (ms). */
  readonly durationMs?: readonly [number, number];
  /** Quiet time between faults (ms). */
  readonly gapMs?: readonly [number, number];
  readonly log?: (line: string) => void;
  /** The kinds to inject (default: all of FAULT_KINDS). */
  readonly kinds?: readonly FaultKind[];
}

export interface FaultRecord {
  readonly id: string;
  readonly kind: FaultKind;
  readonly target: string;
  readonly startedAt: number;
  readonly endedAt: number;
}

export class Nemesis {
  readonly faults: FaultRecord[] = [];
  readonly #o: NemesisOptions;
  #count = 0;

  constructor(options: NemesisOptions) {
    this.#o = options;
  }

  /** Runs `count` faults (or until `deadline`), cycling through every kind so each occurs. */
  async run(count: number, deadline = Infinity): Promise<void> {
    // Each block of kinds.length faults holds every kind once, in a random order.
    const order = this.#shuffled();
    for (let i = 0; i < count && Date.now() < deadline; i++) {
        if (i % order.length === 0 && i > 0) order.splice(0, order.length, ...this.#shuffled());
      await this.inject(order[i % order.length]!);
      await pause(this.#between(this.#o.gapMs ?? [1000, 3000]));
    }
  }

  async inject(kind: FaultKind): Promise<void> {
    const { cluster, history } = this.#o;
    const id = `f${++this.#count}`;
    const duration = this.#between(this.#o.durationMs ?? [1000, 6000]);
    const target = this.#target(kind);
    const startedAt = Date.now();
    history.append({ type: 'fault-start', t: startedAt, id, kind, target });
    this.#o.log?.(`${id} ${kind} ${target} for ${duration} ms`);
    switch (kind) {
      case 'kill': {
        const service = cluster.services.get(target as ServiceName)!;
        await service.kill();
        await pause(duration);
        await retry(() => service.start());
        break;
      }
      case 'pause': {
        const service = cluster.services.get(target as ServiceName)!;
        service.pause();
        await pause(duration);
        service.resume();
        break;
      }
      case 'nats-kill': {
        const node = cluster.nats.nodes.find((n) => n.name === target)!;
        await node.kill();
        await pause(duration);
        await retry(() => node.restart());
        break;
      }
      case 'nats-partition': {
        const node = cluster.nats.nodes.find((n) => n.name === target)!;
        await node.partition();
        await pause(duration);
        await node.heal();
        break;
      }
      case 'pg-restart':
        await cluster.restartPostgres();
        break;
      case 'clock-skew': {
        const offset = Math.round((this.#o.random() < 0.7 ? -1 : 1) * this.#between([5000, 30_000]));
        await cluster.skewClock(target as 'seq-1' | 'seq-2', offset);
        await pause(duration);
        await cluster.skewClock(target as 'seq-1' | 'seq-2', 0);
        break;
      }
    }
    const endedAt = Date.now();
    history.append({ type: 'fault-end', t: endedAt, id });
    this.faults.push({ id, kind, target, startedAt, endedAt });
  }

  #target(kind: FaultKind): string {
    const pick = <T>(items: readonly T[]): T => items[Math.floor(this.#o.random() * items.length)]!;
    switch (kind) {
      case 'kill':
      case 'pause':
        return pick(SERVICE_NAMES);
      case 'nats-kill':
      case 'nats-partition':
        return pick(this.#o.cluster.nats.nodes.map((n) => n.name));
      case 'pg-restart':
        return 'postgres';
      case 'clock-skew':
        return pick(['seq-1', 'seq-2']);
    }
  }

  #shuffled(): FaultKind[] {
    const kinds = [...(this.#o.kinds ?? FAULT_KINDS)];
    for (let i = kinds.length - 1; i > 0; i--) {
      const j = Math.floor(this.#o.random() * (i + 1));
      [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
    }
    return kinds;
  }

  #between([low, high]: readonly [number, number]): number {
    return Math.round(low + this.#o.random() * (high - low));
  }
}
