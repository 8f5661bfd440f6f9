import { describe, expect, it } from 'vitest';
import { FilterBudgetExceeded, meter } from './filter-budget.js';
import { compileLike } from './like.js';

const like = (text: string, pattern: string): boolean => compileLike(pattern).matches(text);

describe('compileLike', () => {
  it.each([
    ['', '', true],
    ['', '%', true],
    ['', '_', false],
    ['abc', 'abc', true],
    ['abc', 'ab', false],
    ['abc', 'a%', true],
    ['abc', '%c', true],
    ['abc', '%b%', true],
    ['abc', 'a_c', true],
    ['abc', '___', true],
    ['abc', '____', false],
    ['aa', 'a%a', true],
    ['a', 'a%a', false],
    ['abcabc', '%bc%bc', true],
    ['abab', '%ab%ab%ab%', false],
    ['a%b', 'a\\%b', true],
    ['axb', 'a\\%b', false],
    ['a_b', 'a\\_b', true],
    ['axb', 'a\\_b', false],
    ['a\\b', 'a\\\\b', true],
    ['xa', '\\xa', true],
    ['😀x', '_x', true],
    ['é', '_', true],
    ['mississippi', '%ss%ss%', true],
    ['mississippi', '%ss%ss%ss%', false],
    ['mississippi', 'm%i_s%pi', true],
  ])('%j LIKE %j is %j', (text, pattern, expected) => {
    expect(like(text, pattern)).toBe(expected);
  });

  it('refuses a pattern that ends with the escape character', () => {
    expect(() => compileLike('ab\\')).toThrow('a LIKE pattern must not end with the escape character \\');
  });

  it('matches the pathological pattern of issue 10 on 100 KB in milliseconds', () => {
    const pattern = `${'%a'.repeat(30)}%b`;
    const text = 'a'.repeat(100_000);
    const started = performance.now();
    expect(like(text, pattern)).toBe(false);
    expect(like(`${text}b`, pattern)).toBe(true);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('is O(n·m) when segments hold `_` and nearly match everywhere', () => {
    const pattern = `%${'a'.repeat(50)}_b%`;
    const text = 'a'.repeat(100_000);
    const started = performance.now();
    expect(like(text, pattern)).toBe(false);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('charges its comparisons to the meter and stops when it runs out', () => {
    const pattern = compileLike(`%${'a'.repeat(50)}b%`);
    const text = 'a'.repeat(10_000);
    expect(() => pattern.matches(text, meter(100_000))).toThrow(FilterBudgetExceeded);
    expect(pattern.matches(text, meter(1_000_000))).toBe(false);
  });
});
