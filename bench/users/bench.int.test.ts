// Smoke run of the users benchmark: it must keep working, and its counting must be exact: every
// acknowledged change reaches its active user's subscriber once, the baseline evaluates every
// subscription on every change and matches exactly those, and idle users receive nothing.
import { describe, expect, it } from 'vitest';
import { runUsersBench } from './bench.ts';

const ACTIVE = 4; // the smoke configuration: 4 active users, then 3 and 20 idle ones

describe('users benchmark (smoke)', () => {
  it('delivers every change once to its user at each step and measures the gateway and the filter-every-subscriber baseline', async () => {
    const r = await runUsersBench({ smoke: true });
    expect(r.errors).toEqual([]);
    expect(r.idleChanges).toBe(0);
    expect(r.steps.map((s) => s.idle)).toEqual([3, 20]);
    for (const s of r.steps) {
      expect(s.failedWrites).toBe(0);
      expect(s.acked).toBe(s.offered);
      expect(s.expected).toBe(s.acked);
      expect(s.delivered).toBe(s.expected);
      expect(s.duplicates).toBe(0);
      expect(s.foreign).toBe(0);
      expect(s.fromAck.count).toBe(s.delivered);
      expect(s.baseline.changes).toBe(s.acked);
      expect(s.baseline.evaluated).toBe(s.acked * (ACTIVE + s.idle));
      expect(s.baseline.matched).toBe(s.acked);
      expect(s.gatewayCpuMs).toBeGreaterThan(0);
    }
  });
});
