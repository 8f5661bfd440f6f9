// The short fault campaign of `npm test` (issue 12): ten faults of every kind, with a fixed seed,
// on the local multi-process cluster while writers and subscribers run; the checker must find
// nothing. The long documented run is `npm run chaos -- --faults 120` (README, "Fault campaign").
// A failure leaves its history and every process's log under the printed directory; replay it
// with `npm run chaos -- --seed 20261203 --faults 10`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCampaign } from './campaign.js';
import { FAULT_KINDS } from './nemesis.js';

const SEED = Number(process.env['SEQLINE_CHAOS_SEED'] ?? 20_261_203);

describe('a short fault campaign', () => {
  it('injects 10 faults of every kind under load and the checker finds no violation', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seqline-chaos-'));
    const run = await runCampaign({ dir, seed: SEED, faults: 10, durationMs: [1000, 3000], gapMs: [500, 1500], boundMs: 30_000 });
    const kinds = new Set(run.faults.map((f) => f.kind));
    const summary = { violations: run.result.violations.map((v) => `${v.kind}: ${v.message}`), faults: run.faults.length, kinds: [...kinds].sort() };
    expect(summary, `history in ${run.historyPath}`).toEqual({ violations: [], faults: 10, kinds: [...FAULT_KINDS].sort() });
    // The run did real work: acknowledged writes, deliveries and resumes, and it converged.
    expect(run.result.stats.writes.ok).toBeGreaterThan(100);
    expect(run.result.stats.deliveries).toBeGreaterThan(100);
    expect(run.result.stats.resumes).toBeGreaterThan(5);
    expect(run.result.stats.convergeMs).not.toBeNull();
    await rm(dir, { recursive: true, force: true });
  }, 240_000);
});
