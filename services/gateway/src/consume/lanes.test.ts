// The lease rules of consumer groups (lanes.ts): shares, claims, releases, expiry and the
// names that reach JetStream.
import { describe, expect, it } from 'vitest';
import { advanceEpoch, consumerName, groupKey, holds, newGroup, planLeases, release, renew, type GroupState } from './lanes.js';

const ID = { namespace: 'app', table: 'tickets', group: 'billing' };
const LEASE = 1000;
const holders = (s: GroupState): (string | null)[] => s.lanes.map((l) => l.holder);

describe('planLeases', () => {
  it('gives a lone worker every lane, and a second one half of them once the first fetches again', () => {
    const first = planLeases(newGroup(ID, 4, 0, 0), 'a', 0, LEASE);
    expect(first.mine).toEqual([0, 1, 2, 3]);
    const second = planLeases(first.state, 'b', 10, LEASE); // every lane is a's for now
    expect(second.mine).toEqual([]);
    const again = planLeases(second.state, 'a', 20, LEASE); // a sees two workers: keeps 0 and 1
    expect(again.mine).toEqual([0, 1]);
    const split = planLeases(again.state, 'b', 30, LEASE);
    expect(split.mine).toEqual([2, 3]);
    expect(holders(split.state)).toEqual(['a', 'a', 'b', 'b']);
  });

  it('hands a dead worker\'s lanes to the others only after its lease ran out', () => {
    let s = planLeases(newGroup(ID, 2, 0, 0), 'a', 0, LEASE).state;
    s = planLeases(s, 'b', 0, LEASE).state;
    s = planLeases(s, 'a', 0, LEASE).state;
    s = planLeases(s, 'b', 0, LEASE).state;
    expect(holders(s)).toEqual(['a', 'b']);
    expect(planLeases(s, 'b', 1000, LEASE).mine).toEqual([1]); // a's lease runs until 1000 inclusive
    const after = planLeases(s, 'b', 1001, LEASE);
    expect(after.mine).toEqual([0, 1]);
    expect(Object.keys(after.state.workers)).toEqual(['b']);
  });

  it('lets a worker hold at most its share, and three workers settle on one lane each', () => {
    let s = newGroup(ID, 3, 0, 0);
    for (let t = 0; t < 12; t++) {
      const worker = ['a', 'b', 'c'][t % 3]!;
      const plan = planLeases(s, worker, t * 10, LEASE);
      expect(plan.mine.length).toBeLessThanOrEqual(Math.ceil(3 / Object.keys(plan.state.workers).length));
      s = plan.state;
    }
    expect(holders(s).sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('release, renew, epochs', () => {
  it('frees a leaving worker\'s lanes at once', () => {
    const s = planLeases(newGroup(ID, 2, 0, 0), 'a', 0, LEASE).state;
    const left = release(s, 'a');
    expect(holders(left)).toEqual([null, null]);
    expect(left.workers).toEqual({});
    expect(planLeases(left, 'b', 1, LEASE).mine).toEqual([0, 1]);
  });

  it('holds only at the current epoch and while the lease runs', () => {
    let s = planLeases(newGroup(ID, 1, 7, 0), 'a', 0, LEASE).state;
    expect(holds(s, 'a', 0, 0, 500)).toBe(true);
    s = advanceEpoch(s, 0, 42);
    expect(s.lanes[0]).toMatchObject({ epoch: 1, floor: 42 });
    expect(holds(s, 'a', 0, 0, 500)).toBe(false);
    expect(holds(s, 'a', 0, 1, 1001)).toBe(false);
    expect(holds(renew(s, 'a', 0, 900, LEASE), 'a', 0, 1, 1500)).toBe(true);
    expect(advanceEpoch(s, 0, 3).lanes[0]!.floor).toBe(42); // a floor never moves back
  });

  it('names consumers by a digest of the group, so no group name reaches another group\'s consumer', () => {
    expect(groupKey(ID)).toBe('g.app.tickets.billing');
    const name = consumerName(ID, 2, 5);
    expect(name).toMatch(/^sqc_[0-9a-f]{24}_2_5$/);
    expect(consumerName({ ...ID, group: 'billing_2' }, 2, 5)).not.toBe(name);
    expect(consumerName({ namespace: 'a_b', table: 'c', group: 'd' }, 0, 0)).not.toBe(consumerName({ namespace: 'a', table: 'b_c', group: 'd' }, 0, 0));
  });
});
