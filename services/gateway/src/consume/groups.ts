// Consumer groups in the KV bucket `<prefix>_consumers` (lanes.ts has the state and its rules):
// creating a group within the per-table limit, and changing one by compare-and-set, retried
// with jitter when another gateway changed it first (a bounded number of times).
import type { KV } from '@nats-io/kv';
import { ProtocolError } from '@seqline/protocol';
import { sleep } from '@seqline/runtime';
import { groupKey, newGroup, parseGroupState, tableGroupsFilter, type GroupId, type GroupState } from './lanes.js';

/** Compare-and-set attempts before a change of a group is given up (UNAVAILABLE). */
const CAS_ATTEMPTS = 20;

export interface GroupLimits {
  readonly lanes: number;
  readonly maxGroupsPerTable: number;
}

export class GroupStore {
  readonly #kv: KV;
  readonly #limits: GroupLimits;
  readonly #now: () => number;

  constructor(kv: KV, limits: GroupLimits, now: () => number) {
    this.#kv = kv;
    this.#limits = limits;
    this.#now = now;
  }

  async get(id: GroupId): Promise<GroupState | undefined> {
    const entry = await this.#kv.get(groupKey(id));
    return entry === null || entry.operation !== 'PUT' ? undefined : parseGroupState(entry.string());
  }

  /** The group, created starting after stream sequence `floor()` when it does not exist (within the table's group limit). */
  async ensure(id: GroupId, floor: () => Promise<number>): Promise<GroupState> {
    const existing = await this.get(id);
    if (existing !== undefined) return existing;
    const state = newGroup(id, this.#limits.lanes, await floor(), this.#now());
    const key = groupKey(id);
    try {
      await this.#kv.create(key, JSON.stringify(state));
    } catch {
      const raced = await this.get(id); // another worker created it first
      if (raced !== undefined) return raced;
      throw new ProtocolError('UNAVAILABLE', 'the consumer group could not be created; retry');
    }
    // Counted after creating, so two groups created at once cannot both slip under the limit.
    const groups = await this.#count(id);
    if (groups > this.#limits.maxGroupsPerTable) {
      await this.#kv.delete(key).catch(() => undefined);
      throw new ProtocolError('INVALID_PARAMETER', `table ${id.namespace}.${id.table} has ${this.#limits.maxGroupsPerTable} consumer groups already (SEQLINE_CONSUME_MAX_GROUPS); drop one first`);
    }
    return state;
  }

  /**
   * Applies `change` by compare-and-set and returns the state written, or the current state
   * unchanged when `change` answers undefined. NOT_FOUND when the group is gone.
   */
  async update(id: GroupId, change: (state: GroupState, now: number) => GroupState | undefined): Promise<GroupState> {
    const key = groupKey(id);
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const entry = await this.#kv.get(key);
      if (entry === null || entry.operation !== 'PUT') throw new ProtocolError('NOT_FOUND', `consumer group ${id.group} of ${id.namespace}.${id.table} does not exist`);
      const state = parseGroupState(entry.string());
      const next = change(state, this.#now());
      if (next === undefined) return state;
      try {
        await this.#kv.update(key, JSON.stringify(next), entry.revision);
        return next;
      } catch {
        await sleep(5 + Math.floor(Math.random() * 20 * (attempt + 1))); // another gateway wrote first
      }
    }
    throw new ProtocolError('UNAVAILABLE', 'the consumer group is changing too often; retry');
  }

  /** Removes the group; its consumers are the caller's to delete. */
  async drop(id: GroupId): Promise<GroupState | undefined> {
    const state = await this.get(id);
    if (state !== undefined) await this.#kv.delete(groupKey(id));
    return state;
  }

  async #count(id: GroupId): Promise<number> {
    let n = 0;
    for await (const _key of await this.#kv.keys(tableGroupsFilter(id.namespace, id.table))) n++;
    return n;
  }
}
