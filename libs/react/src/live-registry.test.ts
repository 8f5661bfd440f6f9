// reuseRows and liveKey: which rows keep their identity, and which queries share a subscription.
import { describe, expect, it } from 'vitest';
import { liveKey, reuseRows } from './live-registry.js';

describe('reuseRows', () => {
  const a = { id: 1n, title: 'a', _seq: 10n };
  const b = { id: 2n, title: 'b', _seq: 11n };

  it('returns the previous array when every row is the same object or has the same content', () => {
    const previous = [a, b];
    expect(reuseRows(previous, [a, b])).toBe(previous);
    expect(reuseRows(previous, [{ _seq: 10n, title: 'a', id: 1n }, b])).toBe(previous); // key order does not matter
  });

  it('keeps unchanged rows and takes changed, new and reordered ones', () => {
    const changed = { id: 2n, title: 'B', _seq: 12n };
    const out = reuseRows([a, b], [{ ...a }, changed]);
    expect(out[0]).toBe(a);
    expect(out[1]).toBe(changed);
    const reordered = reuseRows([a, b], [b, a]);
    expect(reordered).toEqual([b, a]);
    expect(reordered[0]).toBe(b);
    expect(reuseRows([a, b], [a])).toEqual([a]);
  });

  it('tells a bigint from the string of its digits', () => {
    const text = { id: '1', title: 'a', _seq: 10n };
    expect(reuseRows([a], [{ ...a, id: '1n' }])[0]).not.toBe(a);
    expect(reuseRows([a], [text])[0]).toBe(text);
  });
});

describe('liveKey', () => {
  it('is the same for equal SQL, parameters and options, and differs otherwise', () => {
    expect(liveKey('SELECT 1', [1n, 'x'], {})).toBe(liveKey('SELECT 1', [1n, 'x'], {}));
    expect(liveKey('SELECT 1', [1n], {})).not.toBe(liveKey('SELECT 1', ['1'], {}));
    expect(liveKey('SELECT 1', [], { limit: 5 })).not.toBe(liveKey('SELECT 1', [], {}));
    expect(liveKey('SELECT 1', [], { keyColumns: ['id'] })).not.toBe(liveKey('SELECT 1', [], {}));
  });
});
