// Smoke run of the SDK benchmark: it must keep working and load every row.
import { describe, expect, it } from 'vitest';
import { runSdkBench } from './bench.ts';

describe('sdk benchmark (smoke)', () => {
  it('loads the whole snapshot into live() and reads it directly', async () => {
    const r = await runSdkBench({ smoke: true });
    expect(r.rows).toBe(5000);
    expect(r.liveMs).toBeGreaterThan(0);
    expect(r.firstRowsMs).toBeGreaterThan(0);
    expect(r.firstRowsMs).toBeLessThanOrEqual(r.liveMs);
    expect(r.directMs).toBeGreaterThan(0);
  });
});
