// Latency percentiles and a closed/open-loop load driver for the benchmarks.
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export interface LoadResult {
  readonly ok: number;
  readonly failed: number;
  readonly seconds: number;
  readonly p50: number;
  readonly p99: number;
}

/** `concurrency` lanes each running `op` back to back for `ms`. */
export async function closedLoop(op: (i: number) => Promise<boolean>, concurrency: number, ms: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let failed = 0;
  let i = 0;
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const ok = await op(i++);
        if (ok) latencies.push(performance.now() - t0);
        else failed++;
      }
    }),
  );
  return summarize(latencies, failed, (performance.now() - start) / 1000);
}

/** Starts `op` at a fixed `rate` per second for `ms` (open loop: a slow answer does not slow the offered load). */
export async function openLoop(op: (i: number) => Promise<boolean>, rate: number, ms: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let failed = 0;
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  const total = Math.round((rate * ms) / 1000);
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    inflight.push(
      op(i).then((ok) => {
        if (ok) latencies.push(performance.now() - t0);
        else failed++;
      }),
    );
  }
  await Promise.all(inflight);
  return summarize(latencies, failed, (performance.now() - start) / 1000);
}

function summarize(latencies: number[], failed: number, seconds: number): LoadResult {
  latencies.sort((a, b) => a - b);
  return { ok: latencies.length, failed, seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}
