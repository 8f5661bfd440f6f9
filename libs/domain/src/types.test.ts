import { describe, expect, it } from 'vitest';
import { isAdminRole, NAME_PATTERN, ROLES, USER_ID_PATTERN } from './index.js';

describe('isAdminRole', () => {
  it('holds for dba and system only', () => {
    expect(ROLES.filter(isAdminRole)).toEqual(['dba', 'system']);
  });
});

describe('naming rules', () => {
  it('accept 1 to 63 letters, digits and underscores as names, plus hyphens in user ids', () => {
    expect(['a', 'app_1', 'x'.repeat(63)].every((n) => NAME_PATTERN.test(n))).toBe(true);
    expect(['', 'x'.repeat(64), 'a-b', 'a.b', 'a b', 'é'].some((n) => NAME_PATTERN.test(n))).toBe(false);
    expect(USER_ID_PATTERN.test('user-1')).toBe(true);
    expect(['', 'u'.repeat(64), 'a.b', 'a*'].some((n) => USER_ID_PATTERN.test(n))).toBe(false);
  });
});
