// Change consumers for backend workers (docs/architecture.md §4a, docs/protocol.md §2 "Change
// consumers"). A `service` or `system` account consumes every change of a table, across all
// owners, as a member of a named consumer group: at least once, in order per owner, with
// acknowledgements, redelivery after a deadline and a position that survives restarts of
// workers and gateways. Built on JetStream durable consumers over the change log, not on the
// gateway's live tail.
//
// Design. A group has N lanes (SEQLINE_CONSUME_LANES when it is made); an owner's changes always
// go to lane FNV-1a(owner) mod N, and each lane is one durable JetStream consumer (lane-reader.ts).
// A lane is leased to one worker at a time (lanes.ts: each worker holds its share of lanes,
// renewed by its fetches and acks, and expiring SEQLINE_CONSUME_ACK_WAIT_MS after the last), and
// serves one batch at a time: a lane with unacknowledged changes is rewound to its ack floor
// before anything newer is handed out. So one owner's changes are processed by one worker at a
// time, in `_seq` order, and a change is never handed out after a later change of its owner was
// acknowledged. JetStream alone cannot give that to several workers pulling one consumer (its
// redeliveries come after newer messages, and it has no per-key ack window), hence the lanes.
//
// Costs, said plainly: every lane consumer reads the table's whole change stream and skips the
// other lanes' changes (N reads of each change per group); the group's state is one KV value
// changed by compare-and-set on every fetch (fine for a handful of workers per group, not
// hundreds); a rewind makes a new JetStream consumer.
import type { KV } from '@nats-io/kv';
import { RequestError, type NatsConnection } from '@nats-io/transport-node';
import type { Catalog, Role } from '@seqline/domain';
import { ProtocolError, type AckRequest, type ConsumeRequest, type ConsumeResponse, type ReleaseRequest } from '@seqline/protocol';
import { sleep } from '@seqline/runtime';
import { checkReadAccess, SqlError } from '@seqline/sql';
import type { Caller } from '../backend.js';
import { GroupStore } from './groups.js';
import { LaneReader, MIN_PULL_MS } from './lane-reader.js';
import { planLeases, release, renew, type GroupId } from './lanes.js';
import { AckTokens } from './token.js';

export interface ConsumeLimits {
  /** A lease (and an unacknowledged batch) lasts this long after the worker's last fetch or ack. */
  readonly ackWaitMs: number;
  /** Lanes of a new group. */
  readonly lanes: number;
  readonly maxGroupsPerTable: number;
  /** Changes per fetch at most (and the default). */
  readonly maxFetch: number;
  /** The longest a fetch waits for a first change. */
  readonly maxWaitMs: number;
}

export interface ChangeConsumersOptions {
  readonly nc: NatsConnection;
  readonly kv: KV;
  readonly stream: string;
  readonly filter: (namespace: string, table: string) => string;
  readonly catalog: Catalog & { refresh(): Promise<void> };
  /** The gateways' shared secret (SEQLINE_JWT_SECRET): ack tokens are signed with a key derived from it. */
  readonly secret: string;
  readonly limits: ConsumeLimits;
  /** Wall clock, ms (leases are compared across gateways). */
  readonly now: () => number;
}

/** Roles that may consume every owner's changes. */
const CONSUMER_ROLES: readonly Role[] = ['service', 'system'];
/** Look-ups of the group per fetch, at most (each may skip other lanes' changes or wait). */
const ROUNDS = 50;
/** How long an ack waits for JetStream's confirmation. */
const ACK_TIMEOUT_MS = 5000;

export class ChangeConsumers {
  readonly #o: ChangeConsumersOptions;
  readonly #groups: GroupStore;
  readonly #reader: LaneReader;
  readonly #tokens: AckTokens;

  private constructor(options: ChangeConsumersOptions, groups: GroupStore, reader: LaneReader, tokens: AckTokens) {
    this.#o = options;
    this.#groups = groups;
    this.#reader = reader;
    this.#tokens = tokens;
  }

  static async create(options: ChangeConsumersOptions): Promise<ChangeConsumers> {
    const { limits } = options;
    const groups = new GroupStore(options.kv, { lanes: limits.lanes, maxGroupsPerTable: limits.maxGroupsPerTable }, options.now);
    const tokens = new AckTokens(options.secret);
    const reader = await LaneReader.create(options.nc, groups, tokens, { stream: options.stream, filter: options.filter, ackWaitMs: limits.ackWaitMs, maxFetch: limits.maxFetch }, options.now);
    return new ChangeConsumers(options, groups, reader, tokens);
  }

  /** The next batch of one of the worker's lanes (possibly empty after `wait_ms`). */
  async fetch(caller: Caller, request: ConsumeRequest): Promise<ConsumeResponse> {
    const id = await this.#admit(caller, request);
    const { limits } = this.#o;
    const limit = Math.min(request.limit ?? limits.maxFetch, limits.maxFetch);
    const deadline = this.#o.now() + Math.min(request.wait_ms ?? 0, limits.maxWaitMs);
    const group = await this.#groups.ensure(id, async () => (request.start === 'earliest' ? 0 : await this.#reader.streamEnd()));
    const answer = (lane: number | null, changes: ConsumeResponse['changes'] = []): ConsumeResponse => ({ table: `${id.namespace}.${id.table}`, group: id.group, lane, lanes: group.lanes.length, changes });
    for (let round = 0; round < ROUNDS; round++) {
      let mine: readonly number[] = [];
      const state = await this.#groups.update(id, (s, now) => {
        const plan = planLeases(s, request.worker, now, limits.ackWaitMs);
        mine = plan.mine;
        return plan.state;
      });
      const remaining = deadline - this.#o.now();
      if (mine.length === 0) {
        if (remaining <= 0) return answer(null);
        await sleep(Math.min(remaining, limits.ackWaitMs / 4, 1000)); // every lane is leased: look again soon
        continue;
      }
      const start = Math.floor(Math.random() * mine.length);
      const order = [...mine.slice(start), ...mine.slice(0, start)];
      let skipped = false;
      for (const lane of order) {
        const ref = { ...id, lane, lanes: state.lanes.length, worker: request.worker, state: state.lanes[lane]! };
        const taken = await this.#reader.take(ref, limit, 0);
        if (taken.changes.length > 0) return answer(lane, taken.changes);
        skipped ||= taken.skipped;
      }
      if (skipped) continue;
      if (remaining <= 0) return answer(order[0]!);
      // Wait on one lane (a pull waits a second at least), for less than a lease, then look at the group again.
      const lane = order[0]!;
      const wait = Math.max(MIN_PULL_MS, Math.min(remaining, limits.ackWaitMs / 2));
      const taken = await this.#reader.take({ ...id, lane, lanes: state.lanes.length, worker: request.worker, state: state.lanes[lane]! }, limit, wait);
      if (taken.changes.length > 0) return answer(lane, taken.changes);
    }
    return answer(null);
  }

  /** Acknowledges a change and every earlier change of its lane (or, with `nak`, rewinds the lane so it comes again). */
  async ack(caller: Caller, request: AckRequest): Promise<void> {
    this.#checkRole(caller);
    const target = this.#tokens.verify(request.token);
    if (target === undefined) throw new ProtocolError('INVALID_INPUT', 'token is not an ack token of this deployment');
    const ref = { namespace: target.namespace, table: target.table, group: target.group, lane: target.lane, lanes: 0, worker: target.worker };
    if (request.nak === true) {
      if (!(await this.#reader.rewindHeld(ref, target.epoch))) throw leaseExpired();
      return;
    }
    try {
      await this.#o.nc.request(target.reply, '+ACK', { timeout: ACK_TIMEOUT_MS });
    } catch (err) {
      if (err instanceof RequestError && err.isNoResponders()) throw leaseExpired(); // rewound: that consumer is gone
      throw new ProtocolError('UNAVAILABLE', 'the acknowledgement was not confirmed; send it again', { cause: err });
    }
    await this.#groups.update(ref, (s, now) => (s.lanes[target.lane]?.holder === target.worker ? renew(s, target.worker, target.lane, now, this.#o.limits.ackWaitMs) : undefined)).catch(() => undefined);
  }

  /** The worker leaves the group: its lanes go to the other workers at once. */
  async release(caller: Caller, request: ReleaseRequest): Promise<void> {
    const id = await this.#admit(caller, request);
    await this.#groups.update(id, (s) => (Object.hasOwn(s.workers, request.worker) || s.lanes.some((l) => l.holder === request.worker) ? release(s, request.worker) : undefined)).catch((err: unknown) => {
      if (!(err instanceof ProtocolError && err.code === 'NOT_FOUND')) throw err;
    });
  }

  /** Drops the group: its position is gone, a later fetch makes it afresh. */
  async drop(caller: Caller, request: Omit<ReleaseRequest, 'worker'>): Promise<boolean> {
    const id = await this.#admit(caller, request);
    const state = await this.#groups.drop(id);
    if (state !== undefined) await this.#reader.deleteConsumers(id, state.lanes);
    return state !== undefined;
  }

  #checkRole(caller: Caller): void {
    if (!CONSUMER_ROLES.includes(caller.role)) throw new ProtocolError('PERMISSION_DENIED', `consuming changes needs a service or system account; ${caller.userId} is ${caller.role}`);
  }

  /** The caller may consume the table: a consumer role, a table that exists and that the role may read. */
  async #admit(caller: Caller, request: { readonly table: { readonly namespace: string; readonly table: string }; readonly group: string }): Promise<GroupId> {
    this.#checkRole(caller);
    const { namespace, table } = request.table;
    let def = this.#o.catalog.table(namespace, table);
    if (def === undefined) {
      await this.#o.catalog.refresh();
      def = this.#o.catalog.table(namespace, table);
    }
    if (def === undefined || namespace === 'system') throw new ProtocolError('TABLE_NOT_FOUND', `table ${namespace}.${table} does not exist`);
    try {
      checkReadAccess(def, caller);
    } catch (err) {
      if (err instanceof SqlError) throw new ProtocolError('PERMISSION_DENIED', err.message);
      throw err;
    }
    return { namespace, table, group: request.group };
  }
}

function leaseExpired(): ProtocolError {
  return new ProtocolError('LEASE_EXPIRED', 'this lane was handed to another worker or rewound since the change was fetched; it will be delivered again');
}
