import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.js';

function limiter(capacity: number, tokens: number, periodMs = 1000, maxKeys?: number) {
  const clock = { now: 1_000_000 };
  const rl = new RateLimiter({ capacity, refill: { tokens, periodMs }, now: () => clock.now, ...(maxKeys === undefined ? {} : { maxKeys }) });
  return { rl, clock };
}

describe('RateLimiter', () => {
  it('allows a full burst, then refuses with the exact wait', () => {
    const { rl } = limiter(3, 1);
    expect(rl.take('a')).toEqual({ ok: true, remaining: 2 });
    expect(rl.take('a')).toEqual({ ok: true, remaining: 1 });
    expect(rl.take('a')).toEqual({ ok: true, remaining: 0 });
    expect(rl.take('a')).toEqual({ ok: false, retryAfterMs: 1000 });
  });

  it('refills continuously at the configured rate', () => {
    const { rl, clock } = limiter(200, 100); // SEQLINE_QUERY_RATE=100, burst 2×
    for (let i = 0; i < 200; i++) expect(rl.take('u').ok).toBe(true);
    expect(rl.take('u')).toEqual({ ok: false, retryAfterMs: 10 });
    clock.now += 9;
    expect(rl.take('u')).toEqual({ ok: false, retryAfterMs: 1 });
    clock.now += 1;
    expect(rl.take('u')).toEqual({ ok: true, remaining: 0 });
    clock.now += 50; // 5 tokens
    for (let i = 0; i < 5; i++) expect(rl.take('u').ok).toBe(true);
    expect(rl.take('u').ok).toBe(false);
  });

  it('never holds more than the capacity', () => {
    const { rl, clock } = limiter(2, 10);
    rl.take('a');
    clock.now += 3_600_000;
    expect(rl.take('a')).toEqual({ ok: true, remaining: 1 });
    expect(rl.take('a')).toEqual({ ok: true, remaining: 0 });
    expect(rl.take('a').ok).toBe(false);
  });

  it('supports per-minute rates (20 a minute = one every 3 s)', () => {
    const { rl, clock } = limiter(20, 20, 60_000);
    for (let i = 0; i < 20; i++) expect(rl.take('10.0.0.1').ok).toBe(true);
    expect(rl.take('10.0.0.1')).toEqual({ ok: false, retryAfterMs: 3000 });
    clock.now += 3000;
    expect(rl.take('10.0.0.1').ok).toBe(true);
  });

  it('keeps keys apart', () => {
    const { rl } = limiter(1, 1);
    expect(rl.take('a').ok).toBe(true);
    expect(rl.take('a').ok).toBe(false);
    expect(rl.take('b').ok).toBe(true);
  });

  it('does not let a refused request cost a token', () => {
    const { rl, clock } = limiter(1, 1);
    rl.take('a');
    for (let i = 0; i < 5; i++) expect(rl.take('a').ok).toBe(false);
    clock.now += 1000;
    expect(rl.take('a').ok).toBe(true);
  });

  it('drops idle keys (buckets full again) as it goes', () => {
    const { rl, clock } = limiter(2, 1);
    for (const k of ['a', 'b', 'c', 'd']) rl.take(k);
    expect(rl.size).toBe(4);
    clock.now += 1000; // every bucket is full again
    rl.take('e');
    expect(rl.size).toBe(3); // a and b swept, e added
    rl.take('f');
    expect(rl.size).toBe(2); // c and d swept, f added
  });

  it('keeps a drained bucket until it refills', () => {
    const { rl, clock } = limiter(1, 1);
    rl.take('a');
    clock.now += 500;
    rl.take('b');
    expect(rl.take('a').ok).toBe(false);
  });

  it('is bounded by maxKeys, evicting the least recently used key', () => {
    const { rl } = limiter(1, 1, 1_000_000, 3);
    for (const k of ['a', 'b', 'c']) rl.take(k);
    rl.take('a'); // refused, but touched: b is now the oldest
    rl.take('d');
    expect(rl.size).toBe(3);
    expect(rl.take('b').ok).toBe(true); // b was forgotten: a full bucket again
    expect(rl.take('a').ok).toBe(false);
  });

  it('rejects nonsensical options', () => {
    expect(() => new RateLimiter({ capacity: 0, refill: { tokens: 1, periodMs: 1000 }, now: () => 0 })).toThrow(RangeError);
    expect(() => new RateLimiter({ capacity: 1, refill: { tokens: 0, periodMs: 1000 }, now: () => 0 })).toThrow(RangeError);
  });
});
