// Smoke run of the live benchmark: it must keep working, and its counting must be exact: every
// acknowledged change reaches each subscriber of its user once, and no one else.
import { describe, expect, it } from 'vitest';
import { runLiveBench, type PhaseResult } from './bench.ts';
import type { WindowPhase } from './window.ts';

const SOCKETS_PER_USER = 2; // the smoke configuration: 4 users, 2 sockets each

function expectExact(p: PhaseResult, subscribersPerChange: number): void {
  expect(p.failedWrites, p.name).toBe(0);
  expect(p.acked, p.name).toBe(p.offered);
  expect(p.fanOut, p.name).toBe(subscribersPerChange);
  expect(p.expected, p.name).toBe(p.acked * subscribersPerChange);
  expect(p.delivered, p.name).toBe(p.expected);
  expect(p.duplicates, p.name).toBe(0);
  expect(p.foreign, p.name).toBe(0);
  expect(p.fromAck.count, p.name).toBe(p.delivered);
}

/** Every change owed reached each of its user's clients once; every client ends with exactly the final window. */
function expectExactWindow(p: WindowPhase, clientsPerUser: number): void {
  expect(p.failedWrites, p.name).toBe(0);
  expect(p.acked, p.name).toBe(p.offered);
  expect(p.expected, p.name).toBeGreaterThan(0);
  expect(p.expected % clientsPerUser, p.name).toBe(0);
  expect(p.delivered, p.name).toBe(p.expected);
  expect(p.duplicates, p.name).toBe(0);
  expect(p.foreign, p.name).toBe(0);
  expect(p.wrongWindows, p.name).toBe(0);
  expect(p.fromAck.count, p.name).toBe(p.delivered);
}

/** A frame with every number (ids, `_seq`, `n`) written as 0: the raw server's frames must have the gateway's form. */
const form = (frame: string | undefined): string | undefined => frame?.replace(/\d+/g, '0');

describe('live benchmark (smoke)', () => {
  it('delivers every change to each of its subscribers exactly once, live, polled, through windows and from the raw ws baseline, resumes exactly, and measures memory', async () => {
    const r = await runLiveBench({ smoke: true });
    expect(r.errors).toEqual([]);
    expect(r.live.offered).toBeGreaterThan(0);
    expectExact(r.live, SOCKETS_PER_USER);
    expectExact(r.polling, SOCKETS_PER_USER);
    expect(r.saturation.map((s) => s.name)).toEqual(['WebSocket subscription', '2 subscriptions per socket']);
    r.saturation.forEach((s, i) => expectExact(s, SOCKETS_PER_USER * (i + 1)));
    // The raw baseline: the same clients, ramp and frames from a bare ws server.
    expect(r.raw.map((s) => s.name)).toEqual(['raw ws, 1 per socket', 'raw ws, 2 per socket']);
    r.raw.forEach((s, i) => expectExact(s, SOCKETS_PER_USER * (i + 1)));
    expect(r.frames.seqline).toMatch(/^\{"type":"change","subscription_id":"s0","change_type":"insert","rows":\[\{"id":"\d{15,19}","body":"message \d+","n":\d+,"_seq":"\d{15,19}"\}\]\}$/);
    expect(form(r.frames.raw)).toBe(form(r.frames.seqline));
    // The plain subscription: one event per change and client; the window: the changes entering at the top.
    expectExactWindow(r.window.plain, SOCKETS_PER_USER);
    expect(r.window.plain.expected).toBe(r.window.plain.acked * SOCKETS_PER_USER);
    expect(r.window.plain.events).toBe(r.window.plain.expected);
    expectExactWindow(r.window.window, SOCKETS_PER_USER);
    expect(r.window.window.windowChanges).toBeGreaterThan(0);
    expect(Number.isInteger(r.window.window.refills)).toBe(true);
    // Resume: per partition, 10 missed changes (8 inserts, an update, a delete) each turn, and the whole partition by snapshot.
    expect(r.resume.rows.map((p) => [p.rows, p.resume.count, p.snapshot.count])).toEqual([
      [107, 10, 107],
      [1007, 10, 1007],
      // The day-old cursor: 10 changes from history (7 inserts, 2 updates, a delete), or 7 rows from the compacted view.
      [6, r.resume.rows[2]!.paths['history'] === 1 ? 10 : 7, 6],
    ]);
    // A few missed changes come from JetStream by direct gets (the walk, within its budget).
    expect(r.resume.rows.map((p) => p.paths)).toEqual([{ history: 1 }, { history: 1 }, r.resume.rows[2]!.paths['history'] === 1 ? { history: 1 } : { compacted: 1 }]);
    expect(r.resume.rows.map((p) => p.liveOnly.count)).toEqual([0, 0, 0]);
    expect(r.resume.rows.slice(0, 2).every((p) => p.snapshot.bytes > p.resume.bytes)).toBe(true);
    expect(r.memory.rssKb.map(([subscriptions]) => subscriptions)).toEqual([0, 5, 20]);
    expect(r.memory.rssKb.every(([, kb]) => kb > 0)).toBe(true);
    expect(r.memory.heapKb.map(([subscriptions]) => subscriptions)).toEqual([0, 5, 20]);
    expect(r.memory.heapKb.every(([, kb]) => kb > 0)).toBe(true);
  });
});
