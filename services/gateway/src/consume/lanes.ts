// A consumer group's state, kept as one JSON value per group in the JetStream KV bucket
// `<prefix>_consumers` under `g.<ns>.<table>.<group>` and changed only by compare-and-set
// (docs/architecture.md §4a). Pure: the functions here take the state and `now` and return the
// next state; groups.ts does the I/O.
//
// A group has N lanes; an owner's changes always go to lane `FNV-1a(owner) mod N`. A lane is
// leased to one worker at a time (`holder` until `until`, wall-clock ms), and each worker holds
// at most its share, ceil(N / live workers), so two workers split the lanes evenly and a new
// worker gets lanes as soon as the others next fetch. A lane's `epoch` names its current
// JetStream consumer (rewinding makes a new one), and `floor` is the stream sequence every
// change at or below which was acknowledged when that consumer was made.
import { createHash } from 'node:crypto';
import { shardOf } from '@seqline/bus';

export interface LaneState {
  readonly epoch: number;
  readonly floor: number;
  readonly holder: string | null;
  readonly until: number;
}

export interface GroupState {
  readonly namespace: string;
  readonly table: string;
  readonly group: string;
  readonly createdAt: number;
  readonly lanes: readonly LaneState[];
  /** Live workers: id → wall-clock ms until which it counts as alive. */
  readonly workers: Readonly<Record<string, number>>;
}

export interface GroupId {
  readonly namespace: string;
  readonly table: string;
  readonly group: string;
}

/** The KV key of a group. Every part is a checked token without dots, so the key is unambiguous. */
export function groupKey(id: GroupId): string {
  return `g.${id.namespace}.${id.table}.${id.group}`;
}

/** The KV filter of every group of a table. */
export function tableGroupsFilter(namespace: string, table: string): string {
  return `g.${namespace}.${table}.*`;
}

/**
 * The JetStream consumer name of a lane at an epoch: a digest of the group's identity, so no
 * choice of names can make two groups share a consumer or address one outside this scheme.
 */
export function consumerName(id: GroupId, lane: number, epoch: number): string {
  const digest = createHash('sha256').update(groupKey(id)).digest('hex').slice(0, 24);
  return `sqc_${digest}_${lane}_${epoch}`;
}

export function laneOf(owner: string, lanes: number): number {
  return shardOf(owner, lanes);
}

export function newGroup(id: GroupId, lanes: number, floor: number, now: number): GroupState {
  return { ...id, createdAt: now, lanes: Array.from({ length: lanes }, () => ({ epoch: 0, floor, holder: null, until: 0 })), workers: {} };
}

const held = (lane: LaneState, now: number): boolean => lane.holder !== null && lane.until >= now;

export interface Plan {
  readonly state: GroupState;
  /** The lanes `worker` holds after this plan, ascending. */
  readonly mine: readonly number[];
}

/**
 * `worker` is alive until now + leaseMs; it keeps the lanes it holds up to its share (releasing
 * the highest ones above it), claims free or expired lanes up to its share, and renews them.
 */
export function planLeases(state: GroupState, worker: string, now: number, leaseMs: number): Plan {
  const workers: Record<string, number> = Object.fromEntries(Object.entries(state.workers).filter(([, until]) => until >= now));
  workers[worker] = now + leaseMs;
  const share = Math.ceil(state.lanes.length / Object.keys(workers).length);
  const lanes = [...state.lanes];
  const mine = lanes.flatMap((lane, i) => (lane.holder === worker && held(lane, now) ? [i] : []));
  while (mine.length > share) {
    const i = mine.pop()!;
    lanes[i] = { ...lanes[i]!, holder: null, until: 0 };
  }
  for (let i = 0; i < lanes.length && mine.length < share; i++) if (!held(lanes[i]!, now)) mine.push(i);
  for (const i of mine) lanes[i] = { ...lanes[i]!, holder: worker, until: now + leaseMs };
  return { state: { ...state, lanes, workers }, mine: mine.sort((a, b) => a - b) };
}

/** `worker` leaves: its lanes are free at once and it no longer counts toward the shares. */
export function release(state: GroupState, worker: string): GroupState {
  const workers = Object.fromEntries(Object.entries(state.workers).filter(([id]) => id !== worker));
  return { ...state, workers, lanes: state.lanes.map((lane) => (lane.holder === worker ? { ...lane, holder: null, until: 0 } : lane)) };
}

/** Whether `worker` holds `lane` at `epoch` now. */
export function holds(state: GroupState, worker: string, lane: number, epoch: number, now: number): boolean {
  const l = state.lanes[lane];
  return l !== undefined && l.holder === worker && l.epoch === epoch && held(l, now);
}

/** The lane moved to a new consumer starting after `floor` (a rewind). */
export function advanceEpoch(state: GroupState, lane: number, floor: number): GroupState {
  return { ...state, lanes: state.lanes.map((l, i) => (i === lane ? { ...l, epoch: l.epoch + 1, floor: Math.max(l.floor, floor) } : l)) };
}

/** The lease of `worker` on `lane` runs until now + leaseMs. */
export function renew(state: GroupState, worker: string, lane: number, now: number, leaseMs: number): GroupState {
  const workers = { ...state.workers, [worker]: now + leaseMs };
  return { ...state, workers, lanes: state.lanes.map((l, i) => (i === lane && l.holder === worker ? { ...l, until: now + leaseMs } : l)) };
}

export function parseGroupState(text: string): GroupState {
  return JSON.parse(text) as GroupState;
}
